// `vidup upload` on the platform's paths, against `vidup serve` with authentication:
// --api-key + --parent-id (the CLI creates the video, then a presigned upload), presigned headers
// from `vidup sign`, and --upload-url from POST /v2/init. The video must end "uploaded" with
// byte-identical source.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { writeFile } from 'node:fs/promises'
import path from 'node:path'

import { MiB, pseudoRandomBuffer } from '../support/bytes.mjs'
import { startServer } from '../support/server.mjs'
import { assertUploadedVideo, createKey, createProject, platformApi } from '../examples/platform.mjs'
import { describe, jsonResult, makeTempDir, removeDir, runUpload, runVidup } from './cli.mjs'

let server
let work
let stateHome
let project
let key
let api

before(async () => {
  server = await startServer({ auth: true })
  work = await makeTempDir('vidup-client-platform-')
  stateHome = await makeTempDir('vidup-client-state-')
  project = await createProject(server.dataDir, 'client-e2e')
  key = await createKey(server.dataDir, { project })
  api = platformApi(server.url, key)
})

after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (work) await removeDir(work)
  if (stateHome) await removeDir(stateHome)
})

async function source(name, size) {
  const bytes = pseudoRandomBuffer(`platform-${name}`, size)
  const file = path.join(work, name)
  await writeFile(file, bytes)
  return { file, bytes }
}

async function upload(args) {
  const res = await runUpload(args, { stateHome, timeoutMs: 120_000 })
  assert.equal(res.code, 0, `${describe(res, args)}\nserver:\n${server.output().slice(-4000)}`)
  const line = jsonResult(res, args)
  assert.equal(line.status, 'uploaded', describe(res, args))
  return line
}

// The three values of `vidup sign` (--json, whatever the spelling of its keys).
function signedValues(stdout) {
  const parsed = JSON.parse(stdout.trim().split('\n').pop())
  const obj = parsed.data ?? parsed.headers ?? parsed
  const pick = (re) => Object.entries(obj).find(([k]) => re.test(k))?.[1]
  return {
    signature: String(pick(/^signature$/i) ?? ''),
    expiration: String(pick(/^expiration$/i) ?? ''),
    videoId: String(pick(/^video[-_]?id$/i) ?? ''),
  }
}

test('--api-key + --parent-id creates the video and uploads it (presigned)', { timeout: 120_000 }, async () => {
  const { file, bytes } = await source('api-key.mp4', 3 * MiB + 11)
  const args = [file, '--endpoint', `${server.url}/tusupload`, '--api-key', key, '--parent-id', project,
    '--chunk-size', String(MiB), '--json', '--quiet']
  const line = await upload(args)
  assert.match(line.video_id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, JSON.stringify(line))
  const video = await assertUploadedVideo(api, line.video_id, bytes, '--api-key video')
  assert.equal(video.parent_id, project)
  assert.equal(video.filename, 'api-key.mp4', JSON.stringify(video))
  assert.equal(new URL(video.upload_url).pathname, new URL(line.upload_url).pathname)
})

test('presigned headers from `vidup sign` (plain and --json output)', { timeout: 120_000 }, async () => {
  const { file, bytes } = await source('signed.mp4', 2 * MiB + 1)
  const created = await api.json('POST', '/v1/videos', { parent_id: project, title: 'Signed by the CLI' })
  assert.equal(created.status, 201, created.text)
  const videoId = created.body.data.id

  const plain = await runVidup(['sign', '--api-key', key, '--video-id', videoId, '--expires-in', '600'])
  assert.equal(plain.code, 0, `vidup sign: ${plain.stdout}${plain.stderr}`)
  assert.match(plain.stdout, /Signature:\s*[0-9a-f]{64}/i, plain.stdout)
  assert.match(plain.stdout, /Expiration:\s*\d+/i, plain.stdout)
  assert.match(plain.stdout, new RegExp(`Video-Id:\\s*${videoId}`, 'i'), plain.stdout)

  const signed = await runVidup(['sign', '--api-key', key, '--video-id', videoId, '--json'])
  assert.equal(signed.code, 0, `vidup sign --json: ${signed.stdout}${signed.stderr}`)
  const values = signedValues(signed.stdout)
  assert.match(values.signature, /^[0-9a-f]{64}$/i, signed.stdout)
  assert.equal(values.videoId, videoId, signed.stdout)
  const expiration = Number(values.expiration)
  const now = Math.floor(Date.now() / 1000)
  assert.ok(expiration > now + 3000 && expiration <= now + 3700, `default --expires-in 3600: ${signed.stdout}`)

  const args = [file, '--endpoint', `${server.url}/tusupload`, '--signature', values.signature,
    '--expiration', values.expiration, '--video-id', videoId, '--json', '--quiet']
  const line = await upload(args)
  assert.equal(line.video_id, videoId, JSON.stringify(line))
  await assertUploadedVideo(api, videoId, bytes, 'signed video')
})

test('--upload-url from POST /v2/init', { timeout: 120_000 }, async () => {
  const { file, bytes } = await source('init.mp4', 4 * MiB + 3)
  const init = await api.json('POST', '/v2/init', {
    parent_id: project, type: 'video', filename: 'init.mp4', filesize: bytes.length,
  })
  assert.equal(init.status, 201, init.text)
  const { id: videoId, endpoint } = init.body.data
  const args = [file, '--endpoint', `${server.url}/files/`, '--upload-url', endpoint,
    '--chunk-size', String(MiB), '--json', '--quiet']
  const line = await upload(args)
  assert.equal(line.upload_url, endpoint)
  assert.equal(line.resumed_from, 0)
  assert.equal(line.bytes_sent, bytes.length)
  await assertUploadedVideo(api, videoId, bytes, '/v2/init video')
})

test('a wrong signature is refused: exit 1, the server\'s ERR_ line on stderr', { timeout: 60_000 }, async () => {
  const { file } = await source('refused.mp4', 1000)
  const created = await api.json('POST', '/v1/videos', { parent_id: project, title: 'Refused' })
  assert.equal(created.status, 201, created.text)
  const args = [file, '--endpoint', `${server.url}/tusupload`, '--signature', '0'.repeat(64),
    '--expiration', String(Math.floor(Date.now() / 1000) + 600), '--video-id', created.body.data.id,
    '--retry-delays', '0,0', '--json']
  const res = await runUpload(args, { stateHome, timeoutMs: 60_000 })
  assert.equal(res.code, 1, describe(res, args))
  assert.match(res.stderr, /ERR_SIGNATURE_MISMATCH/, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'failed')
  assert.match(String(line.error), /403|ERR_SIGNATURE_MISMATCH/, JSON.stringify(line))
})
