// The soak run behind scripts/soak/run (see there for the flags and what is checked).
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, readdir, rm, writeFile, appendFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../..')

function parseArgs(argv) {
  const opts = { minutes: 30, workers: 8, bin: path.join(repo, 'build/vidup'), out: null, sample: 5, maxFile: 8 << 20, storeCap: 1 << 30, plot: null, seed: 1 }
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[i + 1]]
    const take = () => {
      i++
      if (value === undefined) throw new Error(`${name} needs a value`)
      return value
    }
    if (name === '--minutes') opts.minutes = Number(take())
    else if (name === '--workers') opts.workers = Number(take())
    else if (name === '--bin') opts.bin = path.resolve(take())
    else if (name === '--out') opts.out = path.resolve(take())
    else if (name === '--sample') opts.sample = Number(take())
    else if (name === '--max-file') opts.maxFile = Number(take())
    else if (name === '--plot') opts.plot = path.resolve(take())
    else if (name === '--seed') opts.seed = Number(take())
    else if (name === '--help' || name === '-h') {
      console.log('scripts/soak/run [--minutes 30] [--workers 8] [--bin build/vidup] [--out DIR] [--sample 5] [--max-file BYTES] [--plot PNG]')
      process.exit(0)
    } else throw new Error(`unknown flag ${name}`)
  }
  if (!(opts.minutes > 0) || !(opts.workers >= 1) || !(opts.sample > 0)) throw new Error('--minutes, --workers and --sample must be positive')
  opts.out ??= path.resolve(`soak-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  return opts
}

const opts = parseArgs(process.argv.slice(2))
process.env.VIDUP_BIN = opts.bin
const { startServer, makeTempDir } = await import(path.join(repo, 'tests/support/server.mjs'))

// A small deterministic generator for the traffic mix (the bytes themselves are random).
let state = BigInt(opts.seed) * 0x9e3779b97f4a7c15n + 1n
function rand() {
  state ^= state << 13n
  state &= 0xffffffffffffffffn
  state ^= state >> 7n
  state ^= state << 17n
  state &= 0xffffffffffffffffn
  return Number(state >> 11n) / 2 ** 53
}
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))
const sha256 = (b) => createHash('sha256').update(b).digest('hex')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const stats = { ops: {}, bytes: 0, errors: [], errorCount: 0, resumeConflicts: 0 }
function fail(op, message) {
  stats.errorCount++
  const line = `${new Date().toISOString()} ${op}: ${message}`
  if (stats.errors.length < 50) stats.errors.push(line)
  if (stats.errorCount <= 10) console.log(`  error: ${line}`)
}

let server
let agent
function request(method, target, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${target}`, { method, headers: { 'Tus-Resumable': '1.0.0', ...headers }, agent, timeout: 60_000 })
    req.once('timeout', () => req.destroy(new Error(`${method} ${target}: timeout`)))
    req.once('error', reject)
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.once('error', reject)
    })
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece) // no Content-Length: Transfer-Encoding: chunked
      req.end()
    } else req.end(body ?? undefined)
  })
}

const finished = [] // {id, sha, size}
let storedBytes = 0
const idOf = (location) => location.split('/').pop()

async function create(size, extra = {}, body = null) {
  const headers = { 'Upload-Length': String(size), ...extra }
  if (body) headers['Content-Type'] = 'application/offset+octet-stream'
  const res = await request('POST', '/files/', headers, body)
  if (res.status !== 201) throw new Error(`POST → ${res.status} ${res.body}`)
  return idOf(res.headers.location)
}

async function patch(id, offset, body, { chunked = false } = {}) {
  const headers = { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) }
  const payload = chunked ? [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)] : body
  const res = await request('PATCH', `/files/${id}`, headers, payload)
  if (res.status !== 204) throw new Error(`PATCH @${offset} +${body.length} → ${res.status} ${res.body}`)
  const now = Number(res.headers['upload-offset'])
  if (now !== offset + body.length) throw new Error(`PATCH → Upload-Offset ${now}, expected ${offset + body.length}`)
  stats.bytes += body.length
}

async function headOffset(id) {
  for (let attempt = 0; ; attempt++) {
    const res = await request('HEAD', `/files/${id}`)
    if (res.status === 200) return Number(res.headers['upload-offset'])
    if (res.status !== 423 || attempt > 50) throw new Error(`HEAD → ${res.status}`)
    await sleep(100)
  }
}

function remember(id, data) {
  finished.push({ id, sha: sha256(data), size: data.length })
  storedBytes += data.length
}

const ops = {
  async whole() {
    const data = randomBytes(randInt(0, opts.maxFile))
    const id = await create(data.length)
    if (data.length > 0) await patch(id, 0, data)
    remember(id, data)
  },
  async chunks() {
    const data = randomBytes(randInt(1, opts.maxFile))
    const id = await create(data.length)
    let offset = 0
    while (offset < data.length) {
      const n = Math.min(data.length - offset, randInt(1, Math.max(1, data.length >> 2)))
      await patch(id, offset, data.subarray(offset, offset + n), { chunked: rand() < 0.5 })
      offset += n
    }
    remember(id, data)
  },
  // A PATCH cut mid-body by the client, then resumed from HEAD (PATCH-09).
  async aborted() {
    const data = randomBytes(randInt(64 << 10, opts.maxFile))
    const id = await create(data.length)
    const cut = randInt(1, data.length - 1)
    await new Promise((resolve, reject) => {
      const socket = net.connect({ port: server.port, host: '127.0.0.1' })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.write(
          `PATCH /files/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n` +
            `Upload-Offset: 0\r\nContent-Length: ${data.length}\r\n\r\n`,
        )
        socket.write(data.subarray(0, cut), () => setTimeout(() => {
          socket.destroy()
          resolve()
        }, randInt(0, 50)))
      })
    })
    // The cut PATCH may still be landing bytes its server side had buffered when our HEAD came
    // (it had not taken the upload's lock yet, so nothing pre-empted it): the resume then gets
    // 409 and, as a tus client does, asks HEAD again.
    for (let attempt = 1; ; attempt++) {
      const offset = await headOffset(id)
      if (offset > cut) throw new Error(`after a cut at ${cut} the offset is ${offset}`)
      try {
        await patch(id, offset, data.subarray(offset))
        break
      } catch (err) {
        if (!/→ 409/.test(err.message) || attempt >= 5) throw err
        stats.resumeConflicts++
        await sleep(50)
      }
    }
    remember(id, data)
  },
  async withUpload() {
    const data = randomBytes(randInt(0, 256 << 10))
    const res = await request('POST', '/files/', { 'Upload-Length': String(data.length), 'Content-Type': 'application/offset+octet-stream' }, data)
    if (res.status !== 201 || Number(res.headers['upload-offset']) !== data.length) throw new Error(`creation-with-upload → ${res.status}`)
    stats.bytes += data.length
    remember(idOf(res.headers.location), data)
  },
  async terminate() {
    const data = randomBytes(randInt(1, 1 << 20))
    const id = await create(data.length * 2)
    await patch(id, 0, data)
    const del = await request('DELETE', `/files/${id}`)
    if (del.status !== 204) throw new Error(`DELETE → ${del.status}`)
    const head = await request('HEAD', `/files/${id}`)
    if (head.status !== 404 && head.status !== 410) throw new Error(`HEAD after DELETE → ${head.status}`)
  },
  async head() {
    const f = finished[randInt(0, finished.length - 1)]
    if (!f) return
    const offset = await headOffset(f.id)
    if (offset !== f.size) throw new Error(`HEAD ${f.id.slice(0, 8)} → offset ${offset}, size ${f.size}`)
  },
  async get() {
    const f = finished[randInt(0, finished.length - 1)]
    if (!f) return
    const res = await request('GET', `/files/${f.id}`)
    if (res.status !== 200 || sha256(res.body) !== f.sha) throw new Error(`GET ${f.id.slice(0, 8)} → ${res.status}, ${res.body.length} bytes, sha mismatch`)
  },
  // Keeps the disk bounded: the oldest finished upload is read back, then deleted.
  async retire() {
    const f = finished.shift()
    if (!f) return
    storedBytes -= f.size
    const res = await request('GET', `/files/${f.id}`)
    if (res.status !== 200 || sha256(res.body) !== f.sha) throw new Error(`GET before retiring ${f.id.slice(0, 8)}: ${res.status}, sha mismatch`)
    const del = await request('DELETE', `/files/${f.id}`)
    if (del.status !== 204) throw new Error(`DELETE → ${del.status}`)
  },
}
const mix = [['whole', 3], ['chunks', 3], ['aborted', 2], ['withUpload', 1], ['terminate', 1], ['head', 3], ['get', 2]]
const totalWeight = mix.reduce((s, [, w]) => s + w, 0)
function pick() {
  if (storedBytes > opts.storeCap) return 'retire'
  let x = rand() * totalWeight
  for (const [name, w] of mix) if ((x -= w) < 0) return name
  return mix[0][0]
}

async function sample(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) ?? [])[1])
  return { rss: field('VmRSS'), fds: (await readdir(`/proc/${pid}/fd`)).length, threads: field('Threads') }
}

async function sha256File(file) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk)
  return hash.digest('hex')
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[s.length >> 1] : NaN
}

async function main() {
  await mkdir(opts.out, { recursive: true })
  const dataDir = await makeTempDir('vidup-soak-')
  server = await startServer({ dataDir, args: ['--quiet', '--expiry', '3600'] })
  agent = new http.Agent({ keepAlive: true, maxSockets: opts.workers })
  const errorLines = []
  server.proc.stderr.on('data', (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) if (/"level":"error"/.test(line)) errorLines.push(line)
  })
  const csv = path.join(opts.out, 'soak.csv')
  await writeFile(csv, 't_s,rss_kib,fds,threads,ops,mib_received,errors\n')
  console.log(`soak: ${opts.minutes} min, ${opts.workers} workers, ${opts.bin}, pid ${server.proc.pid}, data ${dataDir}, csv ${csv}`)

  const started = Date.now()
  const endAt = started + opts.minutes * 60_000
  let opCount = 0
  const rows = []
  const sampler = (async () => {
    for (;;) {
      const s = await sample(server.proc.pid)
      const row = { t: (Date.now() - started) / 1000, ...s }
      rows.push(row)
      await appendFile(csv, `${row.t.toFixed(1)},${s.rss},${s.fds},${s.threads},${opCount},${(stats.bytes / 2 ** 20).toFixed(1)},${stats.errorCount}\n`)
      if (rows.length % Math.max(1, Math.round(60 / opts.sample)) === 0) {
        console.log(`  ${(row.t / 60).toFixed(1)} min: rss ${(s.rss / 1024).toFixed(1)} MiB, ${s.fds} fds, ${s.threads} threads, ${opCount} ops, ${(stats.bytes / 2 ** 30).toFixed(2)} GiB, ${stats.errorCount} errors`)
      }
      if (Date.now() >= endAt) break
      await sleep(Math.min(opts.sample * 1000, endAt - Date.now()))
    }
  })()
  await Promise.all(Array.from({ length: opts.workers }, async () => {
    while (Date.now() < endAt) {
      const name = pick()
      stats.ops[name] = (stats.ops[name] ?? 0) + 1
      try {
        await ops[name]()
      } catch (err) {
        fail(name, err.message)
      }
      opCount++
      await new Promise((resolve) => setImmediate(resolve)) // an op that ends at once must not starve the sampler
    }
  }))
  await sampler
  agent.destroy()

  // Every finished upload still held must be byte-identical on disk.
  let checked = 0
  let corrupt = 0
  for (const f of finished) {
    checked++
    if ((await sha256File(path.join(dataDir, 'uploads', f.id))) !== f.sha) {
      corrupt++
      fail('final', `${f.id.slice(0, 8)} differs on disk`)
    }
  }

  // Flatness: the last sixth of the run against the second sixth.
  const total = rows[rows.length - 1].t
  const win = total / 6
  const ref = rows.filter((r) => r.t >= win && r.t < 2 * win)
  const last = rows.filter((r) => r.t >= total - win)
  const verdict = {}
  if (ref.length < 2 || last.length < 2) {
    verdict.flat = false
    verdict.why = `too few samples (${ref.length}, ${last.length}): run longer or sample more often`
  } else {
    const rssRef = median(ref.map((r) => r.rss))
    const rssLast = median(last.map((r) => r.rss))
    const rssMaxLast = Math.max(...last.map((r) => r.rss))
    const fdsRef = Math.max(...ref.map((r) => r.fds))
    const fdsLast = Math.max(...last.map((r) => r.fds))
    const threads = new Set(rows.map((r) => r.threads))
    verdict.rss = { refMiB: +(rssRef / 1024).toFixed(1), lastMiB: +(rssLast / 1024).toFixed(1), lastMaxMiB: +(rssMaxLast / 1024).toFixed(1), change: +((rssLast - rssRef) / rssRef).toFixed(3) }
    verdict.fds = { refMax: fdsRef, lastMax: fdsLast }
    verdict.threads = [...threads]
    const problems = []
    if (Math.abs(rssLast - rssRef) > 0.1 * rssRef) problems.push(`RSS median ${verdict.rss.lastMiB} MiB vs ${verdict.rss.refMiB} MiB`)
    if (rssMaxLast > 1.1 * Math.max(...ref.map((r) => r.rss))) problems.push(`RSS peak ${verdict.rss.lastMaxMiB} MiB in the last window`)
    if (fdsLast > fdsRef + opts.workers * 2) problems.push(`fds ${fdsLast} vs ${fdsRef}`)
    if (threads.size !== 1) problems.push(`thread count changed: ${[...threads].join(', ')}`)
    verdict.flat = problems.length === 0
    if (problems.length) verdict.why = problems.join('; ')
  }
  const summary = {
    minutes: opts.minutes,
    workers: opts.workers,
    seconds: +total.toFixed(1),
    ops: opCount,
    byOp: stats.ops,
    gibReceived: +(stats.bytes / 2 ** 30).toFixed(2),
    finishedChecked: checked,
    corrupt,
    errors: stats.errorCount,
    resumeConflicts: stats.resumeConflicts,
    firstErrors: stats.errors.slice(0, 10),
    serverErrorLines: errorLines.slice(0, 10),
    ...verdict,
  }
  await server.stop()
  await rm(dataDir, { recursive: true, force: true })
  await writeFile(path.join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
  console.log(JSON.stringify(summary, null, 2))
  if (opts.plot) {
    const { plot } = await import(path.join(here, 'plot.mjs'))
    await plot(csv, opts.plot, summary)
    console.log(`plot: ${opts.plot}`)
  }
  const ok = summary.flat && summary.errors === 0 && corrupt === 0 && errorLines.length === 0
  console.log(ok ? 'soak: PASS' : 'soak: FAIL')
  process.exit(ok ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  process.exit(2)
})
