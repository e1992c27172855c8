// Helpers for the platform API tests: the `vidup projects|keys` CLI, JSON calls to /v1 and
// /v2/init, seed 000's presigned signature, raw tus requests and tus-js-client runs.
import { execFile } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import assert from 'node:assert/strict'
import * as tus from 'tus-js-client'

import { makeTempDir, removeDir, startServer, vidupBin } from '../support/server.mjs'

const run = promisify(execFile)

// `vidup <args...> --data <dir>` → its stdout, trimmed. Throws with stderr on a non-zero exit.
export async function cli(dataDir, ...args) {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VIDUP_')) env[name] = value
  }
  try {
    const { stdout } = await run(vidupBin(), [...args, '--data', dataDir], { env, timeout: 30_000 })
    return stdout.trim()
  } catch (err) {
    throw new Error(`vidup ${args.join(' ')} failed: ${err.stderr ?? err.message}`)
  }
}

export const createProject = (dataDir, name) => cli(dataDir, 'projects', 'create', '--name', name)
export const createKey = (dataDir, projectId = null) =>
  cli(dataDir, 'keys', 'create', ...(projectId ? ['--project', projectId] : []))
export const revokeKey = (dataDir, key) => cli(dataDir, 'keys', 'revoke', key)

// A server on a data directory that already holds two projects (A, B), a global key, a key
// confined to A and a key confined to B. Credentials are required unless `auth: false`
// (which adds --no-auth).
export async function startPlatform({ args = ['--quiet'], auth = true } = {}) {
  const dataDir = await makeTempDir('vidup-api-')
  const projectA = await createProject(dataDir, 'Project A')
  const projectB = await createProject(dataDir, 'Project B')
  const globalKey = await createKey(dataDir)
  const keyA = await createKey(dataDir, projectA)
  const keyB = await createKey(dataDir, projectB)
  const server = await startServer({ args, dataDir, auth })
  return {
    server,
    dataDir,
    projectA,
    projectB,
    globalKey,
    keyA,
    keyB,
    async stop() {
      await server.stop()
      await removeDir(dataDir)
    },
  }
}

// One HTTP call. `body`: an object (sent as JSON), a string or Buffer (sent as is), or null.
// Returns { status, headers (a Headers), text, json (parsed or null), buffer }.
export async function call(server, method, path, { key = null, body = null, headers = {} } = {}) {
  const h = { ...headers }
  if (key) h.Authorization = `Bearer ${key}`
  let payload
  if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    payload = JSON.stringify(body)
    h['Content-Type'] = 'application/json'
  } else if (body !== null) {
    payload = body
  }
  const res = await fetch(server.url + path, { method, headers: h, body: payload })
  const buffer = Buffer.from(await res.arrayBuffer())
  const text = buffer.toString('utf8')
  let json = null
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text)
  return { status: res.status, headers: res.headers, text, json, buffer }
}

// Asserts a JSON error response: status, error.code and a non-empty message.
export function assertError(res, status, code) {
  assert.equal(res.status, status, `status; body: ${res.text}`)
  assert.ok(res.json && res.json.error, `a JSON error body: ${res.text}`)
  assert.equal(res.json.error.code, code, res.text)
  assert.equal(typeof res.json.error.message, 'string')
  assert.ok(res.json.error.message.length > 0)
}

// Asserts a tus error response (text/plain "ERR_X: message").
export function assertTusError(res, status, code) {
  assert.equal(res.status, status, `status; body: ${res.text}`)
  assert.ok(res.text.startsWith(`${code}:`), `expected ${code}, got: ${res.text}`)
}

// Seed 000: hex(sha256(apiKey + expiration + videoId)).
export function presign(apiKey, expiration, videoId) {
  return createHash('sha256').update(`${apiKey}${expiration}${videoId}`).digest('hex')
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)
export const unknownId = () => randomUUID()

// Creates a video through POST /v1/videos; returns its JSON.
export async function createVideo(server, key, parentId, fields = {}) {
  const res = await call(server, 'POST', '/v1/videos', { key, body: { parent_id: parentId, title: 'clip', ...fields } })
  assert.equal(res.status, 201, res.text)
  return res.json.data
}

export async function getVideo(server, key, id) {
  const res = await call(server, 'GET', `/v1/videos/${id}`, { key })
  assert.equal(res.status, 200, res.text)
  return res.json.data
}

// POST /v2/init; returns the response.
export function init(server, key, body) {
  return call(server, 'POST', '/v2/init', { key, body })
}

// Raw tus creation at `path` (default /tusupload) with extra headers.
export function tusCreate(server, headers, { path = '/tusupload', length = 10, body = null } = {}) {
  const h = { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), ...headers }
  if (body) h['Content-Type'] = 'application/offset+octet-stream'
  return call(server, 'POST', path, { headers: h, body })
}

// Upload-Metadata from an object.
export function metadata(pairs) {
  return Object.entries(pairs)
    .map(([k, v]) => `${k} ${Buffer.from(String(v)).toString('base64')}`)
    .join(',')
}

// Runs one tus.Upload to completion; resolves with the upload.
export function tusUpload(input, options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(input, {
      retryDelays: null,
      ...options,
      onError: reject,
      onSuccess: () => resolve(upload),
    })
    upload.start()
  })
}
