// 10,000 idle connections (half silent, half stopped mid-header) and 500 stalled PATCHes held
// open against one server: it keeps answering normal uploads, its fds follow the connections and
// come back when they go, and its memory per connection stays small. The server is started with
// a soft RLIMIT_NOFILE of 1024 (the usual distribution default) and must raise it to the hard
// limit itself (apps/vidup/commands/serve.cpp); this process raises its own the same way (Node
// does at start).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'

import { createUpload } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, metricValue, patchHeaders, rawRequest, requestHead, sleep, tusHeaders } from '../http/raw.mjs'
import { canaryUpload, fdLimits, procSample } from './hostile.mjs'

const kIdle = 10_000
const kStalled = 500
const kBatch = 250
const kLowSoftLimit = 1024

const setSoftLimit = (pid, soft) => execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`])

let server
let own
before(async () => {
  own = await fdLimits(process.pid)
  const need = kIdle + kStalled + 200
  assert.ok(own.hard >= need, `this test needs a hard RLIMIT_NOFILE of at least ${need}; it is ${own.hard} (ulimit -Hn)`)
  // Start the server from a process whose soft limit is low, as a service manager would.
  setSoftLimit(process.pid, kLowSoftLimit)
  try {
    server = await startServer({ args: ['--quiet', '--idle-timeout', '300', '--read-timeout', '300'] })
  } finally {
    setSoftLimit(process.pid, own.hard)
  }
  assert.equal((await fdLimits(process.pid)).soft, own.hard, 'this process got its own limit back')
})
after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
})

async function connectMany(n, firstBytes) {
  const clients = []
  for (let i = 0; i < n; i += kBatch) {
    const batch = await Promise.all(Array.from({ length: Math.min(kBatch, n - i) }, () => RawClient.connect(server.port)))
    clients.push(...batch)
  }
  await Promise.all(clients.map((c, i) => (firstBytes(i) ? c.write(firstBytes(i)) : null)))
  return clients
}

async function connectionsGauge() {
  const res = await rawRequest(server.port, 'GET', '/metrics')
  assert.equal(res.status, 200)
  return metricValue(res.text, 'vidup_connections')
}

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`)
    await sleep(100)
  }
}

test('the server raised its soft RLIMIT_NOFILE from 1024 to the hard limit', async () => {
  const limits = await fdLimits(server.proc.pid)
  console.log(`server RLIMIT_NOFILE: soft ${limits.soft}, hard ${limits.hard} (started with soft ${kLowSoftLimit})`)
  assert.equal(limits.soft, limits.hard)
  assert.ok(limits.soft > kLowSoftLimit)
})

test(`${kIdle} idle connections and ${kStalled} stalled PATCHes: uploads still work, fds and memory bounded, all released`, async () => {
  await canaryUpload(server)
  const base = await procSample(server.proc.pid)
  const partial = Buffer.from('POST /files/ HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\n')
  const t0 = Date.now()
  const idle = await connectMany(kIdle, (i) => (i % 2 ? partial : null))
  const connectMs = Date.now() - t0
  let stalled = []
  try {
    const gauge = await waitFor('the server sees every connection', async () => {
      const g = await connectionsGauge()
      return g >= kIdle ? g : null
    }, 30_000)
    const withIdle = await procSample(server.proc.pid)
    const took = []
    for (let i = 0; i < 3; i++) took.push(await canaryUpload(server, { seed: `idle-${i}`, length: 1024 * 1024 }))

    // Stalled PATCHes: each on its own upload, announced 1 MiB, one byte sent.
    const urls = []
    for (let i = 0; i < kStalled; i += 50) {
      urls.push(...(await Promise.all(Array.from({ length: Math.min(50, kStalled - i) }, () => createUpload(server.endpoint, 1024 * 1024)))))
    }
    stalled = await connectMany(kStalled, (i) => Buffer.concat([Buffer.from(requestHead('PATCH', new URL(urls[i]).pathname, patchHeaders(0, 1024 * 1024))), Buffer.from('a')]))
    await waitFor('every stalled PATCH is writing', async () => {
      const res = await rawRequest(server.port, 'GET', '/metrics')
      return metricValue(res.text, 'vidup_active_uploads') >= kStalled
    }, 30_000)
    const peak = await procSample(server.proc.pid)
    for (let i = 0; i < 3; i++) took.push(await canaryUpload(server, { seed: `stalled-${i}`, length: 1024 * 1024 }))
    const all = idle.length + stalled.length

    const perIdleKiB = (withIdle.rssKiB - base.rssKiB) / kIdle
    const perStalledKiB = (peak.rssKiB - withIdle.rssKiB) / kStalled
    console.log(
      `${kIdle} idle connections opened in ${connectMs} ms; vidup_connections ${gauge}; ` +
        `server: ${base.fds} fds / ${base.rssKiB} KiB RSS / ${base.threads} threads before, ` +
        `${withIdle.fds} fds / ${withIdle.rssKiB} KiB with the idle ones (${perIdleKiB.toFixed(1)} KiB each), ` +
        `peak ${peak.fds} fds / ${peak.rssKiB} KiB / ${peak.threads} threads with ${kStalled} stalled PATCHes too ` +
        `(${perStalledKiB.toFixed(1)} KiB each); normal 1 MiB uploads meanwhile: ${took.join(', ')} ms`,
    )
    assert.ok(peak.fds >= base.fds + all, `the server holds ${peak.fds} fds for ${all} connections`)
    assert.ok(perIdleKiB < 16, `${perIdleKiB.toFixed(1)} KiB of RSS per idle connection`)
    assert.ok(perStalledKiB < 256, `${perStalledKiB.toFixed(1)} KiB of RSS per stalled PATCH`)
    for (const c of [...idle, ...stalled]) assert.ok(!c.closed, 'no connection was dropped')

    for (const c of [...idle, ...stalled]) c.destroy()
    const released = await waitFor('fds come back after the clients close', async () => {
      const s = await procSample(server.proc.pid)
      return s.fds <= base.fds + 4 ? s : null
    }, 30_000)
    assert.ok((await connectionsGauge()) <= 2, 'vidup_connections back to (about) zero')
    console.log(`after closing: ${released.fds} fds, ${released.rssKiB} KiB RSS`)
    await canaryUpload(server, { seed: 'after' })
  } finally {
    for (const c of [...idle, ...stalled]) c.destroy()
  }
})
