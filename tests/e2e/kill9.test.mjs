// Crash safety: kill -9 the server while a PATCH is streaming, restart it on the same data
// directory, and check that the upload survived consistently:
//   - HEAD's Upload-Offset is at most what the client sent (and at least what was acknowledged),
//   - the first Upload-Offset bytes on disk are exactly the source's first bytes,
//   - the upload can be finished from that offset, and then equals the source byte for byte.
// Kill points are random (printed, so a failure can be replayed by reading the log).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import {
  MiB,
  createUpload,
  downloadSha256,
  fileSize,
  headUpload,
  httpRequest,
  kOffsetOctetStream,
  kTusResumable,
  pseudoRandomBuffer,
  sha256,
  sha256File,
  storedFile,
  uploadIdOf,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { patchStream } from './patch_stream.mjs'

const kSize = 64 * MiB
const kRounds = 5
const source = pseudoRandomBuffer('kill9', kSize)
const sourceSha = sha256(source)

let server = null
let dataDir = null

before(async () => {
  server = await startServer()
  dataDir = server.dataDir
})

after(async () => {
  if (server) await server.stop()
  if (dataDir) await removeDir(dataDir)
})

const randomKillPoint = () => Math.floor(kSize * (0.05 + Math.random() * 0.55))

// The same upload path on whichever server is running now (ports change across restarts).
const onCurrentServer = (uploadUrl) => new URL(new URL(uploadUrl).pathname, server.url).href

async function killAndRestart() {
  const { signal } = await server.kill()
  assert.equal(signal, 'SIGKILL')
  server = await startServer({ dataDir })
}

// After a restart: offset within [acknowledged, sent], the bytes on disk up to the offset equal
// the source's. Returns the offset.
async function assertConsistent(uploadUrl, { sent, acknowledged = 0 }, t) {
  const head = await headUpload(uploadUrl)
  assert.equal(head.status, 200, `HEAD ${uploadUrl} after restart`)
  assert.equal(head.length, kSize, 'Upload-Length after restart')
  const offset = head.offset
  t.diagnostic(`acknowledged ${acknowledged}, sent ${sent}, offset after restart ${offset}`)
  assert.ok(Number.isInteger(offset), `Upload-Offset after restart: ${head.headers['upload-offset']}`)
  assert.ok(offset <= sent, `offset ${offset} > ${sent} bytes sent`)
  assert.ok(offset >= acknowledged, `offset ${offset} < ${acknowledged} bytes acknowledged`)

  const file = storedFile(dataDir, uploadIdOf(uploadUrl))
  assert.ok((await fileSize(file)) >= offset, `${file} is shorter than the offset ${offset}`)
  assert.equal(await sha256File(file, offset), sha256(source.subarray(0, offset)), `first ${offset} bytes on disk`)
  return offset
}

async function finishAndVerify(uploadUrl, offset) {
  const res = await httpRequest('PATCH', uploadUrl, {
    headers: { ...kTusResumable, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': String(offset) },
    body: source.subarray(offset),
    timeoutMs: 120_000,
  })
  assert.equal(res.status, 204, `PATCH the rest from ${offset}: ${res.status} ${res.body}`)
  assert.equal(Number(res.headers['upload-offset']), kSize)

  const file = storedFile(dataDir, uploadIdOf(uploadUrl))
  assert.equal(await fileSize(file), kSize)
  assert.equal(await sha256File(file), sourceSha, 'SHA-256 of the finished upload on disk')
  const got = await downloadSha256(uploadUrl)
  assert.equal(got.status, 200)
  assert.equal(got.sha256, sourceSha, 'SHA-256 of GET of the finished upload')
}

for (let round = 1; round <= kRounds; round++) {
  test(`kill -9 during one 64 MiB PATCH, round ${round}/${kRounds}`, { timeout: 60_000 }, async (t) => {
    const uploadUrl = await createUpload(server.endpoint, kSize)
    const killAt = randomKillPoint()
    t.diagnostic(`killing after ${killAt} bytes (${((100 * killAt) / kSize).toFixed(1)}%)`)

    const result = await patchStream(uploadUrl, 0, source, { stopAfter: killAt, onStop: () => killAndRestart() })
    await result.stopped
    assert.equal(result.sent, killAt)
    assert.equal(result.status, null, `the killed server answered the PATCH: ${result.status} ${result.body}`)

    const url = onCurrentServer(uploadUrl)
    const offset = await assertConsistent(url, { sent: result.sent }, t)
    await finishAndVerify(url, offset)
  })
}

test('kill -9 during a sequence of 1 MiB PATCHes', { timeout: 60_000 }, async (t) => {
  let uploadUrl = await createUpload(server.endpoint, kSize)
  const killAt = randomKillPoint()
  t.diagnostic(`killing after ${killAt} bytes (${((100 * killAt) / kSize).toFixed(1)}%)`)

  let acknowledged = 0
  let sent = 0
  for (let offset = 0; offset < kSize; offset += MiB) {
    const chunk = source.subarray(offset, offset + MiB)
    const crossesKill = offset + chunk.length >= killAt
    const result = await patchStream(uploadUrl, offset, chunk, {
      stopAfter: crossesKill ? killAt - offset : null,
      onStop: () => killAndRestart(),
    })
    sent = offset + result.sent
    if (crossesKill) {
      await result.stopped
      break
    }
    assert.equal(result.status, 204, `PATCH at ${offset}: ${result.status} ${result.body}`)
    acknowledged = Number(result.headers['upload-offset'])
    assert.equal(acknowledged, offset + chunk.length)
  }

  uploadUrl = onCurrentServer(uploadUrl)
  const offset = await assertConsistent(uploadUrl, { sent, acknowledged }, t)
  await finishAndVerify(uploadUrl, offset)
})
