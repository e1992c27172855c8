// Malformed HTTP/1.1: a garbage request line, an ambiguous body length (Content-Length with
// Transfer-Encoding: chunked, the request-smuggling shape) and a bad chunk size. The server
// answers 400 or closes, never stores a byte it could not frame, and keeps serving others.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, fileSize, storedFile, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, rawRequest, requestHead, tusHeaders } from './raw.mjs'

let server
before(async () => {
  server = await startServer({ args: ['--quiet', '--read-timeout', '3', '--idle-timeout', '3'] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

async function offsetOf(path) {
  const res = await rawRequest(server.port, 'HEAD', path, tusHeaders)
  assert.equal(res.status, 200)
  return Number(res.headers['upload-offset'])
}

for (const [name, bytes] of [
  ['garbage request line', 'HELLO THERE\r\n\r\n'],
  ['binary junk', '\x00\x01\x02\xff\xfe GET / HTTP/1.1\r\n\r\n'],
  ['bad HTTP version', 'GET /healthz HTTP/9.Z\r\nHost: x\r\n\r\n'],
  ['header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
  ['space before the colon', 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n'],
]) {
  test(`malformed request (${name}) → 400 and close`, async () => {
    const client = await RawClient.connect(server.port)
    try {
      await client.write(Buffer.from(bytes, 'latin1'))
      const res = await client.response()
      assert.equal(res.status, 400, res.rawHead)
      assert.ok(await client.closedWithin(2_000), 'closed after the 400')
    } finally {
      client.destroy()
    }
    assert.equal((await rawRequest(server.port, 'GET', '/healthz')).status, 200, 'still serving')
  })
}

test('Content-Length together with Transfer-Encoding: chunked is rejected with 400 and stores nothing', async () => {
  const url = await createUpload(server.endpoint, 100)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  try {
    await client.write(
      requestHead('PATCH', path, [
        ['Tus-Resumable', '1.0.0'],
        ['Content-Type', 'application/offset+octet-stream'],
        ['Upload-Offset', '0'],
        ['Content-Length', '5'],
        ['Transfer-Encoding', 'chunked'],
      ]) + '5\r\nhello\r\n0\r\n\r\n',
    )
    const res = await client.response()
    assert.equal(res.status, 400, res.rawHead)
    assert.ok(await client.closedWithin(2_000), 'closed after the 400')
  } finally {
    client.destroy()
  }
  assert.equal(await offsetOf(path), 0, 'no byte stored')
  assert.equal(await fileSize(storedFile(server.dataDir, uploadIdOf(url))).catch(() => 0), 0)
})

test('a smuggled second request after CL+TE is never executed', async () => {
  const url = await createUpload(server.endpoint, 100)
  const path = new URL(url).pathname
  const smuggled = requestHead('DELETE', path, tusHeaders)
  const client = await RawClient.connect(server.port)
  try {
    await client.write(
      requestHead('POST', '/files/', [
        ['Tus-Resumable', '1.0.0'],
        ['Upload-Length', '1'],
        ['Content-Length', '4'],
        ['Transfer-Encoding', 'chunked'],
      ]) + `0\r\n\r\n${smuggled}`,
    )
    const res = await client.response()
    assert.equal(res.status, 400, res.rawHead)
    await client.closedWithin(2_000)
  } finally {
    client.destroy()
  }
  assert.equal((await rawRequest(server.port, 'HEAD', path, tusHeaders)).status, 200, 'the smuggled DELETE did not run')
})

test('a bad chunk size closes the connection; the offset covers at most the valid chunks', async () => {
  const url = await createUpload(server.endpoint, 100)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  try {
    await client.write(
      requestHead('PATCH', path, {
        ...tusHeaders, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0', 'Transfer-Encoding': 'chunked',
      }) + '5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n',
    )
    assert.ok(await client.closedWithin(4_000), `connection still open; got ${JSON.stringify(client.text())}`)
    assert.ok(!/^HTTP\/1\.1 2/.test(client.text()), `a broken chunked body must not succeed: ${JSON.stringify(client.text())}`)
    // A framing error is the client's: if the server answers at all, it is a 4xx, not a 5xx
    // that tells clients to retry the same bytes.
    assert.ok(!/^HTTP\/1\.1 5/.test(client.text()), `bad chunk answered with a 5xx: ${JSON.stringify(client.text().split('\r\n')[0])}`)
  } finally {
    client.destroy()
  }
  const offset = await offsetOf(path)
  assert.ok(offset === 0 || offset === 5, `offset ${offset}: only the valid chunk may count`)
  if (offset === 5) {
    const get = await rawRequest(server.port, 'PATCH', path, {
      ...tusHeaders, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '5',
    }, 'x'.repeat(95))
    assert.equal(get.status, 204)
    const body = await rawRequest(server.port, 'GET', path, tusHeaders)
    assert.equal(body.text.slice(0, 5), 'hello')
  }
})

test('a chunked PATCH (PATCH-13) works on a real connection', async () => {
  const url = await createUpload(server.endpoint, 11)
  const path = new URL(url).pathname
  const res = await rawRequest(server.port, 'PATCH', path, [
    ['Tus-Resumable', '1.0.0'],
    ['Content-Type', 'application/offset+octet-stream'],
    ['Upload-Offset', '0'],
    ['Transfer-Encoding', 'chunked'],
  ], '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')
  assert.equal(res.status, 204, res.rawHead)
  assert.equal(res.headers['upload-offset'], '11')
})
