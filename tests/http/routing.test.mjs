// Request targets and method override over real HTTP: G-06 (X-HTTP-Method-Override), G-08 and
// EDGE-17 (query strings, trailing slashes, percent-encoded traversal and junk ids → 404, never 5xx).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, kOffsetOctetStream, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { rawRequest, tusHeaders } from './raw.mjs'

let server
before(async () => {
  server = await startServer({ args: ['--quiet'] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

const pick = (res) => ({
  status: res.status,
  offset: res.headers['upload-offset'],
  length: res.headers['upload-length'],
  cache: res.headers['cache-control'],
})

test('G-06 POST + X-HTTP-Method-Override: PATCH appends bytes', async () => {
  const url = await createUpload(server.endpoint, 10)
  const path = new URL(url).pathname
  const res = await rawRequest(server.port, 'POST', path, {
    ...tusHeaders, 'X-HTTP-Method-Override': 'PATCH', 'Content-Type': kOffsetOctetStream, 'Upload-Offset': '0',
  }, 'hello')
  assert.equal(res.status, 204, res.rawHead)
  assert.equal(res.headers['upload-offset'], '5')
  const head = await rawRequest(server.port, 'HEAD', path, tusHeaders)
  assert.equal(head.headers['upload-offset'], '5')
})

test('G-06 POST + X-HTTP-Method-Override: DELETE terminates the upload', async () => {
  const url = await createUpload(server.endpoint, 10)
  const path = new URL(url).pathname
  const res = await rawRequest(server.port, 'POST', path, { ...tusHeaders, 'X-HTTP-Method-Override': 'DELETE' })
  assert.equal(res.status, 204, res.rawHead)
  const head = await rawRequest(server.port, 'HEAD', path, tusHeaders)
  assert.ok([404, 410].includes(head.status), `HEAD after the override DELETE: ${head.status}`)
})

test('G-06 POST + X-HTTP-Method-Override: HEAD answers with HEAD semantics', async () => {
  const url = await createUpload(server.endpoint, 10)
  const res = await rawRequest(server.port, 'POST', new URL(url).pathname, { ...tusHeaders, 'X-HTTP-Method-Override': 'HEAD' })
  assert.equal(res.status, 200, res.rawHead)
  assert.equal(res.headers['upload-offset'], '0')
  assert.equal(res.headers['upload-length'], '10')
})

test('G-08 EDGE-17 HEAD /files/<id>?_=123 and /files/<id>/ answer as /files/<id>', async () => {
  const url = await createUpload(server.endpoint, 42)
  const id = uploadIdOf(url)
  const plain = pick(await rawRequest(server.port, 'HEAD', `/files/${id}`, tusHeaders))
  assert.deepEqual(plain, { status: 200, offset: '0', length: '42', cache: 'no-store' })
  for (const target of [`/files/${id}?_=123`, `/files/${id}/`, `/files/${id}/?_=1&b=2`]) {
    assert.deepEqual(pick(await rawRequest(server.port, 'HEAD', target, tusHeaders)), plain, target)
  }
  const patched = await rawRequest(server.port, 'PATCH', `/files/${id}?_=9`, {
    ...tusHeaders, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': '0',
  }, 'abc')
  assert.equal(patched.status, 204, 'PATCH with a query string resolves the same upload')
  assert.equal(pick(await rawRequest(server.port, 'HEAD', `/files/${id}`, tusHeaders)).offset, '3')
})

test('EDGE-17 traversal, NUL and oversized ids are 404 (never 5xx) and the server keeps serving', async () => {
  const targets = [
    '/files/..%2F..%2Fetc%2Fpasswd',
    '/files/%2e%2e',
    '/files/%2E%2E/',
    '/files/..',
    '/files/../vidup.db',
    `/files/${'a'.repeat(32)}%00`,
    `/files/${'a'.repeat(16)}%00${'a'.repeat(15)}`,
    '/files/%00',
    `/files/${'a'.repeat(10 * 1024)}`,
    `/files/${'A'.repeat(32)}`,
    '/files/%ff%fe',
  ]
  for (const target of targets) {
    for (const method of ['HEAD', 'PATCH', 'DELETE', 'GET']) {
      const headers = method === 'PATCH' ? { ...tusHeaders, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': '0' } : tusHeaders
      const res = await rawRequest(server.port, method, target, headers, method === 'PATCH' ? 'x' : null)
      assert.ok(res.status < 500, `${method} ${target.slice(0, 60)}: ${res.status}`)
      assert.equal(res.status, 404, `${method} ${target.slice(0, 60)}: ${res.status}`)
    }
  }
  const alive = await rawRequest(server.port, 'OPTIONS', '/files/')
  assert.equal(alive.status, 204, 'still serving')
})
