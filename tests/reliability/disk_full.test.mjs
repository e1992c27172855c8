// Disk full (issue 7.2): vidup's data directory on a 32 MiB filesystem made by the test
// (small_fs.mjs: a tmpfs in a private mount namespace; the test fails if none can be made).
//   1. A 20 MiB PATCH runs out of space: 507 ERR_STORAGE_FULL, and the upload stays consistent
//      (HEAD Upload-Offset == data file size, the stored bytes are the source's prefix).
//   2. Meanwhile HEAD and GET of other uploads work.
//   3. With the disk completely full, SQLite cannot write: a PATCH whose bytes still fit in the
//      data file's last page (so only the record update fails) and a POST get 507, never a
//      corrupted upload: offset, file and source still agree, no orphan record or file, and
//      PRAGMA integrity_check says ok.
//   4. After space is freed (the filler files deleted) the small and then the large upload resume
//      to completion, byte-identical; a restart on the same directory finds everything intact.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { open, mkdir, rm, stat } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { KiB, MiB, downloadSha256, headUpload, httpRequest, kOffsetOctetStream, kTusResumable } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import { integrityCheck, storageFindings, uploadFiles, uploadRecords } from './inspect.mjs'
import { freeBytes, runInSmallFs, smallFsDir, smallFsHow, totalBytes } from './small_fs.mjs'
import { makeSource } from './source.mjs'

const kFsSize = 32 * MiB
const kBigSize = 20 * MiB

const fsDir = smallFsDir()
let server
let dataDir
let work

if (!fsDir) {
  // Outside: run this file again inside a namespace that has the small filesystem.
  test(`disk full on a ${kFsSize}-byte filesystem (in a private mount namespace)`, { timeout: 280_000 }, async () => {
    await runInSmallFs(fileURLToPath(import.meta.url), kFsSize)
  })
} else {
  before(async () => {
    const total = await totalBytes(fsDir)
    console.log(`# small filesystem: ${smallFsHow()}, ${total} bytes at ${fsDir}`)
    assert.ok(total <= kFsSize * 1.05, `${fsDir} has ${total} bytes: not the small filesystem`)
    dataDir = path.join(fsDir, 'data')
    await mkdir(dataDir)
    server = await startServer({ dataDir, args: ['--quiet'], backend: 'file' })
    work = await makeTempDir('vidup-diskfull-')
  })

  after(async () => {
    if (server) await server.stop()
    if (work) await removeDir(work)
  })

  test('disk full: 507, consistent offsets, other uploads keep working, resume after space is freed', { timeout: 240_000 }, diskFull)
}

// Writes `bytes` (or, with Infinity, as many as fit) to `file`; returns how many landed.
async function fill(file, bytes) {
  const fh = await open(file, 'w')
  const piece = Buffer.alloc(MiB, 0xab)
  let written = 0
  try {
    while (written < bytes) {
      const n = Math.min(piece.length, bytes - written)
      try {
        const { bytesWritten } = await fh.write(piece, 0, n, written)
        written += bytesWritten
      } catch (err) {
        if (err.code !== 'ENOSPC' || bytes !== Infinity) throw err
        return written + (await fillTail(fh, written)) // the last partial MiB, a page at a time
      }
    }
  } finally {
    await fh.close()
  }
  return written
}

async function fillTail(fh, at) {
  const page = Buffer.alloc(4 * KiB, 0xcd)
  let n = 0
  for (;;) {
    try {
      const { bytesWritten } = await fh.write(page, 0, page.length, at + n)
      n += bytesWritten
      if (bytesWritten < page.length) return n
    } catch (err) {
      if (err.code === 'ENOSPC') return n
      throw err
    }
  }
}

// PATCH `body` at `offset`; resolves with the response even when the server answers before it
// read the whole body and closes (the client's write then fails, which is expected).
function patch(url, offset, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'PATCH',
      agent: false,
      headers: { ...kTusResumable, 'Content-Type': kOffsetOctetStream, 'Upload-Offset': String(offset), 'Content-Length': String(body.length) },
    })
    let writeError = null
    req.once('error', (err) => {
      writeError = err
      setTimeout(() => reject(new Error(`PATCH ${url}: no response (${err.message})`)), 2000)
    })
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.once('error', () => {})
      res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), writeError }))
    })
    req.end(body)
  })
}

async function createUpload(size) {
  const res = await httpRequest('POST', server.endpoint, { headers: { ...kTusResumable, 'Upload-Length': String(size) } })
  return { res, url: res.status === 201 ? new URL(res.headers.location, server.endpoint).href : null }
}

const fileOf = (url) => path.join(dataDir, 'uploads', new URL(url).pathname.split('/').pop())

// HEAD offset == data file size, and the file is the source's prefix. Returns the offset.
async function assertConsistent(url, source, what) {
  const head = await headUpload(url)
  assert.equal(head.status, 200, `${what}: HEAD ${url}`)
  const size = (await stat(fileOf(url))).size
  assert.equal(head.offset, size, `${what}: HEAD Upload-Offset ${head.offset}, data file ${size} bytes`)
  assert.ok(await source.matchesFile(fileOf(url), 0, head.offset), `${what}: the ${head.offset} stored bytes are not the source's prefix`)
  return head.offset
}

async function assertStoreSound(what) {
  assert.equal(await integrityCheck(dataDir), 'ok', `${what}: PRAGMA integrity_check`)
  const findings = storageFindings(await uploadRecords(dataDir), await uploadFiles(dataDir))
  assert.deepEqual(findings, [], `${what}: records and data files`)
}

function assertFull(res, what) {
  assert.equal(res.status, 507, `${what}: ${res.status} ${res.body}`)
  assert.match(String(res.body), /^ERR_STORAGE_FULL: /, `${what}: body`)
}

async function diskFull(t) {
  const big = await makeSource(work, 'big.bin', 'disk-full-big', kBigSize)
  const small = await makeSource(work, 'small.bin', 'disk-full-small', 256 * KiB)
  const done = await makeSource(work, 'done.bin', 'disk-full-done', 64 * KiB)
  const A = (await createUpload(kBigSize)).url
  const B = (await createUpload(small.size)).url
  const C = (await createUpload(done.size)).url
  assert.ok(A && B && C, 'three uploads created')
  assert.equal((await patch(C, 0, done.range(0, done.size))).status, 204)
  // B's offset ends mid-page, so a later tiny PATCH fits in the page its data file already has.
  const bStart = 64 * KiB + 100
  assert.equal((await patch(B, 0, small.range(0, bStart))).status, 204)

  // 1. Leave ~6 MiB free, then PATCH 20 MiB.
  const filler1 = path.join(fsDir, 'filler-1')
  const leave = 6 * MiB
  await fill(filler1, (await freeBytes(fsDir)) - leave)
  const r1 = await patch(A, 0, big.range(0, kBigSize))
  assertFull(r1, 'the 20 MiB PATCH')
  const aOffset = await assertConsistent(A, big, 'A after the 507')
  assert.equal(Number(r1.headers['upload-offset']), aOffset, 'the 507 carries the offset HEAD reports')
  assert.ok(aOffset <= leave, `A holds ${aOffset} bytes, more than the ${leave} that were free`)
  t.diagnostic(`20 MiB PATCH with ${leave} bytes free: 507 ERR_STORAGE_FULL, offset kept at ${aOffset} ` +
    `(${aOffset ? 'the bytes that fit were recorded' : 'the record could not be updated either, so the unrecorded bytes were dropped'})`)

  // 2. Other uploads keep working.
  assert.equal(await assertConsistent(B, small, 'B while A is full'), bStart)
  let got = await downloadSha256(C)
  assert.equal(got.status, 200)
  assert.equal(got.sha256, done.sha256, 'GET of the finished upload while the disk is full')

  // 3. Completely full: fill what is left, so SQLite cannot grow its write-ahead log either.
  const filler2 = path.join(fsDir, 'filler-2')
  await fill(filler2, Infinity)
  assert.ok((await freeBytes(fsDir)) < 64 * KiB, `still ${await freeBytes(fsDir)} bytes free`)
  const tiny = await patch(B, bStart, small.range(bStart, 1000))
  assertFull(tiny, 'a 1000-byte PATCH when only the record update cannot be written')
  assert.equal(Number(tiny.headers['upload-offset']), bStart, 'the 507 reports the recorded offset, not the bytes that were not recorded')
  assert.equal(await assertConsistent(B, small, 'B after SQLite could not write'), bStart)
  const chunk = await patch(B, bStart, small.range(bStart, 64 * KiB))
  assertFull(chunk, 'a 64 KiB PATCH on a full disk')
  assert.equal(await assertConsistent(B, small, 'B after the 64 KiB PATCH'), bStart)
  const created = await createUpload(1000)
  assertFull({ status: created.res.status, body: created.res.body.toString() }, 'POST on a full disk')
  assert.equal((await headUpload(C)).status, 200, 'HEAD on a full disk')
  got = await downloadSha256(C)
  assert.equal(got.sha256, done.sha256, 'GET on a full disk')
  await assertConsistent(A, big, 'A on a full disk')
  await assertStoreSound('on a full disk')

  // 4. Free the 2nd filler: the small upload finishes; then the 1st: the large one does.
  await rm(filler2)
  const rest = await patch(B, bStart, small.range(bStart, small.size - bStart))
  assert.equal(rest.status, 204, `B's rest after space was freed: ${rest.status} ${rest.body}`)
  got = await downloadSha256(B)
  assert.equal(got.sha256, small.sha256, 'B byte-identical')
  await rm(filler1)
  const from = (await headUpload(A)).offset
  const r2 = await patch(A, from, big.range(from, kBigSize - from))
  assert.equal(r2.status, 204, `A resumed from ${from}: ${r2.status} ${r2.body}`)
  got = await downloadSha256(A)
  assert.equal(got.length, kBigSize)
  assert.equal(got.sha256, big.sha256, 'A byte-identical after the disk was full')
  await assertStoreSound('after space was freed')

  // 5. A restart on the same directory: recovery agrees.
  await server.stop()
  server = await startServer({ dataDir, args: ['--quiet'], backend: 'file' })
  for (const [url, source] of [[A, big], [B, small], [C, done]]) {
    const now = new URL(new URL(url).pathname, server.url).href // the restarted server's port
    assert.equal(await assertConsistent(now, source, 'after a restart'), source.size)
  }
  await assertStoreSound('after a restart')
}
