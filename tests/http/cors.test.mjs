// CORS (G-12, G-13) and the OPTIONS status (OPT-02) over a real connection: what a browser's
// preflight and its actual request get back.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { removeDir, startServer } from '../support/server.mjs'
import { rawRequest, tusHeaders } from './raw.mjs'

const kOrigin = 'https://a.example'
const list = (value) => (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)

let server
before(async () => {
  server = await startServer({ args: ['--quiet'] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

function preflight(port, origin = kOrigin, target = '/files/') {
  return rawRequest(port, 'OPTIONS', target, {
    Origin: origin,
    'Access-Control-Request-Method': 'PATCH',
    'Access-Control-Request-Headers': 'tus-resumable, upload-offset, content-type, upload-checksum',
  })
}

test('G-12 a CORS preflight answers 200 with the allowed methods, headers and a max age', async () => {
  const res = await preflight(server.port)
  assert.equal(res.status, 200, res.rawHead)
  assert.equal(res.headers['access-control-allow-origin'], kOrigin)
  const methods = list(res.headers['access-control-allow-methods'])
  for (const m of ['post', 'head', 'patch', 'options', 'get', 'delete']) {
    assert.ok(methods.includes(m), `Allow-Methods lacks ${m}: ${res.headers['access-control-allow-methods']}`)
  }
  const allowed = list(res.headers['access-control-allow-headers'])
  for (const h of [
    'Authorization', 'Content-Type', 'Upload-Length', 'Upload-Offset', 'Tus-Resumable', 'Upload-Metadata',
    'Upload-Defer-Length', 'Upload-Concat', 'Upload-Checksum', 'X-HTTP-Method-Override', 'X-Requested-With',
    'Signature', 'Expiration', 'Video-Id',
  ]) {
    assert.ok(allowed.includes(h.toLowerCase()), `Allow-Headers lacks ${h}: ${res.headers['access-control-allow-headers']}`)
  }
  assert.match(res.headers['access-control-max-age'] ?? '', /^[1-9]\d*$/, 'Access-Control-Max-Age')
  assert.equal(res.headers['tus-version'], '1.0.0')
})

test('OPT-07 a preflight on an upload URL (even an unknown one) gets the same CORS answer', async () => {
  const res = await preflight(server.port, kOrigin, `/files/${'0'.repeat(32)}`)
  assert.equal(res.status, 200, res.rawHead)
  assert.ok(list(res.headers['access-control-allow-methods']).includes('patch'))
})

test('OPT-02 plain OPTIONS answers 204, a preflight 200', async () => {
  const plain = await rawRequest(server.port, 'OPTIONS', '/files/')
  assert.equal(plain.status, 204, plain.rawHead)
  assert.equal(plain.headers['tus-version'], '1.0.0')
  assert.equal(plain.headers['content-length'], undefined, '204 carries no Content-Length')
  const withOriginOnly = await rawRequest(server.port, 'OPTIONS', '/files/', { Origin: kOrigin })
  assert.equal(withOriginOnly.status, 204, 'Origin without Access-Control-Request-Method is not a preflight')
  assert.equal(withOriginOnly.headers['access-control-allow-methods'], undefined)
  const pre = await preflight(server.port)
  assert.equal(pre.status, 200)
})

test('G-12 G-13 an actual POST with Origin exposes Location, Upload-Offset, Upload-Length, Upload-Expires, Tus-Checksum-Algorithm', async () => {
  const res = await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': '10', Origin: kOrigin })
  assert.equal(res.status, 201, res.rawHead)
  assert.equal(res.headers['access-control-allow-origin'], kOrigin)
  assert.match(res.headers.vary ?? '', /origin/i, 'Vary: Origin')
  const exposed = list(res.headers['access-control-expose-headers'])
  for (const h of ['Location', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Tus-Checksum-Algorithm', 'Tus-Resumable']) {
    assert.ok(exposed.includes(h.toLowerCase()), `Expose-Headers lacks ${h}: ${res.headers['access-control-expose-headers']}`)
  }
  assert.equal(res.headers['access-control-allow-methods'], undefined, 'preflight-only headers stay off actual responses')
})

test('a request without Origin gets no CORS headers', async () => {
  const res = await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': '10' })
  assert.equal(res.status, 201)
  for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith('access-control-'), name)
})

test('G-12 --cors-origins https://a.example: only that origin gets CORS headers', async (t) => {
  const only = await startServer({ args: ['--quiet', '--cors-origins', kOrigin] })
  t.after(async () => {
    await only.stop()
    await removeDir(only.dataDir)
  })
  const good = await preflight(only.port, kOrigin)
  assert.equal(good.status, 200)
  assert.equal(good.headers['access-control-allow-origin'], kOrigin)
  assert.ok(good.headers['access-control-allow-methods'])

  const bad = await preflight(only.port, 'https://evil.example')
  for (const name of Object.keys(bad.headers)) {
    assert.ok(!name.startsWith('access-control-'), `https://evil.example got ${name}: ${bad.headers[name]}`)
  }
  const badPost = await rawRequest(only.port, 'POST', '/files/', {
    ...tusHeaders, 'Upload-Length': '1', Origin: 'https://evil.example',
  })
  assert.equal(badPost.headers['access-control-allow-origin'], undefined)
  assert.equal(badPost.headers['access-control-expose-headers'], undefined)
  const goodPost = await rawRequest(only.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', Origin: kOrigin })
  assert.equal(goodPost.status, 201)
  assert.ok(list(goodPost.headers['access-control-expose-headers']).includes('location'))
})
