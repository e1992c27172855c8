// H-LOC-02 / EDGE-26: the Location of a new upload is built from the Host header; forwarding
// headers (X-Forwarded-Host, X-Forwarded-Proto, Forwarded) count only with --behind-proxy.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, requestHead, tusHeaders } from './raw.mjs'

const kId = '[0-9a-f]{32}'

async function post(port, host, extra = {}) {
  const client = await RawClient.connect(port)
  try {
    await client.write(requestHead('POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', ...extra }, { host }))
    const res = await client.response()
    assert.equal(res.status, 201, res.rawHead)
    return res.headers.location
  } finally {
    client.destroy()
  }
}

const forwarded = {
  xf: { 'X-Forwarded-Host': 'proxy.example', 'X-Forwarded-Proto': 'https' },
  rfc7239: { Forwarded: 'for=192.0.2.1;proto=https;host=proxy.example' },
}

test('H-LOC-02 without --behind-proxy: Location uses the Host header and ignores forwarding headers', async (t) => {
  const server = await startServer({ args: ['--quiet'] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  assert.match(await post(server.port, 'uploads.example:8443'), new RegExp(`^http://uploads\\.example:8443/files/${kId}$`))
  assert.match(await post(server.port, 'uploads.example:8443', forwarded.xf), new RegExp(`^http://uploads\\.example:8443/files/${kId}$`))
  assert.match(await post(server.port, 'uploads.example:8443', forwarded.rfc7239), new RegExp(`^http://uploads\\.example:8443/files/${kId}$`))
})

test('H-LOC-02 a Host header with junk in it does not reach Location', async (t) => {
  const server = await startServer({ args: ['--quiet'] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const location = await post(server.port, 'evil.example/"<x>')
  assert.ok(!location.includes('evil.example/'), location)
  assert.ok(!/[<>"]/.test(location), location)
})

test('H-LOC-02 EDGE-26 with --behind-proxy: X-Forwarded-Host/-Proto and Forwarded give https://proxy.example/files/<id>', async (t) => {
  const server = await startServer({ args: ['--quiet', '--behind-proxy'] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const want = new RegExp(`^https://proxy\\.example/files/${kId}$`)
  assert.match(await post(server.port, `127.0.0.1:${server.port}`, forwarded.xf), want)
  assert.match(await post(server.port, `127.0.0.1:${server.port}`, forwarded.rfc7239), want)
  assert.match(await post(server.port, 'uploads.example'), new RegExp(`^http://uploads\\.example/files/${kId}$`), 'no forwarding headers: Host')
})
