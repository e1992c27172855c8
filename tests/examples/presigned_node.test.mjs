// examples/presigned-node (seed 000), end to end: a project and a key from the CLI, a video from
// POST /v1/videos, then the example itself (`node upload.js <file>`) signs seed 000's headers and
// uploads through /tusupload; the video must end "uploaded" with byte-identical source.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'

import { MiB } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import {
  assertUploadedVideo,
  childEnv,
  createKey,
  createProject,
  platformApi,
  repoRoot,
  run,
  writeSourceFile,
} from './platform.mjs'

const kExample = path.join(repoRoot, 'examples', 'presigned-node', 'upload.js')

let server
let workDir

before(async () => {
  server = await startServer({ auth: true })
  workDir = await makeTempDir('vidup-example-presigned-')
})

after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (workDir) await removeDir(workDir)
})

function runExample(file, env) {
  return run(process.execPath, [kExample, file], { env: childEnv(env), timeoutMs: 120_000 })
}

test('upload.js uploads a 3 MiB file to a video created with POST /v1/videos', { timeout: 180_000 }, async () => {
  const project = await createProject(server.dataDir, 'presigned-example')
  const key = await createKey(server.dataDir, { project })
  const api = platformApi(server.url, key)
  const { file, source } = await writeSourceFile(workDir, 'video.mp4', 'presigned-node', 3 * MiB)

  const created = await api.json('POST', '/v1/videos', {
    parent_id: project,
    title: 'Presigned example',
    filename: 'video.mp4',
    filetype: 'video/mp4',
    size: source.length,
  })
  assert.equal(created.status, 201, `POST /v1/videos: ${created.text}`)
  const videoId = created.body.data.id
  assert.equal(created.body.data.status, 'created')

  const res = await runExample(file, {
    VIDUP_ENDPOINT: `${server.url}/tusupload`,
    VIDUP_API_KEY: key,
    VIDUP_VIDEO_ID: videoId,
  })
  assert.equal(res.code, 0, `upload.js exited ${res.code}:\n${res.stdout}${res.stderr}\nserver:\n${server.output()}`)
  assert.match(res.stdout, new RegExp(`Uploaded ${server.url}/files/\\S+`), res.stdout)
  assert.match(res.stdout, /3145728 3145728 100\.00%/, res.stdout)

  const video = await assertUploadedVideo(api, videoId, source)
  assert.equal(video.title, 'Presigned example')
})

test('upload.js with a wrong key is refused and exits 1', { timeout: 60_000 }, async () => {
  const project = await createProject(server.dataDir, 'presigned-refused')
  const key = await createKey(server.dataDir, { project })
  const api = platformApi(server.url, key)
  const { file } = await writeSourceFile(workDir, 'refused.mp4', 'presigned-refused', 64 * 1024)
  const created = await api.json('POST', '/v1/videos', { parent_id: project, title: 'Refused' })
  assert.equal(created.status, 201, `POST /v1/videos: ${created.text}`)

  const res = await runExample(file, {
    VIDUP_ENDPOINT: `${server.url}/tusupload`,
    VIDUP_API_KEY: 'ky_00000000000000000000',
    VIDUP_VIDEO_ID: created.body.data.id,
  })
  assert.equal(res.code, 1, `upload.js exited ${res.code}:\n${res.stdout}${res.stderr}`)
  assert.match(res.stdout, /Failed because: .*response code: 40[13]/, res.stdout)
  assert.equal((await api.video(created.body.data.id)).status, 'created')
})

test('upload.js without its variables prints its usage and exits 2', async () => {
  const res = await runExample(path.join(workDir, 'nothing.mp4'), {})
  assert.equal(res.code, 2)
  assert.match(res.stderr, /usage: VIDUP_API_KEY=/)
})
