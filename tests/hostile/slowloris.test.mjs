// Slow clients: many connections trickling a header or a PATCH body a byte every few seconds.
// Each header is cut --idle-timeout after the connection started (the whole header has one
// deadline, however steadily its bytes come); each body is cut --read-timeout after its last
// byte; the bytes that did arrive are kept; and normal uploads keep completing promptly the
// whole time. (http_timeouts covers one slow header and one stalled body; this is the attack:
// many at once, against uploads in flight.)
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { createUpload, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, patchHeaders, rawRequest, requestHead, sleep, tusHeaders } from '../http/raw.mjs'
import { canaryUpload, procSample } from './hostile.mjs'

const kReadS = 2
const kIdleS = 4
const kSlackMs = 1_500
const kSlowHeaders = 200
const kSlowBodies = 50

let server
before(async () => {
  server = await startServer({ args: ['--quiet', '--read-timeout', String(kReadS), '--idle-timeout', String(kIdleS)] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

// Sends `bytes` one at a time every `everyMs` until done or the server closes; returns when it stops.
async function trickle(client, bytes, everyMs) {
  let sent = 0
  while (!client.closed && sent < bytes.length) {
    await client.write(bytes.subarray(sent, sent + 1))
    sent++
    client.lastByteAt = Date.now()
    if (sent < bytes.length) await sleep(everyMs)
  }
  return sent
}

// Canary uploads back to back until `done()`; returns their round-trip times.
async function canariesUntil(done) {
  const times = []
  while (!done()) {
    times.push(await canaryUpload(server, { seed: `during-${times.length}`, length: 256 * 1024, deadlineMs: 2_000 }))
    await sleep(50)
  }
  return times
}

test(`${kSlowHeaders} headers trickled a byte per second are each cut at --idle-timeout; uploads go on meanwhile`, async () => {
  const head = Buffer.from(requestHead('POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', 'X-Slow': 'z'.repeat(64) }))
  const clients = await Promise.all(Array.from({ length: kSlowHeaders }, () => RawClient.connect(server.port)))
  const started = Date.now()
  try {
    const trickles = clients.map((c) => trickle(c, head, 1_000))
    const times = await canariesUntil(() => clients.every((c) => c.closed) || Date.now() - started > kIdleS * 1000 + 3 * kSlackMs)
    const sent = await Promise.all(trickles)
    for (const [i, c] of clients.entries()) {
      assert.ok(c.closed, `slow header ${i} still open after ${Date.now() - started} ms`)
      const after = c.closedAt - started
      assert.ok(after >= kIdleS * 1000 - 300, `slow header ${i} cut after ${after} ms, before --idle-timeout`)
      assert.ok(after <= kIdleS * 1000 + kSlackMs, `slow header ${i} cut after ${after} ms (--idle-timeout ${kIdleS} s)`)
      assert.ok(sent[i] < head.length, 'the header was never completed')
      assert.equal(c.text(), '', `slow header ${i} was answered: ${JSON.stringify(c.text().slice(0, 100))}`)
    }
    assert.ok(times.length >= 3, `only ${times.length} normal uploads completed meanwhile`)
    console.log(`${kSlowHeaders} slow headers cut after ${kIdleS} s; ${times.length} uploads meanwhile, slowest ${Math.max(...times)} ms`)
  } finally {
    clients.forEach((c) => c.destroy())
  }
})

test(`${kSlowBodies} PATCH bodies trickled a byte every 3 s are each cut --read-timeout after their last byte, keeping what arrived`, async () => {
  const kLength = 100
  const urls = await Promise.all(Array.from({ length: kSlowBodies }, () => createUpload(server.endpoint, kLength)))
  const clients = []
  try {
    for (const url of urls) {
      const c = await RawClient.connect(server.port)
      clients.push(c)
      await c.write(requestHead('PATCH', new URL(url).pathname, patchHeaders(0, kLength)))
    }
    const started = Date.now()
    const trickles = clients.map((c) => trickle(c, Buffer.alloc(kLength, 0x61), (kReadS + 1) * 1000))
    const times = await canariesUntil(() => clients.every((c) => c.closed) || Date.now() - started > 4 * kReadS * 1000)
    const sent = await Promise.all(trickles)
    for (const [i, c] of clients.entries()) {
      assert.ok(c.closed, `slow body ${i} still open`)
      const quiet = c.closedAt - c.lastByteAt
      assert.ok(quiet >= kReadS * 1000 - 300, `slow body ${i} cut ${quiet} ms after its last byte, before --read-timeout`)
      assert.ok(quiet <= kReadS * 1000 + kSlackMs, `slow body ${i} cut ${quiet} ms after its last byte (--read-timeout ${kReadS} s)`)
      assert.ok(!/^HTTP\/1\.1 2/.test(c.text()), `slow body ${i} succeeded: ${JSON.stringify(c.text().slice(0, 100))}`)
      // PATCH-09: what arrived is kept; the byte in flight when the cut came may or may not count.
      const head = await rawRequest(server.port, 'HEAD', `/files/${uploadIdOf(urls[i])}`, tusHeaders)
      const offset = Number(head.headers['upload-offset'])
      assert.ok(offset >= 1 && offset <= sent[i], `slow body ${i}: offset ${offset}, ${sent[i]} bytes sent`)
    }
    assert.ok(times.length >= 3, `only ${times.length} normal uploads completed meanwhile`)
    const proc = await procSample(server.proc.pid)
    console.log(`${kSlowBodies} slow bodies cut ${kReadS} s after their last byte; ${times.length} uploads meanwhile, slowest ${Math.max(...times)} ms; server now ${proc.fds} fds, ${proc.rssKiB} KiB RSS`)
  } finally {
    clients.forEach((c) => c.destroy())
  }
})
