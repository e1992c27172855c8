// Timeouts over real sockets (PATCH-10, EDGE-20): a header trickled one byte at a time is cut
// after --idle-timeout without slowing anyone else; a PATCH whose body stalls is cut after
// --read-timeout, and the bytes that did arrive are kept (PATCH-09).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, pseudoRandomBuffer, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, patchHeaders, rawRequest, requestHead, sleep, tusHeaders } from './raw.mjs'

const kIdleS = 2
const kReadS = 2
const kSlackMs = 1_500

let server
before(async () => {
  server = await startServer({ args: ['--quiet', '--idle-timeout', String(kIdleS), '--read-timeout', String(kReadS)] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

test('EDGE-20 a slowloris header (one byte every 500 ms) is closed after --idle-timeout while another client is served', async () => {
  const slow = await RawClient.connect(server.port)
  const started = Date.now()
  const head = requestHead('POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', 'X-Slow': 'z'.repeat(100) })
  let stop = false
  let sent = 0
  const trickle = (async () => {
    while (!stop && !slow.closed && sent < head.length) {
      await slow.write(head[sent++])
      await sleep(500)
    }
  })()
  // Meanwhile a well-behaved client is served promptly, again and again.
  let served = 0
  while (!slow.closed && Date.now() - started < kIdleS * 1000 + kSlackMs + 1_000) {
    const t0 = Date.now()
    const res = await rawRequest(server.port, 'OPTIONS', '/files/')
    assert.equal(res.status, 204)
    assert.ok(Date.now() - t0 < 500, `a normal request took ${Date.now() - t0} ms during the slowloris`)
    served++
    await sleep(100)
  }
  stop = true
  await trickle
  const closedAfter = (slow.closedAt ?? Date.now()) - started
  slow.destroy()
  assert.ok(slow.closedAt, `the slowloris connection was still open after ${closedAfter} ms (${sent} bytes sent)`)
  assert.ok(closedAfter >= kIdleS * 1000 - 200, `closed too early: ${closedAfter} ms`)
  assert.ok(closedAfter <= kIdleS * 1000 + kSlackMs, `closed after ${closedAfter} ms, --idle-timeout ${kIdleS} s`)
  assert.ok(served >= 5, `only ${served} normal requests were served meanwhile`)
  assert.ok(!/^HTTP\/1\.1 2/.test(slow.text()), 'the trickled request was never served')
})

test('PATCH-10 PATCH-09 a PATCH whose body stalls is closed after --read-timeout and keeps the bytes that arrived', async () => {
  const source = pseudoRandomBuffer('stall', 1000)
  const url = await createUpload(server.endpoint, source.length)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  await client.write(requestHead('PATCH', path, patchHeaders(0, source.length)))
  await client.write(source.subarray(0, 300))
  const stalledAt = Date.now()
  const closed = await client.closedWithin(kReadS * 1000 + kSlackMs)
  const closedAfter = (client.closedAt ?? Date.now()) - stalledAt
  const answer = client.text()
  client.destroy()
  assert.ok(closed, `the stalled PATCH was still open after ${closedAfter} ms`)
  assert.ok(closedAfter >= kReadS * 1000 - 200, `closed too early: ${closedAfter} ms`)
  assert.ok(!/^HTTP\/1\.1 204/.test(answer), `a stalled PATCH must not succeed: ${JSON.stringify(answer)}`)

  const head = await rawRequest(server.port, 'HEAD', path, tusHeaders)
  assert.equal(head.status, 200)
  assert.equal(head.headers['upload-offset'], '300', 'PATCH-09: the 300 bytes that arrived are kept')
  const rest = await rawRequest(server.port, 'PATCH', path, patchHeaders(300, 700), source.subarray(300))
  assert.equal(rest.status, 204, rest.rawHead)
  const get = await rawRequest(server.port, 'GET', `/files/${uploadIdOf(url)}`, tusHeaders)
  assert.ok(get.body.equals(source), 'finished upload is byte-identical')
})

test('an idle keep-alive connection is closed after --idle-timeout', async () => {
  const client = await RawClient.connect(server.port)
  await client.write(requestHead('OPTIONS', '/files/'))
  assert.equal((await client.response()).status, 204)
  const t0 = Date.now()
  assert.ok(await client.closedWithin(kIdleS * 1000 + kSlackMs), 'closed')
  assert.ok(Date.now() - t0 >= kIdleS * 1000 - 200, `closed after ${Date.now() - t0} ms`)
  client.destroy()
})
