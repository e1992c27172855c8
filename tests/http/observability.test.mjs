// /healthz, /metrics (Prometheus text) and the per-request JSON log line on stderr, which never
// carries a query string.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, kOffsetOctetStream, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { metricValue, rawRequest, sleep, tusHeaders } from './raw.mjs'

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

const requestLines = (of = server) =>
  of
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((o) => o.msg === 'request')

async function waitForLines(of, n) {
  const deadline = Date.now() + 3_000
  while (requestLines(of).length < n && Date.now() < deadline) await sleep(20)
  await sleep(100) // and no extra lines trail behind
  return requestLines(of)
}

test('/healthz answers 200 "ok"', async () => {
  for (const method of ['GET', 'HEAD']) {
    const res = await rawRequest(server.port, method, '/healthz')
    assert.equal(res.status, 200, method)
    if (method === 'GET') assert.equal(res.text.trim(), 'ok')
  }
})

test('/metrics is Prometheus text with request, byte, upload and active-upload series', async () => {
  const url = await createUpload(server.endpoint, 5)
  const patched = await rawRequest(server.port, 'PATCH', new URL(url).pathname, {
    ...tusHeaders, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': '0',
  }, 'hello')
  assert.equal(patched.status, 204)
  // A request is counted once its response is written, so the client may ask before that.
  let res
  for (let attempt = 0; attempt < 50; attempt++) {
    res = await rawRequest(server.port, 'GET', '/metrics')
    if (metricValue(res.text, 'vidup_http_requests_total{method="PATCH",status="204"}') >= 1) break
    await sleep(20)
  }
  assert.equal(res.status, 200)
  assert.match(res.headers['content-type'], /^text\/plain/)
  const text = res.text
  for (const line of text.split('\n').filter(Boolean)) {
    assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?\d+(\.\d+)?)$/, `not Prometheus text: ${line}`)
  }
  assert.ok(metricValue(text, 'vidup_http_requests_total{method="POST",status="201"}') >= 1, 'POST 201 counted')
  assert.ok(metricValue(text, 'vidup_http_requests_total{method="PATCH",status="204"}') >= 1, 'PATCH 204 counted')
  assert.ok(metricValue(text, 'vidup_bytes_received_total') >= 5)
  assert.ok(metricValue(text, 'vidup_uploads_created_total') >= 1)
  assert.ok(metricValue(text, 'vidup_uploads_finished_total') >= 1)
  assert.equal(metricValue(text, 'vidup_active_uploads'), 0)
  assert.match(text, /^# TYPE vidup_active_uploads gauge$/m)
  assert.match(text, /^# TYPE vidup_bytes_received_total counter$/m)
})

test('each request logs one JSON line with method, path, status, bytes, duration_ms, and never the query string', async (t) => {
  const server = await startServer() // its own, so that every request line in its log is ours
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const url = await createUpload(server.endpoint, 3, { 'X-Api-Token': 'header-secret' })
  const id = uploadIdOf(url)
  const sent = [
    ['HEAD', `/files/${id}?token=secret`, tusHeaders, null],
    ['PATCH', `/files/${id}?token=secret&x=1`, { ...tusHeaders, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': '0' }, 'abc'],
    ['GET', '/healthz?token=secret', {}, null],
    ['HEAD', `/files/${'0'.repeat(32)}?token=secret`, tusHeaders, null],
  ]
  for (const [method, target, headers, body] of sent) await rawRequest(server.port, method, target, headers, body)
  const lines = await waitForLines(server, 1 + sent.length)
  assert.equal(lines.length, 1 + sent.length, `one line per request:\n${server.output()}`)
  // Logged after each response is written, so two quick requests may log in either order.
  const find = (method, path) => lines.find((l) => l.method === method && l.path === path) ?? assert.fail(`no ${method} ${path} line`)
  const [post, head, patch, health, missing] = [
    find('POST', '/files/'), find('HEAD', `/files/${id.slice(0, 8)}...`), find('PATCH', `/files/${id.slice(0, 8)}...`),
    find('GET', '/healthz'), find('HEAD', `/files/${'0'.repeat(8)}...`),
  ]
  for (const line of lines) {
    for (const key of ['method', 'path', 'status', 'bytes', 'duration_ms']) assert.ok(key in line, `${key} in ${JSON.stringify(line)}`)
    assert.equal(typeof line.duration_ms, 'number')
    assert.ok(!line.path.includes('?'), line.path)
  }
  assert.deepEqual([post.method, post.path, post.status], ['POST', '/files/', 201])
  // Upload URLs are capabilities: logs keep only the first 8 hex digits of an id.
  const logged = `/files/${id.slice(0, 8)}...`
  assert.deepEqual([head.method, head.path, head.status], ['HEAD', logged, 200])
  assert.deepEqual([patch.method, patch.path, patch.status, patch.bytes], ['PATCH', logged, 204, 3])
  assert.ok(!server.output().includes(id), 'the full upload id never appears in the log')
  assert.deepEqual([health.method, health.path, health.status], ['GET', '/healthz', 200])
  assert.equal(missing.status, 404)
  assert.ok(!server.output().includes('secret'), 'no query string or header value in the log')
})

test('--quiet logs no request lines', async (t) => {
  const quiet = await startServer({ args: ['--quiet'] })
  t.after(async () => {
    await quiet.stop()
    await removeDir(quiet.dataDir)
  })
  await rawRequest(quiet.port, 'GET', '/healthz')
  await createUpload(quiet.endpoint, 1)
  await sleep(100)
  assert.ok(!quiet.output().includes('"msg":"request"'), quiet.output())
})
