// Expect: 100-continue (CWU-06, EDGE-19): a request the server will refuse gets its final status
// before the client sends the body, with no `100 Continue` first; one it accepts gets `100
// Continue`, then the body, then the final status.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, kOffsetOctetStream, pseudoRandomBuffer, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, patchHeaders, rawRequest, requestHead, tusHeaders } from './raw.mjs'

const kMaxSize = 1024
const kReadTimeoutS = 3
const kPrompt = 1_500 // a refusal must come well before the read timeout would fire

let server
before(async () => {
  server = await startServer({ args: ['--quiet', '--max-size', String(kMaxSize), '--read-timeout', String(kReadTimeoutS)] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

const has100 = (client) => /^HTTP\/1\.1 100/m.test(client.text())

// What the connection shows when the client, as Expect allows, keeps waiting for a final status
// instead of sending the body: every byte received and when the server closed.
async function transcript(client, started) {
  await client.closedWithin(kReadTimeoutS * 1000 + 1_500)
  const when = client.closedAt ? `closed after ${client.closedAt - started} ms` : 'still open'
  return `${JSON.stringify(client.text())}, ${when}`
}

// Sends only the head of a request that announces a body with Expect, then waits for the first
// final response without sending a byte of the body.
async function expectOnly(method, target, headers) {
  const client = await RawClient.connect(server.port)
  await client.write(requestHead(method, target, { ...headers, Expect: '100-continue' }))
  const started = Date.now()
  let res = null
  let error = null
  try {
    res = await client.waitFor(() => {
      let r = client.tryParse()
      while (r && r.status < 200) r = client.tryParse()
      return r
    }, kPrompt, 'final response before the body')
  } catch (err) {
    error = err
  }
  return { client, res, error, ms: Date.now() - started, started }
}

test('CWU-06 POST with Expect and Upload-Length over --max-size: 413 before the body, no 100 Continue', async () => {
  const { client, res, error, ms, started } = await expectOnly('POST', '/files/', {
    ...tusHeaders,
    'Upload-Length': String(kMaxSize + 1),
    'Content-Type': kOffsetOctetStream,
    'Content-Length': '100',
  })
  try {
    if (has100(client)) assert.fail(`server sent 100 Continue instead of refusing at once: ${await transcript(client, started)}`)
    assert.ifError(error)
    assert.equal(res.status, 413, res.rawHead)
    assert.equal(res.headers['tus-resumable'], '1.0.0')
    assert.ok(ms < kPrompt, `413 after ${ms} ms`)
  } finally {
    client.destroy()
  }
})

test('CWU-06 POST with Expect and a large announced body over --max-size: 413 before the body, no 100 Continue', async () => {
  const { client, res, error, started } = await expectOnly('POST', '/files/', {
    ...tusHeaders,
    'Upload-Length': String(8 * 1024 * 1024),
    'Content-Type': kOffsetOctetStream,
    'Content-Length': String(8 * 1024 * 1024),
  })
  try {
    if (has100(client)) assert.fail(`server sent 100 Continue instead of refusing at once: ${await transcript(client, started)}`)
    assert.ifError(error)
    assert.equal(res.status, 413, res.rawHead)
  } finally {
    client.destroy()
  }
})

test('EDGE-19 PATCH with Expect and a wrong Upload-Offset: 409 before the body, no 100 Continue', async () => {
  const url = await createUpload(server.endpoint, 100)
  const path = new URL(url).pathname
  const { client, res, error, started } = await expectOnly('PATCH', path, patchHeaders(50, 50))
  try {
    if (has100(client)) assert.fail(`server sent 100 Continue instead of refusing at once: ${await transcript(client, started)}`)
    assert.ifError(error)
    assert.equal(res.status, 409, res.rawHead)
    assert.equal(res.headers['upload-offset'], '0', 'PATCH-04: the 409 names the current offset')
  } finally {
    client.destroy()
  }
  const head = await rawRequest(server.port, 'HEAD', path, tusHeaders)
  assert.equal(head.headers['upload-offset'], '0')
})

test('CWU-06 PATCH with Expect and a good offset: 100 Continue, then the body, then 204', async () => {
  const body = pseudoRandomBuffer('expect-good', 300)
  const url = await createUpload(server.endpoint, body.length)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  try {
    await client.write(requestHead('PATCH', path, { ...patchHeaders(0, body.length), Expect: '100-continue' }))
    const interim = await client.response({ timeoutMs: kPrompt })
    assert.equal(interim.status, 100, `first response: ${interim.rawHead}`)
    await client.write(body)
    const res = await client.response()
    assert.equal(res.status, 204, res.rawHead)
    assert.equal(res.headers['upload-offset'], String(body.length))
  } finally {
    client.destroy()
  }
  const get = await rawRequest(server.port, 'GET', `/files/${uploadIdOf(url)}`, tusHeaders)
  assert.equal(get.status, 200)
  assert.ok(get.body.equals(body), 'stored bytes')
})

test('CWU-06 creation-with-upload with Expect under --max-size: 100 Continue, then 201 with Upload-Offset', async () => {
  const body = Buffer.from('hello')
  const client = await RawClient.connect(server.port)
  try {
    await client.write(requestHead('POST', '/files/', {
      ...tusHeaders, 'Upload-Length': '5', 'Content-Type': kOffsetOctetStream, 'Content-Length': '5', Expect: '100-continue',
    }))
    const interim = await client.response({ timeoutMs: kPrompt })
    assert.equal(interim.status, 100, interim.rawHead)
    await client.write(body)
    const res = await client.response()
    assert.equal(res.status, 201, res.rawHead)
    assert.equal(res.headers['upload-offset'], '5')
  } finally {
    client.destroy()
  }
})
