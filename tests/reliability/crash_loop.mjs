// The crash loop (issue 7.1): real clients upload files of many sizes and kinds while the server
// is killed with SIGKILL at random moments and restarted on the same port and data directory,
// and while `vidup upload` processes are killed mid-transfer and run again.
//
// Clients: tus-js-client (in this process; plain, chunked, parallel = concatenation, data with
// the creation POST) and `vidup upload` child processes (plain, chunked, --checksum sha256,
// --parallel 3), a few of each at once, each upload tagged with an `X-Job` header. All requests
// go through a recording proxy (tap_proxy.mjs), optionally throttled so that transfers span the
// kills. The schedule (which event, when, which files) comes from a seeded PRNG; the seed is
// printed, and the same seed replays the same schedule (the machine's timing still varies).
//
// After every server restart, with the proxy holding new requests (a quiet server):
//   - the SQLite file passes PRAGMA integrity_check;
//   - every live record (active/finished) has its data file, every data file a live record, and
//     no stage marker is left (inspect.mjs);
//   - for every upload that is not a final: acknowledged <= HEAD Upload-Offset <= sent, where
//     `sent` is the highest byte position a client ever handed to the server for it and
//     `acknowledged` the highest Upload-Offset the server ever answered for it (tap_proxy.mjs);
//     an upload no client knows (its 201 was lost) holds 0 bytes; the data file holds at least
//     the offset and its first `offset` bytes equal the source's bytes at that position;
//   - a finished final holds exactly its source.
// After a `vidup upload` kill: the same checks on that job's uploads (from its state file); the
// rerun must resume from at least the offset the server reported after the kill.
// At the end every job must have succeeded, and every upload be byte-identical (SHA-256 of GET).
//
// `backend` 's3+postgres' runs the same loop with the bytes in S3 and the records in PostgreSQL
// (the CTest service fixtures; one bucket prefix and one database for the whole run): records
// are read with psql; an S3 upload's bytes are not read back mid-upload, so the checks after a
// kill are the offset bounds above and the record against HEAD, and the bytes are compared at
// the end through GET; there is no SQLite file or data directory to inspect.
import assert from 'node:assert/strict'
import { readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import * as tus from 'tus-js-client'

import { KiB, MiB, downloadSha256, headUpload } from '../support/bytes.mjs'
import { mulberry32 } from '../support/fault_proxy.mjs'
import { freePort, makeTempDir, removeDir, serveOnPort, sleep, startUpload } from '../client_e2e/cli.mjs'
import { backendArgs } from '../support/backends.mjs'
import { recordsOf, storageFindings, uploadFiles } from './inspect.mjs'
import { makeSource } from './source.mjs'
import { pathOf, startTapProxy } from './tap_proxy.mjs'

const kJsModes = ['plain', 'chunked', 'parallel', 'with-data']
const kCliModes = ['plain', 'chunked', 'checksum', 'parallel']
const kCliParts = 3
const kRetryDelaysMs = [0, 200, 500, ...Array(40).fill(1000)]
const kCliRetryDelays = ['0', '0.2', '0.5', ...Array(40).fill('1')].join(',')

// The split `vidup upload --parallel n` uses (src/client/plan.cpp).
function cliPlan(size, n) {
  const count = Math.max(1, Math.min(n, size))
  const base = Math.floor(size / count)
  const extra = size % count
  const parts = []
  for (let i = 0, at = 0; i < count; i++) {
    const length = base + (i < extra ? 1 : 0)
    parts.push({ start: at, length })
    at += length
  }
  return parts
}

// The options of crashLoop() from the VIDUP_CRASH_* environment variables, over the defaults of
// the test that calls it (scripts/crash-loop sets the variables for the long run).
export function optionsFromEnv({ serverKills, clientKills, maxMiB = 24, timeoutS = 170 }) {
  const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
  const maxSize = env('VIDUP_CRASH_MAX_MIB', maxMiB) * MiB
  return {
    seed: env('VIDUP_CRASH_SEED', Math.floor(Math.random() * 2 ** 31)),
    serverKills: env('VIDUP_CRASH_SERVER_KILLS', serverKills),
    clientKills: env('VIDUP_CRASH_CLIENT_KILLS', clientKills),
    sizes: [0, 1, 4 * KiB + 3, 300 * KiB, 3 * MiB + 5, 9 * MiB, 24 * MiB, 64 * MiB].filter((s) => s <= maxSize),
    gapMs: [env('VIDUP_CRASH_GAP_MIN_MS', 1500), env('VIDUP_CRASH_GAP_MAX_MS', 4500)],
    throttleBytesPerSec: env('VIDUP_CRASH_THROTTLE_MIB', 16) * MiB,
    jsSlots: env('VIDUP_CRASH_JS', 3),
    cliSlots: env('VIDUP_CRASH_CLI', 3),
    timeoutMs: env('VIDUP_CRASH_TIMEOUT_S', timeoutS) * 1000,
  }
}

const describeError = (err) => (err?.originalResponse ? `${err.message}` : String(err?.stack ?? err))

export async function crashLoop({
  seed,
  serverKills,
  clientKills,
  sizes,
  jsSlots = 3,
  cliSlots = 3,
  gapMs = [1500, 4000],
  throttleBytesPerSec = 0,
  jobTimeoutMs = 300_000,
  backend = 'file',
  log = (line) => console.log(`# ${line}`),
}) {
  const rng = mulberry32(seed)
  const pick = (list) => list[Math.floor(rng() * list.length)]
  const started = Date.now()
  const work = await makeTempDir('vidup-crash-loop-')
  const dataDir = path.join(work, 'data')
  const port = await freePort()
  // A short lease: a lock the killed server held in PostgreSQL frees soon after the restart.
  const stores = backend === 'file' ? null : await backendArgs(backend, { tag: 'crash', lockLease: 3 })
  const bytesOnDisk = !backend.includes('s3')
  const db = recordsOf({ dataDir, db: stores?.db ?? null })
  const start = () => serveOnPort({ port, dataDir, args: stores?.args ?? [], env: stores?.env ?? {},
    requestLog: path.join(work, 'server.log') })
  let server = await start()
  const tap = await startTapProxy({ target: server.url, throttleBytesPerSec })
  const endpoint = `${tap.url}/files/`

  const jobs = new Map()
  const stats = { serverKills: 0, clientKills: 0, restartChecks: 0, uploadsChecked: 0, jobs: 0, bytes: 0, reruns: 0, jsRestarts: 0, killsMidBody: 0 }
  const failures = []
  const fail = (msg) => {
    failures.push(msg)
    log(`FAILURE: ${msg}`)
  }
  let launching = true
  let jobCounter = 0
  const verifiedFinished = new Set()

  // --- jobs -------------------------------------------------------------------------------
  async function newJob(client) {
    const n = ++jobCounter
    const mode = pick(client === 'js' ? kJsModes : kCliModes)
    let size = pick(sizes)
    const name = `j${String(n).padStart(3, '0')}-${client}-${mode}-${size}`
    const source = await makeSource(work, `${name}.bin`, `${seed}/${name}`, size)
    let layout = [{ start: 0, length: size }]
    let effectiveMode = mode
    if (mode === 'parallel' && client === 'js') {
      if (size < 8) {
        effectiveMode = 'plain'
      } else {
        const cut = Math.floor(size * 0.37) // unequal parts: a partial's length names it
        layout = [{ start: 0, length: cut }, { start: cut, length: size - cut }]
      }
    } else if (mode === 'parallel') {
      layout = cliPlan(size, kCliParts)
    }
    const job = { n, name, client, mode: effectiveMode, size, source, layout, state: 'running', runs: 0,
      stateDir: path.join(work, 'state', name), child: null, rerunGate: null, uploadUrl: null, resumedChecks: [] }
    jobs.set(name, job)
    stats.jobs++
    return job
  }

  function runJs(job) {
    const body = job.source.range(0, job.size)
    let restarts = 0
    return new Promise((resolve) => {
      const options = {
        endpoint,
        headers: { 'X-Job': job.name },
        metadata: { filename: `${job.name}.bin` },
        metadataForPartialUploads: { job: job.name },
        retryDelays: kRetryDelaysMs,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: false,
        onSuccess: () => resolve({ ok: true, url: upload.url }),
        onError: (err) => {
          // tus-js-client 4 does not retry the final POST of a parallel upload after a network
          // error (the error carries no request); an application starts the upload again, which
          // resumes every partial and sends the final POST anew. Anything else is a failure.
          const network = !err?.originalRequest && /hang up|ECONNRESET|ECONNREFUSED|EPIPE/.test(String(err?.message))
          if (network && job.mode === 'parallel' && ++restarts <= 5) {
            stats.jsRestarts++
            setTimeout(() => upload.start(), 500)
            return
          }
          resolve({ ok: false, error: describeError(err) })
        },
      }
      if (job.mode === 'chunked') options.chunkSize = pick([64 * KiB, 256 * KiB, MiB])
      if (job.mode === 'with-data') {
        options.uploadDataDuringCreation = true
        options.chunkSize = MiB
      }
      if (job.mode === 'parallel') {
        options.parallelUploads = 2
        options.parallelUploadBoundaries = job.layout.map((p) => ({ start: p.start, end: p.start + p.length }))
      }
      const upload = new tus.Upload(body, options)
      upload.start()
    })
  }

  function cliArgs(job) {
    const args = [job.source.file, '--endpoint', endpoint, '--state-dir', job.stateDir, '--retry-delays', kCliRetryDelays,
      '--stall-timeout', '20', '--json', '--quiet', '--header', `X-Job: ${job.name}`]
    if (job.mode === 'chunked') args.push('--chunk-size', String(pick([256 * KiB, MiB, 3 * MiB])))
    if (job.mode === 'checksum') args.push('--checksum', 'sha256', '--chunk-size', String(2 * MiB))
    if (job.mode === 'parallel') args.push('--parallel', String(kCliParts))
    return args
  }

  async function runCli(job) {
    const args = cliArgs(job)
    for (;;) {
      job.runs++
      job.child = startUpload(args, { stateHome: job.stateDir, timeoutMs: jobTimeoutMs })
      job.runStartedAt = tap.log.length
      const res = await job.child.done
      job.child = null
      if (job.rerunGate) {
        // Killed by a client-kill event: it checks the server, then lets the rerun go.
        await job.rerunGate
        job.rerunGate = null
        stats.reruns++
        continue
      }
      const line = res.json[0]
      if (res.code !== 0 || !line || line.status !== 'uploaded') {
        return { ok: false, error: `exit ${res.code} signal ${res.signal}\n${res.stdout}\n${res.stderr.slice(-4000)}` }
      }
      for (const expect of job.resumedChecks.splice(0)) {
        if (job.runs === expect.run && !(line.resumed_from >= expect.atLeast)) {
          fail(`${job.name}: the rerun after a client kill resumed from ${line.resumed_from}, ` +
            `but the server held ${expect.atLeast} bytes after the kill`)
        }
        if (job.runs === expect.run) stats.resumedFromTotal = (stats.resumedFromTotal ?? 0) + line.resumed_from
      }
      return { ok: true, url: line.upload_url }
    }
  }

  // GET from whichever server runs now; a kill in the middle means trying again.
  async function download(uploadPath) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await downloadSha256(server.url + uploadPath)
      } catch (err) {
        if (attempt >= 100) throw err
        await sleep(200)
      }
    }
  }

  // The job's last requests as the proxy saw them, for a failure message.
  function trail(job, count = 16) {
    const mine = tap.log.filter((e) => e.headers['x-job'] === job.name)
    return mine.slice(-count).map((e) => {
      const offset = e.headers['upload-offset'] ?? '-'
      const answered = e.resHeaders?.['upload-offset'] ?? '-'
      return `  ${e.method} ${e.path} offset ${offset} length ${e.headers['content-length'] ?? '-'} ` +
        `forwarded ${e.forwarded} -> ${e.status ?? e.error ?? 'in flight'} (Upload-Offset ${answered})`
    }).join('\n')
  }

  async function verifyJob(job, result) {
    if (!result.ok) {
      fail(`${job.name} failed: ${result.error}\nits last requests through the proxy:\n${trail(job)}`)
      return
    }
    job.uploadUrl = result.url
    const got = await download(pathOf(result.url))
    if (got.status !== 200 || got.length !== job.size || got.sha256 !== job.source.sha256) {
      fail(`${job.name}: GET ${pathOf(result.url)} -> ${got.status}, ${got.length} bytes, sha256 ${got.sha256}; ` +
        `expected ${job.size} bytes, ${job.source.sha256}`)
      return
    }
    job.state = 'done'
    stats.bytes += job.size
    await rm(job.source.file, { force: true })
  }

  async function slot(client) {
    while (launching) {
      const job = await newJob(client)
      const result = await (client === 'js' ? runJs(job) : runCli(job))
      await verifyJob(job, result)
      if (job.state !== 'done') job.state = 'failed'
    }
  }

  // --- checks -----------------------------------------------------------------------------
  // Which job and which part of its source an upload holds, from the proxy's record of the POST
  // that created it (X-Job header, Upload-Length, Upload-Concat).
  function originOf(uploadPath) {
    for (const e of tap.log) {
      if (e.method !== 'POST' || !e.resHeaders?.location || pathOf(e.resHeaders.location) !== uploadPath) continue
      const job = jobs.get(e.headers['x-job'])
      if (!job) return null
      const partial = /^partial/.test(e.headers['upload-concat'] ?? '')
      const final = /^final/.test(e.headers['upload-concat'] ?? '')
      return { job, partial, final }
    }
    return null
  }

  // Checks one non-final upload; returns its HEAD offset.
  async function checkUpload(record, what) {
    const uploadPath = `/files/${record.id}`
    if (verifiedFinished.has(record.id)) {
      // Its bytes were compared when it finished; it must simply still be all there.
      const size = bytesOnDisk ? (await stat(path.join(dataDir, 'uploads', record.id))).size : record.size
      if (record.state !== 'finished' || record.offset !== record.size || size !== record.size) {
        fail(`${what}: finished upload ${uploadPath} now says ${record.state}, offset ${record.offset}, ${size} bytes stored`)
      }
      return record.offset
    }
    const head = await headUpload(server.url + uploadPath)
    stats.uploadsChecked++
    if (head.status !== 200) {
      fail(`${what}: HEAD ${uploadPath} (${record.state}) -> ${head.status}`)
      return null
    }
    const offset = head.offset
    const { sent, acknowledged } = tap.uploadBounds(uploadPath)
    const origin = originOf(uploadPath)
    const tag = `${what}: ${origin?.job.name ?? 'unknown'} ${uploadPath}`
    if (record.offset !== offset) fail(`${tag}: HEAD says ${offset}, the record ${record.offset}`)
    const file = path.join(dataDir, 'uploads', record.id)
    if (bytesOnDisk) {
      const fileSize = (await stat(file)).size
      if (fileSize < offset) fail(`${tag}: data file holds ${fileSize} bytes, fewer than the offset ${offset}`)
    }
    if (!origin) {
      // Created by a POST whose 201 never came back (the server was killed): no client knows
      // it, and only a POST that carried data (creation-with-upload) can have put bytes in it.
      if (offset === 0) return offset
      const posts = tap.log.filter((e) => e.method === 'POST' && !e.resHeaders && e.forwarded >= offset &&
        Number(e.headers['upload-length']) === record.size && jobs.has(e.headers['x-job']))
      for (const e of posts) {
        if (!bytesOnDisk || (await jobs.get(e.headers['x-job']).source.matchesFile(file, 0, offset))) return offset
      }
      fail(`${tag}: holds ${offset} bytes that no unanswered POST with data explains`)
      return offset
    }
    if (!(offset <= sent)) fail(`${tag}: Upload-Offset ${offset} > ${sent} bytes the client sent`)
    if (!(offset >= acknowledged)) fail(`${tag}: Upload-Offset ${offset} < ${acknowledged} acknowledged earlier`)
    const candidates = origin.partial ? origin.job.layout.filter((p) => p.length === record.size) : [{ start: 0, length: origin.job.size }]
    if (candidates.length === 0 || record.size !== candidates[0].length) {
      fail(`${tag}: Upload-Length ${record.size} matches no part of the source (${JSON.stringify(origin.job.layout)})`)
      return offset
    }
    if (!bytesOnDisk) return offset // S3: the bytes are compared through GET at the end
    let matched = false
    for (const c of candidates) {
      if (await origin.job.source.matchesFile(file, c.start, offset)) matched = true
    }
    if (!matched) fail(`${tag}: the first ${offset} stored bytes differ from the source`)
    else if (record.state === 'finished') verifiedFinished.add(record.id)
    return offset
  }

  async function checkFinal(record, parts, what) {
    if (record.state !== 'finished' || verifiedFinished.has(record.id)) return
    const partials = parts.get(record.id) ?? []
    const origin = partials.length ? originOf(`/files/${partials[0]}`) : null
    if (!origin) {
      fail(`${what}: final ${record.id} has partials ${partials.join(',')} from no known job`)
      return
    }
    const file = path.join(dataDir, 'uploads', record.id)
    const ok = record.size === origin.job.size && (!bytesOnDisk || ((await stat(file)).size === record.size &&
      (await origin.job.source.matchesFile(file, 0, record.size))))
    if (!ok) fail(`${what}: finished final ${record.id} of ${origin.job.name} does not hold its source`)
    else verifiedFinished.add(record.id)
  }

  async function checkStore(what) {
    const integrity = await db.integrityCheck()
    if (integrity !== 'ok') fail(`${what}: PRAGMA integrity_check: ${integrity}`)
    const records = await db.uploadRecords()
    if (bytesOnDisk) {
      const files = await uploadFiles(dataDir)
      for (const finding of storageFindings(records, files)) fail(`${what}: ${finding}`)
    }
    const parts = await db.concatParts()
    for (const r of records) {
      if (r.state !== 'active' && r.state !== 'finished') continue
      if (r.concat === 2) await checkFinal(r, parts, what)
      else await checkUpload(r, what)
    }
    return records.length
  }

  // --- events -----------------------------------------------------------------------------
  async function killServer(k) {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
      throw new Error(`the server died by itself (${server.proc.exitCode ?? server.proc.signalCode}):\n${server.output().slice(-8000)}`)
    }
    const inFlight = tap.log.filter((e) => e.status === null && e.error === null)
    const midBody = inFlight.filter((e) => (e.method === 'PATCH' || e.method === 'POST') && e.forwarded > 0).length
    stats.killsMidBody += midBody > 0 ? 1 : 0
    const t0 = Date.now()
    await server.kill()
    tap.hold()
    server = await start()
    const restartMs = Date.now() - t0
    const n = await checkStore(`after server kill ${k}`)
    tap.release()
    stats.serverKills++
    stats.restartChecks++
    log(`server kill ${k}: ${inFlight.length} requests in flight (${midBody} in the middle of a body), ` +
      `restarted in ${restartMs} ms, checked ${n} records in ${Date.now() - t0 - restartMs} ms`)
  }

  // A CLI job in the middle of a PATCH body (through the proxy, not yet answered).
  function transferringCli() {
    const out = []
    for (const job of jobs.values()) {
      if (job.client !== 'cli' || !job.child || job.state !== 'running' || job.rerunGate) continue
      const busy = tap.log.slice(job.runStartedAt).some((e) => e.method === 'PATCH' && e.headers['x-job'] === job.name &&
        e.status === null && e.error === null && e.forwarded > 0)
      if (busy) out.push(job)
    }
    return out
  }

  async function killClient(k) {
    let candidates = transferringCli()
    const deadline = Date.now() + 60_000
    while (candidates.length === 0) {
      if (Date.now() > deadline) throw new Error('no `vidup upload` was transferring for 60 s')
      await sleep(25)
      candidates = transferringCli()
    }
    const job = pick(candidates)
    let openGate
    job.rerunGate = new Promise((resolve) => (openGate = resolve))
    const child = job.child
    child.kill('SIGKILL')
    await child.done
    await sleep(300) // the server finishes with what reached it
    let state = null
    try {
      state = JSON.parse(await readFile(path.join(job.stateDir, 'uploads.json'), 'utf8'))
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    const entry = state ? Object.values(state.uploads ?? {})[0] : null
    const urls = entry ? (entry.parts?.length ? entry.parts.filter(Boolean) : [entry.upload_url].filter(Boolean)) : []
    // A HEAD first: it pre-empts the server's request for the dead client, which then records
    // what it received; the records are read after that.
    for (const url of urls) await headUpload(server.url + pathOf(url))
    const records = new Map((await db.uploadRecords()).map((r) => [r.id, r]))
    let held = 0
    for (const url of urls) {
      const record = records.get(pathOf(url).split('/').pop())
      if (!record) {
        fail(`client kill ${k}: ${job.name}'s state file names ${url}, which has no record`)
        continue
      }
      held += (await checkUpload(record, `client kill ${k}`)) ?? 0
    }
    job.resumedChecks.push({ run: job.runs + 1, atLeast: held })
    stats.clientKills++
    log(`client kill ${k}: ${job.name} (run ${job.runs}) killed, server holds ${held} of ${job.size} bytes; rerunning`)
    openGate()
  }

  // --- main -------------------------------------------------------------------------------
  const events = [...Array(serverKills).fill('server'), ...Array(clientKills).fill('client')]
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[events[i], events[j]] = [events[j], events[i]]
  }
  log(`seed ${seed}: ${backend}, ${serverKills} server kills, ${clientKills} client kills, sizes ${sizes.join(',')}, ` +
    `${jsSlots} tus-js-client + ${cliSlots} vidup upload at a time, gaps ${gapMs.join('..')} ms, ` +
    `throttle ${throttleBytesPerSec ? `${(throttleBytesPerSec / MiB).toFixed(1)} MiB/s` : 'none'}, data ${dataDir}`)
  const slots = [...Array(jsSlots).fill('js'), ...Array(cliSlots).fill('cli')].map((c) => slot(c))
  let error = null
  try {
    let serverK = 0
    let clientK = 0
    for (const event of events) {
      await sleep(gapMs[0] + rng() * (gapMs[1] - gapMs[0]))
      if (event === 'server') await killServer(++serverK)
      else await killClient(++clientK)
    }
    launching = false
    let timer
    const overdue = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`jobs still running ${jobTimeoutMs} ms after the last kill`)), jobTimeoutMs)
    })
    await Promise.race([Promise.all(slots), overdue]).finally(() => clearTimeout(timer))
    await checkStore('at the end')
    for (const job of jobs.values()) {
      if (job.state !== 'done') fail(`${job.name} did not finish (${job.state})`)
    }
  } catch (err) {
    error = err
  } finally {
    launching = false
    for (const job of jobs.values()) job.child?.kill('SIGKILL')
    await tap.stop()
    const stopped = await server.stop()
    if (stopped.code !== 0) fail(`the server exited with ${JSON.stringify(stopped)} on SIGTERM:\n${server.output().slice(-8000)}`)
  }
  stats.seconds = Math.round((Date.now() - started) / 1000)
  stats.requests = tap.log.length
  stats.forwardedBytes = tap.log.reduce((n, e) => n + e.forwarded, 0)
  log(`seed ${seed}: ${stats.serverKills} server kills (${stats.killsMidBody} in the middle of a request body), ` +
    `${stats.clientKills} client kills (${stats.reruns} reruns, ` +
    `${stats.jsRestarts} tus-js-client parallel restarts), ` +
    `${stats.jobs} uploads (${[...jobs.values()].filter((j) => j.state === 'done').length} verified, ` +
    `${(stats.bytes / MiB).toFixed(1)} MiB), ${stats.uploadsChecked} upload checks at ${stats.restartChecks} restarts, ` +
    `${stats.requests} requests, ${(stats.forwardedBytes / MiB).toFixed(1)} MiB sent through the proxy, ${stats.seconds} s`)
  if (!error && failures.length === 0) await removeDir(work)
  else log(`kept ${work} for inspection`)
  if (error) throw error
  assert.deepEqual(failures, [], `seed ${seed}: ${failures.length} failures`)
  return stats
}
