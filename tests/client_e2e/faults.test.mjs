// `vidup upload` under faults: a 200 MiB upload through the fault proxy (connections cut at
// random points of PATCH bodies, delayed requests, 503s from the proxy itself) completes
// byte-identical; and a 200 MiB upload survives two kill -9s of the server, restarted each time
// on the same data directory and port. Slow: CTest label "e2e;slow".
//
// The proxy's PRNG seed is CLIENT_E2E_SEED (default below); a failure prints it to replay.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { MiB } from '../support/bytes.mjs'
import { startFaultProxy } from '../support/fault_proxy.mjs'
import { startServer } from '../support/server.mjs'
import { startTusNodeServer } from '../support/tus_node_server.mjs'
import { createReadStream } from 'node:fs'
import {
  assertTusNodeHolds,
  assertVidupHolds,
  runUpload,
  bytesReceivedMetric,
  describe,
  freePort,
  jsonResult,
  makeFile,
  makeTempDir,
  removeDir,
  serveOnPort,
  sleep,
  startUpload,
  waitFor,
} from './cli.mjs'

const kSize = 200 * MiB
const kSeed = Number(process.env.CLIENT_E2E_SEED ?? 20240501)
// Short delays, and enough of them for every fault the proxy may inject (caps below).
const kRetryDelays = ['0', ...Array(24).fill('1')].join(',')

let work
let stateHome
let big

before(async () => {
  work = await makeTempDir('vidup-client-faults-')
  stateHome = await makeTempDir('vidup-client-state-')
  big = await makeFile(work, 'big.bin', 'faults-200MiB', kSize)
})

after(async () => {
  if (work) await removeDir(work)
  if (stateHome) await removeDir(stateHome)
})

function summary(stats) {
  const { log, ...rest } = stats
  const faults = log.filter((e) => e.fault).map((e) => `${e.method} ${e.fault}`)
  return `${JSON.stringify(rest)}\nfaults: ${faults.join('; ')}`
}

test(`200 MiB in 16 MiB chunks through cuts, delays and 503s (seed ${kSeed})`, { timeout: 540_000 }, async () => {
  const server = await startServer({ args: ['--quiet'] })
  const proxy = await startFaultProxy({
    target: server.url,
    seed: kSeed,
    cutRate: 0.25,
    maxCuts: 8,
    delayRate: 0.2,
    minDelayMs: 100,
    maxDelayMs: 1500,
    maxDelays: 20,
    errorRate: 0.1,
    max503: 4,
    // At least one of each, whatever the seed: the first request gets a 503, the first PATCH a cut.
    min503: 1,
    minCuts: 1,
  })
  try {
    const args = [big.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(16 * MiB),
      '--retry-delays', kRetryDelays, '--stall-timeout', '10', '--state-dir', `${stateHome}/faults`, '--json', '--quiet']
    const child = startUpload(args, { stateHome, timeoutMs: 500_000 })
    const res = await child.done
    const stats = proxy.stats()
    const diag = `seed ${kSeed}; proxy: ${summary(stats)}`
    assert.equal(res.code, 0, `${describe(res, args)}\n${diag}\nserver:\n${server.output().slice(-4000)}`)
    const line = jsonResult(res, args)
    assert.equal(line.status, 'uploaded')
    assert.equal(line.size, kSize)
    await assertVidupHolds(server.url, line.upload_url, big, 'faulty 200 MiB')
    // The faults did happen (a seed that injects none would prove nothing).
    assert.ok(stats.cuts >= 1, `no cut injected: ${diag}`)
    assert.ok(stats.errors503 >= 1, `no 503 injected: ${diag}`)
    const resent = stats.forwardedBodyBytes - kSize
    assert.ok(resent >= 0, diag)
    // Cut PATCHes keep their prefix on vidup, so at most the unforwarded parts get re-sent: the
    // re-sent bytes stay below one chunk per fault.
    assert.ok(resent <= (stats.cuts + stats.errors503) * 16 * MiB, `re-sent ${resent} bytes: ${diag}`)
    console.log(`# faulty upload: ${res.ms} ms, ${stats.requests} requests, ${stats.cuts} cuts, ` +
      `${stats.errors503} 503s, ${stats.delays} delays; forwarded ${stats.forwardedBodyBytes} bytes ` +
      `(${resent} re-sent); --json bytes_sent ${line.bytes_sent}`)
  } finally {
    await proxy.stop()
    await server.stop()
    await removeDir(server.dataDir)
  }
})

test('200 MiB survives two kill -9s of the server, restarted on the same port and data', { timeout: 540_000 }, async () => {
  const port = await freePort()
  const dataDir = await makeTempDir('vidup-data-restart-')
  let server = await serveOnPort({ port, dataDir })
  // The proxy only throttles (40 MiB/s), so the kills land mid-upload.
  const proxy = await startFaultProxy({ target: server.url, throttleBytesPerSec: 40 * MiB })
  let child = null
  try {
    const args = [big.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(16 * MiB),
      '--retry-delays', kRetryDelays, '--stall-timeout', '10', '--state-dir', `${stateHome}/restart`, '--json', '--quiet']
    child = startUpload(args, { stateHome, timeoutMs: 500_000 })
    const kills = []
    for (const fraction of [0.3, 0.65]) {
      await waitFor(
        () => {
          if (child.proc.exitCode !== null) throw new Error(`the CLI ended early:\n${child.output()}`)
          return proxy.stats().forwardedBodyBytes >= fraction * kSize
        },
        { timeoutMs: 120_000, what: `${fraction * 100}% forwarded` },
      )
      const metric = await bytesReceivedMetric(server.url)
      await server.kill()
      kills.push({ forwarded: proxy.stats().forwardedBodyBytes, metric })
      await sleep(1500)
      server = await serveOnPort({ port, dataDir })
    }
    const res = await child.done
    const stats = proxy.stats()
    assert.equal(res.code, 0, `${describe(res, args)}\nproxy: ${summary(stats)}\nserver:\n${server.output()}`)
    const line = jsonResult(res, args)
    assert.equal(line.status, 'uploaded')
    await assertVidupHolds(server.url, line.upload_url, big, '200 MiB across restarts')
    console.log(`# restarts: killed vidup at ${kills.map((k) => `${k.forwarded} forwarded (metric ${k.metric})`).join(', ')}; ` +
      `total forwarded ${stats.forwardedBodyBytes} of ${kSize}; ${res.ms} ms`)
  } finally {
    if (child && child.proc.exitCode === null) child.kill()
    await proxy.stop()
    await server.stop()
    await removeDir(dataDir)
  }
})

test(`64 MiB to @tus/server and from stdin to vidup, through cuts and 503s (seed ${kSeed})`, { timeout: 300_000 }, async () => {
  const src = await makeFile(work, 'mid.bin', 'faults-64MiB', 64 * MiB + 9)
  const retry = ['--retry-delays', kRetryDelays, '--stall-timeout', '10', '--json', '--quiet']
  const faults = { seed: kSeed, cutRate: 0.3, maxCuts: 6, errorRate: 0.1, max503: 3, min503: 1, minCuts: 1 }

  const tusNode = await startTusNodeServer()
  let proxy = await startFaultProxy({ target: tusNode.url, ...faults })
  try {
    const args = [src.file, '--endpoint', `${proxy.url}/files`, '--chunk-size', String(8 * MiB),
      '--state-dir', `${stateHome}/tusnode`, ...retry]
    const res = await runUpload(args, { stateHome, timeoutMs: 250_000 })
    assert.equal(res.code, 0, `${describe(res, args)}\nproxy: ${summary(proxy.stats())}`)
    await assertTusNodeHolds(tusNode, jsonResult(res, args).upload_url, src, '@tus/server through faults')
  } finally {
    await proxy.stop()
    await tusNode.stop()
  }

  const server = await startServer({ args: ['--quiet'] })
  proxy = await startFaultProxy({ target: server.url, ...faults })
  try {
    const args = ['-', '--defer-length', '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(4 * MiB), ...retry]
    const res = await runUpload(args, { stateHome, stdin: createReadStream(src.file), timeoutMs: 250_000 })
    assert.equal(res.code, 0, `${describe(res, args)}\nproxy: ${summary(proxy.stats())}`)
    const line = jsonResult(res, args)
    assert.equal(line.size, src.size)
    await assertVidupHolds(server.url, line.upload_url, src, 'stdin through faults')
  } finally {
    await proxy.stop()
    await server.stop()
    await removeDir(server.dataDir)
  }
})
