// examples/backend-node's page (seed 004's frontend) in headless Chromium: the page's
// tus-js-client POSTs to its own backend, which gets the upload URL from Vidup's /v2/init; the
// client then HEADs and PATCHes Vidup directly, across origins. Choose a 24 MiB file, reload
// mid-upload, choose it again: findPreviousUploads()/resumeFromPreviousUpload() must carry on at
// the offset Vidup has, and the video must end "uploaded" with byte-identical source.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { MiB } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import {
  assertUploadedVideo,
  createKey,
  createProject,
  platformApi,
  startBackend,
  writeSourceFile,
} from '../examples/platform.mjs'
import { collectConsole, delayPatches, launchChromium, patchesOf, recordRequests } from './chromium.mjs'

const kSize = 24 * MiB
const kSeedChunkSize = 10_000_000 // public/upload.js, as in seed 004
const kPatchDelayMs = 1_500

let browser
let server
let backend
let workDir
let project
let api

before(async () => {
  browser = await launchChromium()
  workDir = await makeTempDir('vidup-browser-backend-')
  server = await startServer({ auth: true })
  project = await createProject(server.dataDir, 'backend-page')
  const key = await createKey(server.dataDir, { project })
  api = platformApi(server.url, key)
  backend = await startBackend({ vidupUrl: server.url, apiKey: key, parentId: project })
})

after(async () => {
  if (browser) await browser.close()
  if (backend) await backend.stop()
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (workDir) await removeDir(workDir)
})

test('a reload mid-upload resumes through findPreviousUploads and finishes', { timeout: 240_000 }, async (t) => {
  const { file, source } = await writeSourceFile(workDir, 'backend-clip.mp4', 'backend-page', kSize)
  const context = await browser.newContext()
  t.after(() => context.close())
  const page = await context.newPage()
  const pageOutput = collectConsole(page)
  const log = recordRequests(page)
  await delayPatches(page, `${server.url}/files/`, kPatchDelayMs)
  const diagnose = () => `page:\n${pageOutput()}\nbackend:\n${backend.output()}\nserver:\n${server.output()}`
  const status = page.locator('#status')

  await page.goto(`${backend.url}/`)
  assert.equal(await page.evaluate(() => typeof window.tus), 'object', `tus.min.js did not load\n${diagnose()}`)

  // 1. Start, and wait for the first chunk to be acknowledged; the second is then held back.
  const firstChunk = page.waitForResponse((res) => res.request().method() === 'PATCH' && res.status() === 204, {
    timeout: 60_000,
  })
  await page.locator('#file-input').setInputFiles(file)
  await firstChunk.catch((err) => assert.fail(`no PATCH succeeded: ${err.message}\n${diagnose()}`))
  const firstRun = log.requests.filter((r) => r.phase === 1)
  const creations = firstRun.filter((r) => r.method === 'POST')
  assert.deepEqual(creations.map((r) => r.url), [`${backend.url}/upload`])
  assert.equal(creations[0].headers['upload-length'], String(kSize))
  const uploadUrl = patchesOf(log, 1)[0].url
  assert.ok(uploadUrl.startsWith(`${server.url}/files/`), `PATCH URL ${uploadUrl} is not Vidup's`)

  // 2. Reload mid-upload.
  log.phase = 2
  await page.reload()

  // 3. The same file again: resumed, not created anew.
  await page.locator('#file-input').setInputFiles(file)
  await page.waitForFunction(
    () => /uploaded successfully|Upload error/.test(document.getElementById('status').textContent),
    null,
    { timeout: 120_000 },
  ).catch((err) => assert.fail(`the upload did not end: ${err.message}\n${diagnose()}`))
  const text = await status.textContent()
  assert.match(text, new RegExp(`File backend-clip\\.mp4 uploaded successfully\\. URL: ${uploadUrl}$`), `${text}\n${diagnose()}`)

  const secondRun = log.requests.filter((r) => r.phase === 2)
  assert.deepEqual(secondRun.filter((r) => r.method === 'POST').map((r) => r.url), [], 'the backend was asked again')
  assert.ok(secondRun.some((r) => r.method === 'HEAD' && r.url === uploadUrl), 'no HEAD of the stored upload URL')
  // The PATCH held back at the reload is reported late, as phase 2, failed: the resumed upload's
  // PATCHes are those after its HEAD.
  const head = secondRun.findIndex((r) => r.method === 'HEAD' && r.url === uploadUrl)
  const resumed = secondRun.slice(head + 1).filter((r) => r.method === 'PATCH')
  assert.ok(resumed.length > 0 && resumed.every((r) => r.url === uploadUrl), 'PATCHes after the reload')
  const firstOffset = Number(resumed[0].headers['upload-offset'])
  t.diagnostic(`resumed at Upload-Offset ${firstOffset} of ${kSize}, in ${resumed.length} PATCHes`)
  for (const r of log.requests.filter((r) => r.method !== 'GET')) {
    t.diagnostic(`run ${r.phase}: ${r.method} ${r.url} Upload-Offset ${r.headers['upload-offset'] ?? '-'} -> ${r.status}`)
  }
  assert.ok(firstOffset >= kSeedChunkSize && firstOffset < kSize, `first PATCH after the reload at Upload-Offset ${firstOffset}`)

  // 4. One video in the project, uploaded, byte-identical.
  const listed = await api.json('GET', `/v1/videos?parent_id=${project}`)
  assert.equal(listed.status, 200, listed.text)
  assert.equal(listed.body.data.length, 1, `videos: ${listed.text}`)
  const video = listed.body.data[0]
  assert.equal(video.upload_url, uploadUrl)
  assert.equal(video.filename, 'backend-clip.mp4')
  await assertUploadedVideo(api, video.id, source, 'the backend page video')
})
