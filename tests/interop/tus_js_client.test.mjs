// Interop: the real tus-js-client (Node build) against a real `vidup serve`.
//
// Every upload is checked twice for byte identity with its source: by GET of the upload URL and
// (file store) by reading <dataDir>/uploads/<id>, both compared by SHA-256. Registered twice:
// on the default file+SQLite server and on S3+PostgreSQL (VIDUP_TEST_BACKEND). Requests are recorded through the
// client's onBeforeRequest/onAfterResponse hooks, so each test can also say which requests the
// client made (resume offset, concatenation, method override, creation-with-upload, ...).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as tus from 'tus-js-client'

import {
  MiB,
  downloadSha256,
  fileSize,
  headUpload,
  httpRequest,
  kTusResumable,
  pseudoRandomBuffer,
  pseudoRandomStream,
  sha256,
  sha256File,
  storedFile,
  uploadIdOf,
} from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'

const kAllExtensions = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'checksum',
  'checksum-trailer',
  'termination',
  'concatenation',
  'concatenation-unfinished',
]

let server
let workDir

before(async () => {
  server = await startServer()
  workDir = await makeTempDir('vidup-interop-')
})

after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (workDir) await removeDir(workDir)
})

// Runs one tus.Upload to completion. Returns the upload and the requests it made:
// [{method, url, override, offset (request Upload-Offset), concat, status, responseOffset}].
function runUpload(input, options = {}, { upload: prepared = null, onProgress = null } = {}) {
  const requests = []
  return new Promise((resolve, reject) => {
    const upload =
      prepared ??
      new tus.Upload(input, {
        endpoint: server.endpoint,
        retryDelays: null,
        ...options,
      })
    upload.options.onBeforeRequest = (req) => {
      requests.push({
        method: req.getMethod(),
        url: req.getURL(),
        override: req.getHeader('X-HTTP-Method-Override') ?? null,
        offset: req.getHeader('Upload-Offset') ?? null,
        length: req.getHeader('Upload-Length') ?? null,
        deferLength: req.getHeader('Upload-Defer-Length') ?? null,
        concat: req.getHeader('Upload-Concat') ?? null,
      })
    }
    upload.options.onAfterResponse = (req, res) => {
      const record = requests.findLast((r) => r.method === req.getMethod() && r.url === req.getURL())
      if (record) {
        record.status = res.getStatus()
        record.responseOffset = res.getHeader('Upload-Offset') ?? null
      }
    }
    upload.options.onSuccess = () => resolve({ upload, requests })
    upload.options.onError = (err) => reject(err)
    if (onProgress) upload.options.onProgress = (sent, total) => onProgress(upload, sent, total, resolve)
    upload.start()
  })
}

// The upload at `uploadUrl` holds exactly `expected` (Buffer) or {size, sha256}.
async function assertStored(uploadUrl, expected) {
  const want = Buffer.isBuffer(expected) ? { size: expected.length, sha256: sha256(expected) } : expected
  const got = await downloadSha256(uploadUrl)
  assert.equal(got.status, 200, `GET ${uploadUrl}`)
  assert.equal(got.length, want.size, `GET ${uploadUrl}: body length`)
  assert.equal(got.sha256, want.sha256, `GET ${uploadUrl}: body SHA-256`)

  if (!server.backend.includes('s3')) {
    // The S3 backends are checked through GET above (ranged GetObject).
    const file = storedFile(server.dataDir, uploadIdOf(uploadUrl))
    assert.equal(await fileSize(file), want.size, `size of ${file}`)
    assert.equal(await sha256File(file), want.sha256, `SHA-256 of ${file}`)
  }

  const head = await headUpload(uploadUrl)
  assert.equal(head.status, 200, `HEAD ${uploadUrl}`)
  assert.equal(head.offset, want.size, `HEAD ${uploadUrl}: Upload-Offset`)
}

async function writeSource(name, buffer) {
  const file = path.join(workDir, name)
  await writeFile(file, buffer)
  return file
}

const patches = (requests) =>
  requests.filter((r) => r.method === 'PATCH' || (r.method === 'POST' && r.override === 'PATCH'))

describe('OPTIONS /files/', () => {
  test('advertises tus 1.0.0, all nine extensions and sha1', async () => {
    const res = await httpRequest('OPTIONS', server.endpoint, { headers: kTusResumable })
    assert.ok(res.status === 204 || res.status === 200, `OPTIONS status ${res.status}`)
    assert.equal(res.headers['tus-resumable'], '1.0.0')
    const versions = (res.headers['tus-version'] ?? '').split(',').map((s) => s.trim())
    assert.ok(versions.includes('1.0.0'), `Tus-Version: ${res.headers['tus-version']}`)
    const extensions = (res.headers['tus-extension'] ?? '').split(',').map((s) => s.trim())
    for (const ext of kAllExtensions) {
      assert.ok(extensions.includes(ext), `Tus-Extension lacks ${ext}: ${res.headers['tus-extension']}`)
    }
    const algorithms = (res.headers['tus-checksum-algorithm'] ?? '').split(',').map((s) => s.trim())
    assert.ok(algorithms.includes('sha1'), `Tus-Checksum-Algorithm: ${res.headers['tus-checksum-algorithm']}`)
  })
})

describe('tus-js-client', () => {
  test('(a) uploads 5 MiB from a Buffer in one PATCH', async () => {
    const source = pseudoRandomBuffer('a-buffer', 5 * MiB)
    const metadata = { filename: 'ünïcödé name.bin', filetype: 'application/octet-stream' }
    const { upload, requests } = await runUpload(source, { metadata })
    assert.equal(patches(requests).length, 1)
    await assertStored(upload.url, source)

    const head = await headUpload(upload.url)
    const pairs = Object.fromEntries(
      (head.headers['upload-metadata'] ?? '').split(',').map((pair) => {
        const [key, value = ''] = pair.trim().split(' ')
        return [key, Buffer.from(value, 'base64').toString('utf8')]
      }),
    )
    assert.deepEqual(pairs, metadata, 'Upload-Metadata round trip')
  })

  test('(a) uploads 5 MiB from an fs.ReadStream', async () => {
    const source = pseudoRandomBuffer('a-file', 5 * MiB)
    const file = await writeSource('a-file.bin', source)
    const { upload } = await runUpload(createReadStream(file))
    await assertStored(upload.url, source)
  })

  test('(b) uploads 5 MiB in 1 MiB chunks', async () => {
    const source = pseudoRandomBuffer('b', 5 * MiB)
    const { upload, requests } = await runUpload(source, { chunkSize: MiB })
    const offsets = patches(requests).map((r) => Number(r.offset))
    assert.deepEqual(offsets, [0, 1, 2, 3, 4].map((i) => i * MiB), 'PATCH Upload-Offsets')
    for (const r of patches(requests)) assert.equal(r.status, 204)
    await assertStored(upload.url, source)
  })

  test('(c) resumes an aborted upload from the URL storage', async () => {
    const size = 8 * MiB
    const source = pseudoRandomBuffer('c', size)
    const file = await writeSource('c.bin', source)
    const urlStorage = new tus.FileUrlStorage(path.join(workDir, 'c-urls.json'))
    const options = { chunkSize: MiB, urlStorage, storeFingerprintForResuming: true }

    // First attempt: abort once the third chunk is under way (so >= 2 MiB are acknowledged).
    let abortedAt = null
    const first = await runUpload(createReadStream(file), options, {
      onProgress: (upload, sent, _total, resolve) => {
        if (abortedAt === null && sent > 2 * MiB) {
          abortedAt = sent
          upload.abort().then(() => resolve({ upload, requests: [] }))
        }
      },
    })
    assert.ok(abortedAt !== null, 'first upload was aborted')
    const uploadUrl = first.upload.url
    assert.ok(uploadUrl, 'first upload has a URL')

    // Second attempt: a new Upload for the same file finds the first one and resumes it.
    const second = new tus.Upload(createReadStream(file), {
      endpoint: server.endpoint,
      retryDelays: [200, 1000, 3000], // the aborted PATCH may hold the upload's lock briefly
      ...options,
    })
    const previous = await second.findPreviousUploads()
    assert.ok(previous.length >= 1, 'findPreviousUploads() found the aborted upload')
    second.resumeFromPreviousUpload(previous[0])
    const { requests } = await runUpload(null, {}, { upload: second })

    assert.equal(second.url, uploadUrl, 'resumed the same upload URL')
    assert.ok(!requests.some((r) => r.method === 'POST'), 'no new upload was created')
    const firstPatch = patches(requests)[0]
    assert.ok(firstPatch, 'the resumed upload sent a PATCH')
    assert.ok(
      Number(firstPatch.offset) >= 2 * MiB,
      `first PATCH after resume starts at ${firstPatch.offset}, expected >= ${2 * MiB}`,
    )
    await assertStored(uploadUrl, source)
  })

  test('(d) uploads 9 MiB as 4 parallel partial uploads and a final concatenation', async () => {
    const source = pseudoRandomBuffer('d', 9 * MiB)
    const { upload, requests } = await runUpload(source, { parallelUploads: 4 })
    const posts = requests.filter((r) => r.method === 'POST')
    assert.equal(posts.filter((r) => r.concat === 'partial').length, 4, 'four partial uploads')
    const finals = posts.filter((r) => r.concat?.startsWith('final;'))
    assert.equal(finals.length, 1, 'one final upload')
    assert.equal(finals[0].status, 201)
    await assertStored(upload.url, source)
  })

  test('(e) overridePatchMethod sends POST + X-HTTP-Method-Override: PATCH', async () => {
    const source = pseudoRandomBuffer('e', 3 * MiB)
    const { upload, requests } = await runUpload(source, { overridePatchMethod: true, chunkSize: MiB })
    assert.ok(!requests.some((r) => r.method === 'PATCH'), 'no PATCH method on the wire')
    const overridden = patches(requests)
    assert.equal(overridden.length, 3)
    for (const r of overridden) assert.equal(r.status, 204)
    await assertStored(upload.url, source)
  })

  test('(f) uploadDataDuringCreation sends the whole body with the POST', async () => {
    const source = pseudoRandomBuffer('f', 3 * MiB)
    const { upload, requests } = await runUpload(source, { uploadDataDuringCreation: true })
    assert.equal(requests.length, 1, `one request, got ${requests.map((r) => r.method).join(', ')}`)
    assert.equal(requests[0].method, 'POST')
    assert.equal(requests[0].status, 201)
    assert.equal(Number(requests[0].responseOffset), source.length, 'POST response Upload-Offset')
    await assertStored(upload.url, source)
  })

  test('(f) uploadDataDuringCreation with chunkSize sends the rest as PATCHes', async () => {
    const source = pseudoRandomBuffer('f-chunked', 3 * MiB + 5)
    const { upload, requests } = await runUpload(source, { uploadDataDuringCreation: true, chunkSize: MiB })
    assert.equal(Number(requests[0].responseOffset), MiB, 'POST response Upload-Offset')
    assert.deepEqual(patches(requests).map((r) => Number(r.offset)), [MiB, 2 * MiB, 3 * MiB])
    await assertStored(upload.url, source)
  })

  // Not a multiple of chunkSize: tus-js-client 4.3.1's StreamSource waits forever for a chunk
  // after the last one when a stream's length is an exact multiple of chunkSize.
  for (const size of [3.5 * MiB, 1 * MiB + 1]) {
    test(`(g) uploadLengthDeferred with a Readable stream of ${size} bytes`, async () => {
      const seed = `g-${size}`
      const source = pseudoRandomBuffer(seed, size)
      const stream = pseudoRandomStream(seed, size, { chunkSize: 64 * 1024 })
      const { upload, requests } = await runUpload(stream, { uploadLengthDeferred: true, chunkSize: MiB })
      assert.equal(requests[0].method, 'POST')
      assert.equal(requests[0].deferLength, '1', 'POST carries Upload-Defer-Length: 1')
      const withLength = patches(requests).filter((r) => r.length !== null)
      assert.equal(withLength.length, 1, 'exactly one PATCH declares Upload-Length')
      assert.equal(Number(withLength[0].length), size)
      await assertStored(upload.url, source)
      const head = await headUpload(upload.url)
      assert.equal(head.length, size, 'HEAD Upload-Length once declared')
    })
  }

  test('(h) uploads 0 bytes', async () => {
    const source = Buffer.alloc(0)
    const { upload, requests } = await runUpload(source)
    assert.deepEqual(requests.map((r) => [r.method, r.status]), [['POST', 201]])
    await assertStored(upload.url, source)
  })
})
