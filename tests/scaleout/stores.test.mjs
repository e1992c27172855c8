// One set of tus behaviour tests for every store configuration: bytes on the file store or on S3
// (radosgw), records in SQLite or PostgreSQL, chosen by $VIDUP_TEST_BACKEND ('file', 's3',
// 'postgres', 's3+postgres'; tests/scaleout/CMakeLists.txt registers the file four times). Each
// test goes through a real `vidup serve` and checks what the client sees and what is stored:
// offsets across S3 part boundaries, ranged GETs, 409 and 460 that change nothing, deferred
// length ended by an empty PATCH, termination and the expiry sweep leaving no object, record or
// multipart upload behind, concatenation, and a kill -9 followed by a new process on the same
// stores.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'

import { s3Leftovers } from '../support/backends.mjs'
import {
  KiB,
  MiB,
  createUpload,
  downloadSha256,
  headUpload,
  httpRequest,
  kOffsetOctetStream,
  kTusResumable,
  pseudoRandomBuffer,
  sha256,
  sleep,
  uploadIdOf,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'

const kBackend = process.env.VIDUP_TEST_BACKEND || 'file'
const kOnS3 = kBackend.includes('s3')
// S3's smallest part, so a few MiB cross several part boundaries.
const kPartSize = 5 * MiB
const kS3Args = kOnS3 ? ['--s3-part-size', String(kPartSize)] : []

function patch(url, offset, body, headers = {}) {
  return httpRequest('PATCH', url, {
    headers: { ...kTusResumable, 'Upload-Offset': String(offset), 'Content-Type': kOffsetOctetStream, ...headers },
    body,
  })
}

async function patchOk(url, offset, body) {
  const res = await patch(url, offset, body)
  assert.equal(res.status, 204, `PATCH at ${offset}: ${res.status} ${res.body}`)
  assert.equal(Number(res.headers['upload-offset']), offset + body.length, 'Upload-Offset after the PATCH')
}

async function assertBytes(url, expected, what) {
  const got = await downloadSha256(url)
  assert.equal(got.status, 200, `${what}: GET ${url}`)
  assert.equal(got.length, expected.length, `${what}: length`)
  assert.equal(got.sha256, sha256(expected), `${what}: SHA-256`)
}

// What the server's byte store still holds of an upload: S3 objects and multipart uploads, or the
// file store's files (the upload's file and anything named after it).
async function leftovers(server, uploadUrl) {
  const id = uploadIdOf(uploadUrl)
  if (kOnS3) {
    const s3 = await s3Leftovers(server.stores.s3, id)
    return [...s3.objects, ...s3.multipartUploads.map((k) => `multipart upload of ${k}`)]
  }
  const dir = path.join(server.dataDir, 'uploads')
  return (await readdir(dir, { recursive: true })).filter((name) => path.basename(name).startsWith(id))
}

describe(`tus on ${kBackend} stores`, () => {
  let server

  before(async () => {
    server = await startServer({ args: [...kS3Args, '--quiet'] })
    console.log(`# ${kBackend}: vidup serve ${server.stores.args.join(' ')}`)
  })

  after(async () => {
    await server?.stop()
    await removeDir(server?.dataDir)
  })

  test('PATCHes of odd sizes across part boundaries: every offset, the bytes, ranged GETs', async () => {
    const source = pseudoRandomBuffer(501, 3 * kPartSize + 123)
    const url = await createUpload(server.endpoint, source.length)
    const pieces = [MiB + 7, 3 * MiB, 100, kPartSize, 1, kPartSize - 1]
    let offset = 0
    for (const size of pieces) {
      await patchOk(url, offset, source.subarray(offset, offset + size))
      offset += size
      const head = await headUpload(url)
      assert.equal(head.status, 200)
      assert.equal(head.offset, offset, 'HEAD after each PATCH')
      assert.equal(head.length, source.length)
    }
    await patchOk(url, offset, source.subarray(offset))
    await assertBytes(url, source, 'the whole upload')

    for (const [first, last] of [[kPartSize - 10, kPartSize + 9], [0, 0], [source.length - 5, source.length - 1]]) {
      const res = await httpRequest('GET', url, { headers: { Range: `bytes=${first}-${last}` } })
      assert.equal(res.status, 206, `GET bytes=${first}-${last}`)
      assert.equal(res.headers['content-range'], `bytes ${first}-${last}/${source.length}`)
      assert.ok(res.body.equals(source.subarray(first, last + 1)), `the bytes of ${first}-${last}`)
    }
  })

  test('a PATCH at the wrong offset is 409 and changes nothing', async () => {
    const source = pseudoRandomBuffer(502, 64 * KiB)
    const url = await createUpload(server.endpoint, source.length)
    await patchOk(url, 0, source.subarray(0, 1000))
    for (const wrong of [0, 500, 1001]) {
      const res = await patch(url, wrong, source.subarray(wrong, wrong + 100))
      assert.equal(res.status, 409, `PATCH at ${wrong}`)
      assert.match(res.body.toString(), /^ERR_MISMATCHED_OFFSET: /)
    }
    assert.equal((await headUpload(url)).offset, 1000)
    await patchOk(url, 1000, source.subarray(1000))
    await assertBytes(url, source, 'after the refused PATCHes')
  })

  test('a PATCH whose checksum does not match is 460 and stores none of its bytes', async () => {
    const source = pseudoRandomBuffer(503, kPartSize + 4 * KiB)
    const url = await createUpload(server.endpoint, source.length)
    const sha1 = (b) => `sha1 ${createHash('sha1').update(b).digest('base64')}`
    const first = source.subarray(0, 3 * MiB)
    const res = await patch(url, 0, first, { 'Upload-Checksum': sha1(Buffer.from('other bytes')) })
    assert.equal(res.status, 460, `mismatched checksum: ${res.status} ${res.body}`)
    assert.equal((await headUpload(url)).offset, 0)
    const good = await patch(url, 0, first, { 'Upload-Checksum': sha1(first) })
    assert.equal(good.status, 204, `matching checksum: ${good.status} ${good.body}`)
    // The next one fills a part and goes on: refused, then sent again right.
    const rest = source.subarray(first.length)
    const bad = Buffer.from(rest)
    bad[bad.length - 1] ^= 0xff
    assert.equal((await patch(url, first.length, bad, { 'Upload-Checksum': sha1(rest) })).status, 460)
    assert.equal((await headUpload(url)).offset, first.length)
    assert.equal((await patch(url, first.length, rest, { 'Upload-Checksum': sha1(rest) })).status, 204)
    await assertBytes(url, source, 'after two refused chunks')
  })

  test('creation-with-upload, deferred length, and an empty PATCH that declares the length', async () => {
    const source = pseudoRandomBuffer(504, kPartSize + 300 * KiB)
    const created = await httpRequest('POST', server.endpoint, {
      headers: { ...kTusResumable, 'Upload-Defer-Length': '1', 'Content-Type': kOffsetOctetStream },
      body: source.subarray(0, 200 * KiB),
    })
    assert.equal(created.status, 201, `POST with a body: ${created.status} ${created.body}`)
    assert.equal(Number(created.headers['upload-offset']), 200 * KiB)
    const url = new URL(created.headers.location, server.endpoint).href
    await patchOk(url, 200 * KiB, source.subarray(200 * KiB))
    const head = await headUpload(url)
    assert.equal(head.offset, source.length)
    assert.equal(head.length, null, 'no Upload-Length while deferred')
    assert.equal(head.headers['upload-defer-length'], '1')
    const last = await patch(url, source.length, Buffer.alloc(0), { 'Upload-Length': String(source.length) })
    assert.equal(last.status, 204, `the empty PATCH with Upload-Length: ${last.status} ${last.body}`)
    assert.equal((await headUpload(url)).length, source.length)
    await assertBytes(url, source, 'deferred length')
  })

  test('DELETE leaves no record, object, tail or multipart upload behind', async () => {
    const source = pseudoRandomBuffer(505, 2 * kPartSize)
    const url = await createUpload(server.endpoint, source.length)
    await patchOk(url, 0, source.subarray(0, kPartSize + 4321))  // a full part and a tail
    assert.notDeepEqual(await leftovers(server, url), [], 'something is stored before the DELETE')
    const del = await httpRequest('DELETE', url, { headers: kTusResumable })
    assert.equal(del.status, 204)
    assert.equal((await headUpload(url)).status, 410, 'HEAD after DELETE (tombstone)')
    assert.equal((await patch(url, kPartSize + 4321, Buffer.from('x'))).status, 410, 'PATCH after DELETE')
    assert.deepEqual(await leftovers(server, url), [], 'stored after the DELETE')
  })

  test('concatenation of a 6 MiB partial and a 1 KiB partial', async () => {
    const a = pseudoRandomBuffer(506, 6 * MiB)
    const b = pseudoRandomBuffer(507, KiB)
    const partial = async (bytes) => {
      const u = await createUpload(server.endpoint, bytes.length, { 'Upload-Concat': 'partial' })
      await patchOk(u, 0, bytes)
      return u
    }
    const pa = await partial(a)
    const pb = await partial(b)
    const res = await httpRequest('POST', server.endpoint, {
      headers: { ...kTusResumable, 'Upload-Concat': `final;${new URL(pa).pathname} ${new URL(pb).pathname}` },
    })
    assert.equal(res.status, 201, `final: ${res.status} ${res.body}`)
    const final = new URL(res.headers.location, server.endpoint).href
    const head = await headUpload(final)
    assert.equal(head.offset, a.length + b.length)
    assert.equal(head.length, a.length + b.length)
    await assertBytes(final, Buffer.concat([a, b]), 'the final upload')
    await assertBytes(pa, a, 'the first partial, still there')
  })
})

describe(`restarts and expiry on ${kBackend} stores`, () => {
  test('kill -9 after acknowledged PATCHes: a new process on the same stores resumes there', async () => {
    // On PostgreSQL the lock of a PATCH answered just before the kill may still be in the
    // database (its DELETE runs after the answer): it lapses after --lock-lease, and until then
    // the new process answers 423, which clients retry.
    const lease = ['--lock-lease', '2']
    const first = await startServer({ args: [...kS3Args, ...lease, '--quiet'] })
    const same = { backend: 'file', dataDir: first.dataDir,
      args: [...first.stores.args, ...kS3Args, ...lease, '--quiet'], env: first.stores.env }
    let second = null
    try {
      const source = pseudoRandomBuffer(508, 2 * kPartSize + 77)
      const url = await createUpload(first.endpoint, source.length)
      const acked = kPartSize + 3 * MiB + 11  // past a part boundary, in the middle of a part
      await patchOk(url, 0, source.subarray(0, MiB))
      await patchOk(url, MiB, source.subarray(MiB, acked))
      await first.kill()

      second = await startServer(same)
      const on2 = `${second.url}${new URL(url).pathname}`
      let head = await headUpload(on2)
      for (let i = 0; i < 20 && head.status === 423; i++) {
        await sleep(500)
        head = await headUpload(on2)
      }
      assert.equal(head.status, 200, 'HEAD on the new process')
      assert.equal(head.offset, acked, 'every acknowledged byte, nothing more')
      await patchOk(on2, acked, source.subarray(acked))
      await assertBytes(on2, source, 'resumed on the new process')
    } finally {
      if (first.proc.exitCode === null && first.proc.signalCode === null) await first.kill()
      await second?.stop()
      await removeDir(first.dataDir)
    }
  })

  test('the expiry sweep removes an abandoned upload from both stores', async () => {
    const server = await startServer({ args: [...kS3Args, '--quiet', '--expiry', '2', '--sweep-interval', '0.2'] })
    try {
      const source = pseudoRandomBuffer(509, 2 * kPartSize)
      const url = await createUpload(server.endpoint, source.length)
      await patchOk(url, 0, source.subarray(0, kPartSize + 999))
      assert.notDeepEqual(await leftovers(server, url), [], 'something is stored before expiry')
      let gone = null
      for (let i = 0; i < 150 && gone === null; i++) {
        await sleep(100)
        if ((await leftovers(server, url)).length === 0) gone = i
      }
      assert.notEqual(gone, null, `still stored 15 s after a 2 s expiry: ${await leftovers(server, url)}`)
      assert.equal((await headUpload(url)).status, 410, 'HEAD after the sweep (tombstone)')
    } finally {
      await server.stop()
      await removeDir(server.dataDir)
    }
  })
})
