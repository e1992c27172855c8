// Graceful shutdown: SIGTERM while a slow PATCH is in flight. The server must exit 0 within its
// --shutdown-timeout (plus slack for start-up of the exit path), and after a restart on the same
// data directory the upload must be consistent: offset <= bytes sent, equal to what the PATCH's
// response acknowledged if one came, and the bytes on disk up to the offset equal the source's.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  KiB,
  MiB,
  createUpload,
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

const kShutdownTimeoutS = 3
const kSlackMs = 2_000
const kSize = 32 * MiB

test('SIGTERM during a slow PATCH exits 0 in bounded time and keeps the upload consistent', { timeout: 90_000 }, async (t) => {
  const source = pseudoRandomBuffer('shutdown', kSize)
  const args = ['--shutdown-timeout', String(kShutdownTimeoutS)]
  let server = await startServer({ args })
  const { dataDir } = server
  t.after(() => removeDir(dataDir))

  const uploadUrl = await createUpload(server.endpoint, kSize)
  let exit = null
  let termSentAt = 0
  // About 2.5 MiB/s: 64 KiB every 25 ms, so the PATCH would take ~13 s; SIGTERM after 2 MiB.
  const result = await patchStream(uploadUrl, 0, source, {
    piece: 64 * KiB,
    pauseEvery: 64 * KiB,
    pauseMs: 25,
    stopAfter: 2 * MiB,
    keepSending: true,
    onStop: () => {
      termSentAt = Date.now()
      exit = server.stop({ expectCode: null, timeoutMs: kShutdownTimeoutS * 1000 + 20_000 })
      return exit
    },
  })
  assert.ok(exit, 'SIGTERM was sent')
  const { code, signal } = await exit
  const elapsedMs = Date.now() - termSentAt
  t.diagnostic(
    `exit ${code}/${signal} ${elapsedMs} ms after SIGTERM; PATCH sent ${result.sent} bytes, ` +
      `response ${result.status ?? result.error?.code ?? result.error?.message}` +
      (result.status ? ` Upload-Offset ${result.headers['upload-offset']} ${result.body}` : ''),
  )
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `exit after SIGTERM; output:\n${server.output()}`)
  assert.ok(
    elapsedMs <= kShutdownTimeoutS * 1000 + kSlackMs,
    `exited ${elapsedMs} ms after SIGTERM, bound ${kShutdownTimeoutS} s + ${kSlackMs} ms`,
  )
  assert.ok(result.sent < kSize, 'the PATCH was still in flight at SIGTERM')
  if (result.status !== undefined && result.status !== null) {
    // A PATCH cut off by the shutdown is told to retry (5xx: tus clients retry it) and where
    // the stored bytes end.
    assert.equal(result.status, 503, `interrupted PATCH: ${result.status} ${result.body}`)
    assert.match(result.body, /^ERR_SHUTTING_DOWN: /)
    assert.ok(result.headers['upload-offset'] !== undefined, 'the 503 carries Upload-Offset')
  }
  const acknowledged =
    result.status === 204 && result.headers['upload-offset'] !== undefined ? Number(result.headers['upload-offset']) : null

  server = await startServer({ dataDir, args })
  try {
    const url = new URL(new URL(uploadUrl).pathname, server.url).href
    const head = await headUpload(url)
    assert.equal(head.status, 200, `HEAD after restart: ${head.status}`)
    const offset = head.offset
    t.diagnostic(`offset after restart ${offset}, acknowledged ${acknowledged}`)
    assert.ok(Number.isInteger(offset) && offset <= result.sent, `offset ${offset} vs ${result.sent} sent`)
    if (acknowledged !== null) assert.equal(offset, acknowledged, 'offset equals what the PATCH acknowledged')

    const file = storedFile(dataDir, uploadIdOf(url))
    assert.ok((await fileSize(file)) >= offset)
    assert.equal(await sha256File(file, offset), sha256(source.subarray(0, offset)), `first ${offset} bytes on disk`)

    const rest = await httpRequest('PATCH', url, {
      headers: { ...kTusResumable, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': String(offset) },
      body: source.subarray(offset),
    })
    assert.equal(rest.status, 204, `PATCH the rest: ${rest.status} ${rest.body}`)
    assert.equal(await sha256File(file), sha256(source), 'finished upload on disk')
  } finally {
    await server.stop()
  }
})

test('SIGTERM on an idle server exits 0 at once', { timeout: 30_000 }, async (t) => {
  const server = await startServer()
  t.after(() => removeDir(server.dataDir))
  const started = Date.now()
  await server.stop()
  const elapsedMs = Date.now() - started
  t.diagnostic(`idle shutdown took ${elapsedMs} ms`)
  assert.ok(elapsedMs < 2_000, `idle shutdown took ${elapsedMs} ms`)
})
