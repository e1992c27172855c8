// The demo page (web/, served by `vidup serve --demo`) in headless Chromium: choose a 24 MiB file,
// reload the page mid-upload, choose the same file again; the upload must resume where it stopped
// (no new grant, no new upload, first PATCH at an offset > 0), finish, show "uploaded" in the
// recent videos table, and the video's source must be byte-identical to the file.
//
// VIDUP_SCREENSHOT=1 also saves the finished page as docs/demo-page.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'

import { MiB } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import { assertUploadedVideo, createKey, platformApi, repoRoot, writeSourceFile } from '../examples/platform.mjs'
import { collectConsole, delayPatches, launchChromium, patchesOf, recordRequests } from './chromium.mjs'

const kSize = 24 * MiB
const kPatchDelayMs = 600
const kScreenshot = path.join(repoRoot, 'docs', 'demo-page.png')

let browser
let workDir

before(async () => {
  browser = await launchChromium()
  workDir = await makeTempDir('vidup-browser-demo-')
})

after(async () => {
  if (browser) await browser.close()
  if (workDir) await removeDir(workDir)
})

async function withServer(options, t) {
  const server = await startServer(options)
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  return server
}

const progressOf = (page) => page.getByTestId('progress').getAttribute('aria-valuenow').then(Number)

async function waitForEnd(page, timeout) {
  const status = page.getByTestId('status')
  await page.waitForFunction(
    () => ['success', 'error'].includes(document.querySelector('[data-testid=status]').dataset.state),
    null,
    { timeout },
  )
  return { state: await status.getAttribute('data-state'), text: await status.textContent() }
}

test('a reload mid-upload resumes from the stored upload URL and finishes', { timeout: 240_000 }, async (t) => {
  const server = await withServer({ auth: true, args: ['--demo'] }, t)
  const { file, source } = await writeSourceFile(workDir, 'reload-me.mp4', 'demo-page', kSize)
  const context = await browser.newContext({ viewport: { width: 960, height: 760 } })
  t.after(() => context.close())
  const page = await context.newPage()
  const pageOutput = collectConsole(page)
  const log = recordRequests(page)
  await delayPatches(page, `${server.url}/files/`, kPatchDelayMs)
  const diagnose = () => `page:\n${pageOutput()}\nserver:\n${server.output()}`

  await page.goto(`${server.url}/`)
  assert.equal(await page.title(), 'Vidup: resumable video upload')
  assert.equal(await page.evaluate(() => typeof window.tus), 'object', `tus.min.js did not load\n${diagnose()}`)

  // 1. Start, and let it pass 20 %.
  await page.getByTestId('file-input').setInputFiles(file)
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=progress]').getAttribute('aria-valuenow')) >= 20,
    null,
    { timeout: 60_000 },
  ).catch((err) => assert.fail(`progress never reached 20 %: ${err.message}\n${diagnose()}`))
  const videoId = await page.getByTestId('video-id').getAttribute('data-video-id')
  assert.match(videoId ?? '', /^[0-9a-f-]{36}$/, 'the page shows no video id')
  const firstRun = log.requests.filter((r) => r.phase === 1)
  assert.equal(firstRun.filter((r) => r.method === 'POST' && r.url.endsWith('/demo/grant')).length, 1)
  const creations = firstRun.filter((r) => r.method === 'POST' && r.url.endsWith('/tusupload'))
  assert.equal(creations.length, 1)
  assert.equal(creations[0].headers['video-id'], videoId)
  assert.ok(creations[0].headers.signature && creations[0].headers.expiration, 'the creation POST lacks the grant headers')
  const uploadUrl = patchesOf(log, 1)[0].url
  assert.ok(uploadUrl.startsWith(`${server.url}/files/`), `PATCH URL ${uploadUrl}`)

  // 2. Reload: the upload in flight is interrupted.
  log.phase = 2
  await page.reload()
  assert.equal(await progressOf(page), 0)
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length)
  assert.equal(stored, 1, 'tus-js-client stored no upload URL')

  // 3. The same file again: it resumes.
  await page.getByTestId('file-input').setInputFiles(file)
  const end = await waitForEnd(page, 120_000)
  assert.equal(end.state, 'success', `upload ended with: ${end.text}\n${diagnose()}`)
  assert.equal(await progressOf(page), 100)

  const secondRun = log.requests.filter((r) => r.phase === 2)
  assert.deepEqual(secondRun.filter((r) => r.method === 'POST').map((r) => r.url), [], 'the resumed upload made a new grant or upload')
  assert.ok(secondRun.some((r) => r.method === 'HEAD' && r.url === uploadUrl), 'no HEAD of the stored upload URL')
  // The PATCH held back at the reload is reported late, as phase 2, failed: the resumed upload's
  // PATCHes are those after its HEAD.
  const head = secondRun.findIndex((r) => r.method === 'HEAD' && r.url === uploadUrl)
  const resumed = secondRun.slice(head + 1).filter((r) => r.method === 'PATCH')
  assert.ok(resumed.length > 0, 'no PATCH after the reload')
  assert.ok(resumed.every((r) => r.url === uploadUrl), 'PATCHes after the reload went elsewhere')
  const firstOffset = Number(resumed[0].headers['upload-offset'])
  t.diagnostic(`resumed at Upload-Offset ${firstOffset} of ${kSize}, in ${resumed.length} PATCHes`)
  for (const r of log.requests.filter((r) => r.method !== 'GET')) {
    t.diagnostic(`run ${r.phase}: ${r.method} ${r.url} Upload-Offset ${r.headers['upload-offset'] ?? '-'} -> ${r.status}`)
  }
  assert.ok(firstOffset > 0 && firstOffset < kSize, `first PATCH after the reload at Upload-Offset ${firstOffset}`)
  assert.equal(await page.getByTestId('video-id').getAttribute('data-video-id'), videoId)
  const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length)
  assert.equal(left, 0, 'removeFingerprintOnSuccess left the upload URL stored')

  // 4. The table says "uploaded" (refreshed every 2 s), and the platform agrees, byte for byte.
  const row = page.locator(`[data-testid=videos] tr[data-video-id="${videoId}"]`)
  await page.locator(`[data-testid=videos] tr[data-video-id="${videoId}"][data-status=uploaded]`).waitFor({ timeout: 10_000 })
  assert.match(await row.textContent(), /reload-me\.mp4\s*uploaded\s*24\.0 MiB/)

  const api = platformApi(server.url, await createKey(server.dataDir))
  const video = await assertUploadedVideo(api, videoId, source, 'the demo video')
  assert.equal(video.filename, 'reload-me.mp4')
  assert.equal(video.filetype, 'video/mp4')

  if (process.env.VIDUP_SCREENSHOT === '1') {
    await page.mouse.move(0, 0)
    await page.screenshot({ path: kScreenshot, fullPage: true })
  }
})

test('Pause stops sending and Resume carries on at the server\'s offset', { timeout: 120_000 }, async (t) => {
  const server = await withServer({ auth: true, args: ['--demo'] }, t)
  const { file, source } = await writeSourceFile(workDir, 'pause-me.mp4', 'pause-resume', 12 * MiB)
  const context = await browser.newContext()
  t.after(() => context.close())
  const page = await context.newPage()
  const pageOutput = collectConsole(page)
  const log = recordRequests(page)
  await delayPatches(page, `${server.url}/files/`, kPatchDelayMs)

  await page.goto(`${server.url}/?chunk=${2 * MiB}`)
  const firstChunk = page.waitForResponse((res) => res.request().method() === 'PATCH' && res.status() === 204)
  await page.getByTestId('file-input').setInputFiles(file)
  await firstChunk
  await page.getByTestId('pause-button').click()
  assert.equal(await page.getByTestId('status').getAttribute('data-state'), 'paused')
  assert.equal(await page.getByTestId('resume-button').isEnabled(), true)
  const paused = await progressOf(page)
  assert.ok(paused > 0 && paused < 100, `progress when paused: ${paused}`)
  const sentWhilePausing = patchesOf(log, 1).length
  await page.waitForTimeout(3 * kPatchDelayMs)
  assert.equal(patchesOf(log, 1).length, sentWhilePausing, 'PATCHes went on after Pause')
  assert.equal(await progressOf(page), paused)

  log.phase = 2
  await page.getByTestId('resume-button').click()
  const end = await waitForEnd(page, 60_000)
  assert.equal(end.state, 'success', `upload ended with: ${end.text}\n${pageOutput()}`)
  const resumed = patchesOf(log, 2).filter((r) => r.status === 204)
  assert.ok(resumed.length > 0, 'no PATCH after Resume')
  assert.ok(Number(resumed[0].headers['upload-offset']) >= 2 * MiB, `first PATCH after Resume: ${resumed[0].headers['upload-offset']}`)
  const offsets = log.requests.filter((r) => r.method === 'PATCH').map((r) => Number(r.headers['upload-offset']))
  assert.ok(offsets.every((o) => o % (2 * MiB) === 0), `?chunk= not honoured: PATCH offsets ${offsets}`)

  const videoId = await page.getByTestId('video-id').getAttribute('data-video-id')
  const api = platformApi(server.url, await createKey(server.dataDir))
  await assertUploadedVideo(api, videoId, source, 'the paused video')
})

test('a stored upload URL that is gone falls back to a new grant and upload', { timeout: 120_000 }, async (t) => {
  const server = await withServer({ auth: true, args: ['--demo'] }, t)
  const { file, source } = await writeSourceFile(workDir, 'gone.mp4', 'gone', 8 * MiB)
  const context = await browser.newContext()
  t.after(() => context.close())
  const page = await context.newPage()
  const pageOutput = collectConsole(page)
  const log = recordRequests(page)
  await delayPatches(page, `${server.url}/files/`, kPatchDelayMs)

  await page.goto(`${server.url}/?chunk=${2 * MiB}`)
  const firstChunk = page.waitForResponse((res) => res.request().method() === 'PATCH' && res.status() === 204)
  await page.getByTestId('file-input').setInputFiles(file)
  await firstChunk
  await page.getByTestId('pause-button').click()
  const firstVideo = await page.getByTestId('video-id').getAttribute('data-video-id')
  // Point the stored entry at an upload the server never had.
  const gone = `${server.url}/files/${'0'.repeat(32)}`
  const rewritten = await page.evaluate((url) => {
    const keys = Object.keys(localStorage).filter((k) => k.startsWith('tus::'))
    for (const k of keys) localStorage.setItem(k, JSON.stringify({ ...JSON.parse(localStorage.getItem(k)), uploadUrl: url }))
    return keys.length
  }, gone)
  assert.equal(rewritten, 1)

  log.phase = 2
  await page.reload()
  await page.getByTestId('file-input').setInputFiles(file)
  const end = await waitForEnd(page, 60_000)
  assert.equal(end.state, 'success', `upload ended with: ${end.text}\n${pageOutput()}`)
  const secondRun = log.requests.filter((r) => r.phase === 2 && r.method !== 'GET')
  const heads = secondRun.filter((r) => r.method === 'HEAD')
  assert.equal(heads[0]?.url, gone, 'the stored upload URL was not tried first')
  assert.equal(heads[0]?.status, 404)
  const posts = secondRun.filter((r) => r.method === 'POST').map((r) => new URL(r.url).pathname)
  assert.deepEqual(posts, ['/demo/grant', '/tusupload'])
  const videoId = await page.getByTestId('video-id').getAttribute('data-video-id')
  assert.notEqual(videoId, firstVideo)
  const api = platformApi(server.url, await createKey(server.dataDir))
  await assertUploadedVideo(api, videoId, source, 'the new video')
})

test('without --demo the page says how to turn the demo on', { timeout: 60_000 }, async (t) => {
  const server = await withServer({ auth: true }, t)
  const { file } = await writeSourceFile(workDir, 'no-demo.mp4', 'no-demo', 64 * 1024)
  const context = await browser.newContext()
  t.after(() => context.close())
  const page = await context.newPage()

  await page.goto(`${server.url}/`)
  await page.locator('[data-testid=videos] tbody', { hasText: 'start vidup with --demo' }).waitFor({ timeout: 10_000 })
  await page.getByTestId('file-input').setInputFiles(file)
  const end = await waitForEnd(page, 20_000)
  assert.equal(end.state, 'error')
  assert.match(end.text, /start vidup with --demo/)
})
