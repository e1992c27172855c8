// Helpers for the end-to-end tests of `vidup upload` (tests/client_e2e): run the CLI as a child
// process, make big pseudo-random files without holding them in memory, hash what a server
// stored, start `vidup serve` on a fixed port (for restarts), read /metrics.
//
//   const res = await runUpload([file, '--endpoint', url, '--json'], { stateHome })
//     -> {code, signal, stdout, stderr, json: [parsed --json lines], ms}
//   const child = startUpload(args, { stateHome })   // {proc, done: Promise<res>, output()}
//   const { file, sha256, size } = await makeFile(dir, 'big.bin', 'seed', 100 * MiB)
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import assert from 'node:assert/strict'

import { downloadSha256, headUpload, pseudoRandomStream, sha256File } from '../support/bytes.mjs'
import { makeTempDir, removeDir, vidupBin } from '../support/server.mjs'

export const kOutputLimit = 256 * 1024

// process.env without VIDUP_* (the test's VIDUP_BIN must not steer the CLI), with
// XDG_STATE_HOME pointed at `stateHome` so the default resume store never touches the real one.
export function cliEnv(stateHome, extra = {}) {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VIDUP_')) env[name] = value
  }
  return { ...env, XDG_STATE_HOME: stateHome, ...extra }
}

function parseJsonLines(stdout) {
  const out = []
  for (const line of stdout.split('\n')) {
    const text = line.trim()
    if (!text.startsWith('{')) continue
    try {
      out.push(JSON.parse(text))
    } catch {
      // Not a JSON line: the assertions on `json` will say so.
    }
  }
  return out
}

// Spawns `vidup upload ARGS`. stdin: a Readable piped to the CLI's stdin (else /dev/null).
export function startUpload(args, { stateHome, env = {}, stdin = null, timeoutMs = 600_000 } = {}) {
  assert.ok(stateHome, 'startUpload needs a stateHome (a temporary XDG_STATE_HOME)')
  const started = Date.now()
  const proc = spawn(vidupBin(), ['upload', ...args], {
    env: cliEnv(stateHome, env),
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (chunk) => {
    stdout += chunk
    if (stdout.length > kOutputLimit) stdout = stdout.slice(-kOutputLimit)
  })
  proc.stderr.on('data', (chunk) => {
    stderr += chunk
    if (stderr.length > kOutputLimit) stderr = stderr.slice(-kOutputLimit)
  })
  if (stdin) {
    proc.stdin.on('error', () => {})
    stdin.pipe(proc.stdin)
  }
  let timer = null
  const done = new Promise((resolve, reject) => {
    proc.once('error', (err) => reject(new Error(`cannot run ${vidupBin()}: ${err.message}`)))
    proc.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, json: parseJsonLines(stdout), ms: Date.now() - started })
    })
  })
  timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  return {
    proc,
    done,
    output: () => `stdout:\n${stdout}\nstderr:\n${stderr}`,
    kill: (signal = 'SIGKILL') => proc.kill(signal),
  }
}

export function runUpload(args, options = {}) {
  return startUpload(args, options).done
}

// `vidup ARGS` (any command) to its end.
export function runVidup(args, { stateHome, env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(vidupBin(), args, { env: cliEnv(stateHome ?? '/nonexistent', env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (c) => (stdout += c))
    proc.stderr.on('data', (c) => (stderr += c))
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
    proc.once('error', reject)
    proc.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

// A one-line description of a CLI result, for assertion messages.
export function describe(res, args = []) {
  return `vidup upload ${args.join(' ')}\n-> code ${res.code} signal ${res.signal} after ${res.ms} ms\n` +
    `stdout:\n${res.stdout}\nstderr:\n${res.stderr.slice(-8000)}`
}

// The single --json line of a one-file run, checked against the contract's fields.
export function jsonResult(res, args = []) {
  assert.equal(res.json.length, 1, `expected one --json line:\n${describe(res, args)}`)
  const line = res.json[0]
  for (const field of ['file', 'upload_url', 'size', 'bytes_sent', 'resumed_from', 'status']) {
    assert.ok(field in line, `--json line lacks "${field}": ${JSON.stringify(line)}`)
  }
  return line
}

// Writes `size` pseudo-random bytes (seeded) to dir/name in 1 MiB pieces; returns their hash.
export async function makeFile(dir, name, seed, size) {
  const file = path.join(dir, name)
  const hash = createHash('sha256')
  await pipeline(pseudoRandomStream(seed, size, { onChunk: (c) => hash.update(c) }), createWriteStream(file))
  return { file, size, sha256: hash.digest('hex') }
}

// The upload id: the last path segment of an upload URL.
export function idOf(uploadUrl) {
  const id = new URL(uploadUrl).pathname.split('/').filter(Boolean).pop()
  assert.ok(id, `no upload id in ${uploadUrl}`)
  return id
}

// GETs an upload from vidup at `baseUrl` (the upload URL's path on that origin, so URLs that
// went through a proxy still work) and returns {status, length, sha256}.
export function vidupDownload(baseUrl, uploadUrl) {
  return downloadSha256(baseUrl + new URL(uploadUrl).pathname)
}

// Asserts that vidup at `baseUrl` holds `expected` ({size, sha256}) at uploadUrl.
export async function assertVidupHolds(baseUrl, uploadUrl, expected, what) {
  const got = await vidupDownload(baseUrl, uploadUrl)
  assert.equal(got.status, 200, `${what}: GET ${uploadUrl}`)
  assert.equal(got.length, expected.size, `${what}: GET length`)
  assert.equal(got.sha256, expected.sha256, `${what}: SHA-256 of the upload`)
}

// Asserts that @tus/server's directory holds `expected` as the upload of uploadUrl.
export async function assertTusNodeHolds(tus, uploadUrl, expected, what) {
  const file = tus.fileOf(idOf(uploadUrl))
  assert.equal(await sha256File(file), expected.sha256, `${what}: SHA-256 of ${file}`)
  const info = JSON.parse(await readFile(`${file}.json`, 'utf8'))
  assert.equal(Number(info.size), expected.size, `${what}: Upload-Length in ${file}.json`)
  const head = await headUpload(tus.url + new URL(uploadUrl).pathname)
  assert.equal(head.status, 200, `${what}: HEAD ${uploadUrl}`)
  assert.equal(head.offset, expected.size, `${what}: Upload-Offset`)
  assert.equal(head.length, expected.size, `${what}: Upload-Length`)
  return info
}

// A loopback port that was free a moment ago.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Polls `probe` (async, returns a truthy value when done) every `everyMs` until `timeoutMs`.
export async function waitFor(probe, { timeoutMs = 60_000, everyMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

// vidup_bytes_received_total from the server's /metrics (null when unreachable).
export async function bytesReceivedMetric(baseUrl) {
  try {
    const res = await fetch(`${baseUrl}/metrics`)
    const text = await res.text()
    const m = text.match(/^vidup_bytes_received_total(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?(?:e\+?\d+)?)/m)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

// `vidup serve --no-auth` on a fixed port and data directory, so a test can kill -9 it and
// start it again at the same address. Returns {url, endpoint, proc, output(), kill(), stop()}.
// With `requestLog` (a file path) the server logs every request, appended to that file; `env`
// adds to the server's environment (the VIDUP_* variables of the test's own are left out).
export async function serveOnPort({ port, dataDir, args = [], env: extraEnv = {}, requestLog = null }) {
  const runDir = await makeTempDir('vidup-fixed-')
  const portFile = path.join(runDir, 'port')
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VIDUP_')) env[name] = value
  }
  Object.assign(env, extraEnv)
  const proc = spawn(vidupBin(), ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir,
    '--port-file', portFile, '--no-auth', ...(requestLog ? [] : ['--quiet']), ...args],
  { env, stdio: ['ignore', 'pipe', 'pipe'] })
  if (requestLog) {
    const file = createWriteStream(requestLog, { flags: 'a' })
    proc.stdout.pipe(file, { end: false })
    proc.stderr.pipe(file, { end: false })
    proc.once('close', () => file.end())
  }
  let output = ''
  const collect = (c) => {
    output += c
    if (output.length > kOutputLimit) output = output.slice(-kOutputLimit)
  }
  proc.stdout.on('data', collect)
  proc.stderr.on('data', collect)
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  await waitFor(
    async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`vidup serve on port ${port} exited before listening:\n${output}`)
      }
      try {
        return (await readFile(portFile, 'utf8')).trim() === String(port)
      } catch {
        return false
      }
    },
    { timeoutMs: 10_000, what: `vidup serve on 127.0.0.1:${port}` },
  )
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    endpoint: `${url}/files/`,
    proc,
    output: () => output,
    async kill() {
      proc.kill('SIGKILL')
      await exited
      await removeDir(runDir)
    },
    async stop() {
      proc.kill('SIGTERM')
      const result = await exited
      await removeDir(runDir)
      return result
    },
  }
}

export { makeTempDir, removeDir }
