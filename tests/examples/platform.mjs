// Helpers for the tests of examples/ and of the pages (tests/browser): the vidup CLI (projects,
// keys), the platform API with a bearer key, the example programs as child processes, and
// source files on disk.
//
//   const project = await createProject(dataDir, 'name')       // project id
//   const key = await createKey(dataDir, { project })          // ky_ + 20 hex (admin key without project)
//   const api = platformApi(server.url, key)
//   await api.json('POST', '/v1/videos', body)  -> {status, body}
//   await api.sourceSha256(videoId)             -> {status, length, sha256}
//   const backend = await startBackend({ vidupUrl, apiKey, parentId })   // examples/backend-node
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'

import { pseudoRandomBuffer, sha256 } from '../support/bytes.mjs'
import { vidupBin } from '../support/server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

// The repository's root: $VIDUP_REPO (CTest sets it), else two levels above this file.
export const repoRoot = process.env.VIDUP_REPO || path.resolve(here, '..', '..')

const kUuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const kApiKey = /\bky_[0-9a-f]{20}\b/
const kCliTimeoutMs = 30_000
const kBackendStartMs = 10_000

// process.env without VIDUP_* (the test's VIDUP_BIN must not steer the programs), plus `extra`.
export function childEnv(extra = {}) {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VIDUP_')) env[name] = value
  }
  return { ...env, ...extra }
}

// Runs a command to its end; resolves {code, stdout, stderr} whatever the exit code.
export function run(file, args, { env = childEnv(), cwd = repoRoot, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`))
        return
      }
      resolve({ code: err ? err.code : 0, stdout, stderr })
    })
  })
}

async function vidupCli(args) {
  const res = await run(vidupBin(), args, { timeoutMs: kCliTimeoutMs })
  assert.equal(res.code, 0, `vidup ${args.join(' ')} exited ${res.code}:\n${res.stdout}${res.stderr}`)
  return res.stdout
}

// `vidup projects create --name NAME --data DIR`: the new project's id.
export async function createProject(dataDir, name) {
  const out = await vidupCli(['projects', 'create', '--name', name, '--data', dataDir])
  const id = out.match(kUuid)?.[0]
  assert.ok(id, `vidup projects create printed no project id: ${JSON.stringify(out)}`)
  return id
}

// `vidup keys create [--project ID] --data DIR`: the new key (an admin key without a project).
export async function createKey(dataDir, { project = null } = {}) {
  const args = ['keys', 'create', ...(project ? ['--project', project] : []), '--data', dataDir]
  const out = await vidupCli(args)
  const key = out.match(kApiKey)?.[0]
  assert.ok(key, `vidup ${args.join(' ')} printed no ky_ key: ${JSON.stringify(out)}`)
  return key
}

// The platform API of the server at `baseUrl`, as the holder of `key`.
export function platformApi(baseUrl, key) {
  const auth = { Authorization: `Bearer ${key}` }
  return {
    async json(method, pathname, body = undefined) {
      const res = await fetch(baseUrl + pathname, {
        method,
        headers: body === undefined ? auth : { ...auth, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      let parsed = null
      try {
        parsed = text ? JSON.parse(text) : null
      } catch {
        parsed = null
      }
      return { status: res.status, headers: res.headers, body: parsed, text }
    },
    async video(id) {
      const res = await this.json('GET', `/v1/videos/${id}`)
      assert.equal(res.status, 200, `GET /v1/videos/${id}: ${res.status} ${res.text}`)
      assert.ok(res.body?.data, `GET /v1/videos/${id}: no data: ${res.text}`)
      return res.body.data
    },
    async sourceSha256(id) {
      const res = await fetch(`${baseUrl}/v1/videos/${id}/source`, { headers: auth })
      const bytes = Buffer.from(await res.arrayBuffer())
      return { status: res.status, length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
    },
  }
}

// Asserts that video `id` is uploaded and its source is byte-identical to `source` (Buffer).
export async function assertUploadedVideo(api, id, source, what = `video ${id}`) {
  const video = await api.video(id)
  assert.equal(video.status, 'uploaded', `${what}: status (${JSON.stringify(video)})`)
  assert.equal(video.bytes_received, source.length, `${what}: bytes_received`)
  if (video.size !== null) assert.equal(video.size, source.length, `${what}: size`)
  const got = await api.sourceSha256(id)
  assert.equal(got.status, 200, `GET /v1/videos/${id}/source: status`)
  assert.equal(got.length, source.length, `GET /v1/videos/${id}/source: length`)
  assert.equal(got.sha256, sha256(source), `GET /v1/videos/${id}/source: SHA-256`)
  return video
}

// Writes `size` pseudo-random bytes (seeded by `seed`) to dir/name; returns {file, source}.
export async function writeSourceFile(dir, name, seed, size) {
  const source = pseudoRandomBuffer(seed, size)
  const file = path.join(dir, name)
  await writeFile(file, source)
  return { file, source }
}

// Starts examples/backend-node/server.js on a free port. Returns {url, proc, output(), stop()}.
export async function startBackend({ vidupUrl, apiKey, parentId }) {
  const script = path.join(repoRoot, 'examples', 'backend-node', 'server.js')
  const env = childEnv({ PORT: '0', VIDUP_URL: vidupUrl, VIDUP_API_KEY: apiKey, VIDUP_PARENT_ID: parentId })
  const proc = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (chunk) => (output += chunk))
  proc.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`backend-node printed no "listening on" line within ${kBackendStartMs} ms:\n${output}`))
    }, kBackendStartMs)
    const check = () => {
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    proc.stdout.on('data', check)
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`backend-node exited (code ${code}, signal ${signal}) before listening:\n${output}`))
    })
  })

  return {
    url,
    proc,
    output: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const result = await exited
      assert.equal(result.code, 0, `backend-node exit after SIGTERM; output:\n${output}`)
    },
  }
}
