// Stress (issue 7.5): 200 concurrent clients hit the same 10 uploads with HEAD, PATCH, DELETE,
// GET and POST for VIDUP_STRESS_SECONDS (default 20) s. Every client loops: HEAD a random slot's
// upload, then PATCH 1..12 KiB of that slot's source at the offset it was told (so many clients
// race for the same offset), now and then DELETE it (a new POST then takes the slot) or GET it.
// Checked:
//   - no crash: the server is alive at the end and exits 0 on SIGTERM;
//   - no deadlock: every request gets its answer within kAnswerMs, and the server still answers
//     a HEAD at the end;
//   - no 5xx at all (no shutdown happens during the run), and no status outside the ones each
//     method may give under contention: 400 only as ERR_UPLOAD_INTERRUPTED (a PATCH pre-empted by
//     a newcomer), 409 offset mismatch, 404/410 after a DELETE, 423;
//   - byte consistency: at the end, every upload still live holds its source's prefix up to its
//     Upload-Offset (never less than any offset it reported), and once finished by one client
//     from there, is its source byte for byte (SHA-256 of GET).
// Runs under ThreadSanitizer in the Makefile's tsan stage (the server inherits TSAN_OPTIONS).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import path from 'node:path'

import { KiB, MiB, downloadSha256, kOffsetOctetStream, kTusResumable } from '../support/bytes.mjs'
import { mulberry32 } from '../support/fault_proxy.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { makeSource } from './source.mjs'
import { makeTempDir } from '../support/server.mjs'

const kClients = 200
const kSlots = 10
const kUploadSize = 24 * KiB + 123
const kSeconds = Number(process.env.VIDUP_STRESS_SECONDS || 20)
// Under ThreadSanitizer the server is ~10x slower; VIDUP_STRESS_ANSWER_MS widens the bound.
const kAnswerMs = Number(process.env.VIDUP_STRESS_ANSWER_MS || 15_000)
const seed = Number(process.env.VIDUP_STRESS_SEED || Math.floor(Math.random() * 2 ** 31))

let server
let work

before(async () => {
  server = await startServer({ args: ['--quiet'], backend: 'file' })
  work = await makeTempDir('vidup-stress-')
})

after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (work) await removeDir(work)
})

// One request on `agent`; resolves {status, headers, body} or {error}; rejects if no answer
// within kAnswerMs (a deadlock or a lost request).
function request(agent, method, url, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`${method} ${url}: no answer within ${kAnswerMs} ms`))
    }, kAnswerMs)
    const req = http.request(url, { method, agent, headers: { ...kTusResumable, ...headers } })
    req.once('error', (error) => {
      clearTimeout(timer)
      resolve({ error })
    })
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.once('error', (error) => {
        clearTimeout(timer)
        resolve({ error })
      })
      res.once('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.end(body ?? undefined)
  })
}

const kAllowed = {
  HEAD: [200, 404, 410, 423],
  PATCH: [204, 400, 404, 409, 410, 423],
  DELETE: [204, 404, 410, 423],
  GET: [200, 404, 409, 410, 423],
  POST: [201],
}

test(`stress: ${kClients} clients on ${kSlots} uploads for ${kSeconds} s (seed ${seed})`, { timeout: (kSeconds + 240) * 1000 }, async () => {
  const rng = mulberry32(seed)
  const counts = {}
  const problems = []
  const note = (key) => (counts[key] = (counts[key] ?? 0) + 1)
  const problem = (msg) => {
    if (problems.length < 50) problems.push(msg)
  }

  // A slot holds one live upload at a time; a DELETE retires it and the next POST replaces it.
  const uploads = [] // every upload ever created: {url, source, highest, finished, deleted}
  const slots = []
  let generation = 0
  async function createUpload(slot) {
    const source = await makeSource(work, `s${slot}-g${++generation}.bin`, `stress/${seed}/${generation}`, kUploadSize)
    const body = source.range(0, kUploadSize)
    const res = await request(false, 'POST', server.endpoint, { 'Upload-Length': String(kUploadSize) })
    note(`POST ${res.status ?? res.error?.code}`)
    if (res.status !== 201) throw new Error(`POST: ${res.status ?? res.error} ${res.body ?? ''}`)
    const upload = { url: new URL(res.headers.location, server.endpoint).href, source, body, highest: 0, finished: false, deleted: false }
    uploads.push(upload)
    slots[slot] = upload
    return upload
  }
  for (let s = 0; s < kSlots; s++) await createUpload(s)

  function check(method, res, upload) {
    if (res.error) {
      note(`${method} ${res.error.code ?? 'error'}`)
      // The server closes a pre-empted PATCH's connection; the client may still be writing.
      if (!(method === 'PATCH' && ['ECONNRESET', 'EPIPE'].includes(res.error.code))) {
        problem(`${method} ${upload.url}: ${res.error.message}`)
      }
      return false
    }
    note(`${method} ${res.status}`)
    if (!kAllowed[method].includes(res.status)) problem(`${method} ${upload.url} -> ${res.status} ${res.body}`)
    if (res.status === 400 && !res.body.startsWith('ERR_UPLOAD_INTERRUPTED')) problem(`${method} -> 400 ${res.body}`)
    const offset = res.headers['upload-offset']
    if (offset !== undefined) {
      const n = Number(offset)
      if (!(n <= kUploadSize)) problem(`${method} ${upload.url}: Upload-Offset ${offset}`)
      upload.highest = Math.max(upload.highest, n)
    }
    return true
  }

  const deadline = Date.now() + kSeconds * 1000
  let creating = Promise.resolve()
  async function client(id) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      while (Date.now() < deadline) {
        const slot = Math.floor(rng() * kSlots)
        const upload = slots[slot]
        const roll = rng()
        if (roll < 0.002) {
          const res = await request(agent, 'DELETE', upload.url)
          if (check('DELETE', res, upload) && res.status === 204 && !upload.deleted) {
            upload.deleted = true
            creating = creating.then(() => (slots[slot] === upload ? createUpload(slot) : null))
            await creating
          }
          continue
        }
        if (roll < 0.03) {
          const res = await request(agent, 'GET', upload.url)
          check('GET', res, upload)
          continue
        }
        const head = await request(agent, 'HEAD', upload.url)
        if (!check('HEAD', head, upload) || head.status !== 200) continue
        const offset = Number(head.headers['upload-offset'])
        if (offset >= kUploadSize) {
          upload.finished = true
          if (!upload.deleted && slots[slot] === upload) {
            creating = creating.then(() => (slots[slot] === upload ? createUpload(slot) : null))
            await creating
          }
          continue
        }
        const length = Math.min(kUploadSize - offset, 1 + Math.floor(rng() * 12 * KiB))
        const res = await request(agent, 'PATCH', upload.url,
          { 'Content-Type': kOffsetOctetStream, 'Upload-Offset': String(offset) },
          upload.body.subarray(offset, offset + length))
        if (check('PATCH', res, upload) && res.status === 204 && Number(res.headers['upload-offset']) === kUploadSize) {
          upload.finished = true
        }
      }
    } finally {
      agent.destroy()
    }
  }

  const started = Date.now()
  const results = await Promise.allSettled(Array.from({ length: kClients }, (_, i) => client(i)))
  const seconds = (Date.now() - started) / 1000
  for (const r of results) if (r.status === 'rejected') problem(String(r.reason?.message ?? r.reason))
  assert.equal(server.proc.exitCode, null, `the server exited during the run:\n${server.output().slice(-8000)}`)
  assert.equal(server.proc.signalCode, null, `the server died during the run:\n${server.output().slice(-8000)}`)

  // Consistency of every upload that is still there.
  let finished = 0
  let live = 0
  for (const upload of uploads) {
    const head = await request(false, 'HEAD', upload.url)
    if (head.status === 404 || head.status === 410) {
      assert.ok(upload.deleted, `${upload.url} is gone (${head.status}) but was never deleted`)
      continue
    }
    assert.equal(head.status, 200, `HEAD ${upload.url} after the run: ${head.status ?? head.error}`)
    live++
    const offset = Number(head.headers['upload-offset'])
    assert.ok(offset >= upload.highest, `${upload.url}: Upload-Offset ${offset} < ${upload.highest} reported during the run`)
    const file = path.join(server.dataDir, 'uploads', new URL(upload.url).pathname.split('/').pop())
    assert.ok(await upload.source.matchesFile(file, 0, offset), `${upload.url}: the first ${offset} stored bytes differ from the source`)
    if (offset === kUploadSize) finished++
    else {
      // The contention is over: one client finishes it from where the server says it is.
      const res = await request(false, 'PATCH', upload.url, { 'Content-Type': kOffsetOctetStream, 'Upload-Offset': String(offset) },
        upload.body.subarray(offset))
      assert.equal(res.status, 204, `${upload.url}: finishing from ${offset} after the run: ${res.status ?? res.error} ${res.body ?? ''}`)
    }
    const got = await downloadSha256(upload.url)
    assert.equal(got.status, 200)
    assert.equal(got.sha256, upload.source.sha256, `${upload.url}: GET of the finished upload`)
  }
  const total = Object.entries(counts).filter(([k]) => !k.startsWith('POST')).reduce((n, [, v]) => n + v, 0)
  console.log(`# seed ${seed}: ${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)}/s) by ${kClients} clients; ` +
    `${uploads.length} uploads (${finished} finished during the run, ${live} live at the end, all of them finished and verified)`)
  console.log(`# statuses: ${JSON.stringify(counts)}`)
  assert.deepEqual(problems, [], `seed ${seed}: ${problems.length} problems`)
  assert.ok(counts['PATCH 204'] > 0, 'no PATCH succeeded during the run')
})
