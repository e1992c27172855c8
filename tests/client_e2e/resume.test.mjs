// Kill and rerun: `vidup upload` of a 200 MiB file, throttled by the proxy, is killed with -9
// after >= 30% of it reached the server; the same command again (same --state-dir) resumes
// where the server is and sends only the rest. --no-resume starts over. SIGINT exits 130 and
// the rerun resumes. Slow: CTest label "e2e;slow".
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { MiB } from '../support/bytes.mjs'
import { startFaultProxy } from '../support/fault_proxy.mjs'
import { startServer } from '../support/server.mjs'
import {
  assertVidupHolds,
  bytesReceivedMetric,
  describe,
  jsonResult,
  makeFile,
  makeTempDir,
  removeDir,
  runUpload,
  sleep,
  startUpload,
  waitFor,
} from './cli.mjs'

const kSize = 200 * MiB

let server
let proxy
let work
let stateHome
let big

before(async () => {
  server = await startServer({ args: ['--quiet'] })
  proxy = await startFaultProxy({ target: server.url })
  work = await makeTempDir('vidup-client-resume-')
  stateHome = await makeTempDir('vidup-client-state-')
  big = await makeFile(work, 'big.bin', 'resume-200MiB', kSize)
})

after(async () => {
  if (proxy) await proxy.stop()
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (work) await removeDir(work)
  if (stateHome) await removeDir(stateHome)
})

const patchPaths = () => [...new Set(proxy.stats().log.filter((e) => e.method === 'PATCH').map((e) => e.path))]

// Starts the upload throttled, waits until `fraction` of the file went through the proxy (and
// the server's counter moved), then sends `signal`. Returns what the proxy saw.
async function interruptAt(args, fraction, signal = 'SIGKILL') {
  proxy.resetCounters()
  proxy.configure({ throttleBytesPerSec: 25 * MiB })
  const metricBefore = (await bytesReceivedMetric(server.url)) ?? 0
  const child = startUpload(args, { stateHome, timeoutMs: 300_000 })
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`the CLI ended before ${fraction * 100}%:\n${child.output()}`)
      return proxy.stats().forwardedBodyBytes >= fraction * kSize
    },
    { timeoutMs: 120_000, what: `${fraction * 100}% of the file through the proxy` },
  )
  child.kill(signal)
  const res = await child.done
  // Let the proxy forward what the kernel still held of the killed CLI's last PATCH, and the
  // server finish with it (it keeps what it received).
  await sleep(500)
  const forwarded = proxy.stats().forwardedBodyBytes
  const paths = patchPaths()
  const metric = ((await bytesReceivedMetric(server.url)) ?? 0) - metricBefore
  proxy.configure({ throttleBytesPerSec: 0 })
  proxy.resetCounters()
  return { res, forwarded, metric, paths }
}

test('kill -9 at >= 30%, then the same command resumes and sends only the rest', { timeout: 540_000 }, async () => {
  const args = [big.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(4 * MiB),
    '--state-dir', `${stateHome}/kill9`, '--retry-delays', '0,1,1,1', '--json', '--quiet']
  const first = await interruptAt(args, 0.3)
  assert.equal(first.res.signal, 'SIGKILL', describe(first.res, args))
  assert.equal(first.paths.length, 1, `one upload: ${first.paths}`)
  assert.ok(first.metric >= 0.25 * kSize, `vidup_bytes_received_total grew by ${first.metric} only`)

  const res = await runUpload(args, { stateHome, timeoutMs: 300_000 })
  const forwarded = proxy.stats().forwardedBodyBytes
  assert.equal(res.code, 0, `${describe(res, args)}\nserver:\n${server.output().slice(-4000)}`)
  const line = jsonResult(res, args)
  console.log(`# rerun resumed at ${line.resumed_from} of ${kSize} bytes; second run sent ${line.bytes_sent} bytes ` +
    `(--json), ${forwarded} bytes (proxy); the killed run had sent ${first.forwarded} (proxy), ` +
    `${first.metric} stored (metrics)`)
  assert.equal(line.status, 'uploaded')
  assert.equal(line.size, kSize)
  assert.ok(line.resumed_from > 0, `resumed_from ${line.resumed_from}`)
  assert.ok(line.resumed_from >= 0.25 * kSize, `resumed_from ${line.resumed_from}, the server had ${first.metric}`)
  assert.ok(line.bytes_sent < kSize, `--json bytes_sent ${line.bytes_sent}`)
  assert.ok(forwarded < kSize, `the proxy forwarded ${forwarded} bytes in the rerun`)
  assert.equal(line.resumed_from + line.bytes_sent, kSize, 'resumed_from + bytes_sent')
  assert.equal(forwarded, line.bytes_sent, 'the proxy forwarded exactly --json bytes_sent')
  assert.deepEqual(patchPaths(), first.paths, 'the rerun PATCHes the same upload')
  await assertVidupHolds(server.url, line.upload_url, big, 'resumed upload')
})

test('--no-resume after a kill -9 starts a new upload from 0', { timeout: 540_000 }, async () => {
  const base = [big.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(4 * MiB),
    '--state-dir', `${stateHome}/noresume`, '--retry-delays', '0,1,1,1', '--json', '--quiet']
  const first = await interruptAt(base, 0.3)
  assert.equal(first.res.signal, 'SIGKILL', describe(first.res, base))

  const args = [...base, '--no-resume']
  const res = await runUpload(args, { stateHome, timeoutMs: 300_000 })
  assert.equal(res.code, 0, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'uploaded')
  assert.equal(line.resumed_from, 0, JSON.stringify(line))
  assert.equal(line.bytes_sent, kSize, JSON.stringify(line))
  assert.equal(proxy.stats().forwardedBodyBytes, kSize)
  assert.notDeepEqual(patchPaths(), first.paths, '--no-resume created a new upload')
  assert.notEqual(new URL(line.upload_url).pathname, first.paths[0])
  await assertVidupHolds(server.url, line.upload_url, big, '--no-resume upload')
})

test('SIGINT exits 130; the rerun resumes', { timeout: 540_000 }, async () => {
  const args = [big.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(8 * MiB),
    '--state-dir', `${stateHome}/sigint`, '--retry-delays', '0,1,1,1', '--json', '--quiet']
  const started = Date.now()
  const first = await interruptAt(args, 0.15, 'SIGINT')
  assert.equal(first.res.code, 130, describe(first.res, args))
  assert.ok(Date.now() - started < 120_000)
  const failed = first.res.json[0]
  if (failed) assert.equal(failed.status, 'failed', JSON.stringify(failed))

  const res = await runUpload(args, { stateHome, timeoutMs: 300_000 })
  assert.equal(res.code, 0, describe(res, args))
  const line = jsonResult(res, args)
  assert.ok(line.resumed_from > 0, JSON.stringify(line))
  assert.ok(line.bytes_sent < kSize, JSON.stringify(line))
  console.log(`# after SIGINT: rerun resumed at ${line.resumed_from} of ${kSize} bytes; second run sent ${line.bytes_sent} bytes`)
  await assertVidupHolds(server.url, line.upload_url, big, 'upload resumed after SIGINT')
})
