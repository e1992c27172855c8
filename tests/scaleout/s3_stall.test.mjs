// S3 stops answering (a network partition, a hung gateway) while a PATCH is under way: on SIGTERM
// the node still stops within its shutdown bounds instead of waiting out curl's per-request
// limits, and every acknowledged byte is there for the next process.
//
// A TCP relay sits between vidup and the test radosgw; `freeze()` makes it swallow every byte
// both ways and leave new connections unanswered.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'

import { s3Settings } from '../support/backends.mjs'
import {
  MiB,
  createUpload,
  downloadSha256,
  headUpload,
  httpRequest,
  kOffsetOctetStream,
  kTusResumable,
  pseudoRandomBuffer,
  sha256,
  sleep,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'

async function startRelay(target) {
  const { hostname, port } = new URL(target)
  let frozen = false
  const sockets = new Set()
  const track = (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const server = net.createServer((client) => {
    track(client)
    if (frozen) return  // accepted, never answered
    const upstream = net.connect(Number(port), hostname)
    track(upstream)
    client.on('data', (d) => frozen || upstream.write(d))
    upstream.on('data', (d) => frozen || client.write(d))
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    freeze() {
      frozen = true
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function patch(url, offset, body) {
  return httpRequest('PATCH', url, {
    headers: { ...kTusResumable, 'Upload-Offset': String(offset), 'Content-Type': kOffsetOctetStream },
    body,
    timeoutMs: 120_000,
  })
}

test('S3 hangs mid-PATCH: SIGTERM stops the node within its bounds, nothing acknowledged is lost', async () => {
  const s3 = await s3Settings('stall')
  const relay = await startRelay(s3.endpoint)
  const store = ['--store', `s3://${s3.bucket}/${s3.prefix}`, '--s3-part-size', String(5 * MiB), '--quiet']
  const shutdownSeconds = 1
  const first = await startServer({
    backend: 'file',
    args: [...store, '--s3-endpoint', relay.url, '--shutdown-timeout', String(shutdownSeconds)],
    env: s3.env,
  })
  let second = null
  try {
    const source = pseudoRandomBuffer(601, 24 * MiB)
    const url = await createUpload(first.endpoint, source.length)
    const acked = 6 * MiB + 123  // a full part and a tail
    const ok = await patch(url, 0, source.subarray(0, acked))
    assert.equal(ok.status, 204, `the PATCH before the stall: ${ok.status} ${ok.body}`)

    relay.freeze()
    const stalled = patch(url, acked, source.subarray(acked)).catch((err) => ({ status: null, error: err.message }))
    await sleep(1500)  // the PATCH is now waiting on S3

    const sentAt = Date.now()
    first.proc.kill('SIGTERM')
    // The grace, the abort wait, then S3 calls give up within about a second; without the cancel
    // curl's own limits (a minute per attempt) would hold the node.
    const bound = shutdownSeconds * 1000 + 5000 + 6000
    let timer
    const exit = await Promise.race([first.exited, new Promise((resolve) => (timer = setTimeout(resolve, bound + 20_000, null)))])
    clearTimeout(timer)
    const took = Date.now() - sentAt
    assert.notEqual(exit, null, `vidup still running ${took} ms after SIGTERM:\n${first.output()}`)
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${first.output()}`)
    assert.ok(took < bound, `stopped after ${took} ms, bound ${bound} ms:\n${first.output()}`)
    console.log(`# stopped ${took} ms after SIGTERM (bound ${bound} ms)`)
    const answer = await stalled
    assert.notEqual(answer.status, 204, 'the stalled PATCH was not acknowledged')

    // A new process, straight to S3, on the same records.
    second = await startServer({
      backend: 'file', dataDir: first.dataDir, args: [...store, '--s3-endpoint', s3.endpoint], env: s3.env })
    const on2 = `${second.url}${new URL(url).pathname}`
    const head = await headUpload(on2)
    assert.equal(head.status, 200)
    assert.ok(head.offset >= acked, `HEAD ${head.offset} < acknowledged ${acked}`)
    const done = await patch(on2, head.offset, source.subarray(head.offset))
    assert.equal(done.status, 204, `resume at ${head.offset}: ${done.status} ${done.body}`)
    const got = await downloadSha256(on2)
    assert.equal(got.length, source.length)
    assert.equal(got.sha256, sha256(source), 'byte-identical after the stall')
  } finally {
    if (first.proc.exitCode === null && first.proc.signalCode === null) await first.kill()
    await second?.stop()
    await relay.stop()
    await removeDir(first.dataDir)
  }
})
