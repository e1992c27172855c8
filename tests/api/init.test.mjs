// Seed 004: POST /v2/init with a Bearer key → 201 {"data":{"id","endpoint"}}, then the browser
// uploads to `endpoint` with tus-js-client's uploadUrl. Every error the call can answer.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { pseudoRandomBuffer, sha256 } from '../support/bytes.mjs'
import { assertError, call, getVideo, init, startPlatform, tusUpload, unknownId } from './platform.mjs'

let p
before(async () => {
  p = await startPlatform()
})
after(async () => {
  if (p) await p.stop()
})

const body = (fields = {}) => ({
  parent_id: p.projectA,
  type: 'video',
  filename: 'example.mp4',
  title: 'example.mp4',
  filesize: 1000,
  ...fields,
})

describe('POST /v2/init', () => {
  test('201 {data: {id, endpoint}}: the video exists with its upload, created', async () => {
    const res = await init(p.server, p.globalKey, body({ title: 'Example', client_ip: '203.0.113.7' }))
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(Object.keys(res.json).sort(), ['data'])
    assert.deepEqual(Object.keys(res.json.data).sort(), ['endpoint', 'id'])
    const { id, endpoint } = res.json.data
    assert.ok(endpoint.startsWith(`${p.server.url}/files/`), endpoint)
    assert.equal(res.headers.get('location'), endpoint)
    const v = await getVideo(p.server, p.globalKey, id)
    assert.equal(v.title, 'Example')
    assert.equal(v.filename, 'example.mp4')
    assert.equal(v.filetype, 'video/mp4', 'from the extension')
    assert.equal(v.size, 1000)
    assert.equal(v.status, 'created')
    assert.equal(v.upload_url, endpoint)
    assert.equal(v.project_id, p.projectA)
    const head = await fetch(endpoint, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-length'), '1000')
    assert.equal(head.headers.get('upload-offset'), '0')
    const meta = head.headers.get('upload-metadata')
    assert.ok(meta.includes(`filename ${Buffer.from('example.mp4').toString('base64')}`), meta)
  })

  test('the endpoint works as tus-js-client uploadUrl: the video becomes uploaded with identical bytes', async () => {
    const bytes = pseudoRandomBuffer('init-upload', 700 * 1024)
    const res = await init(p.server, p.keyA, body({ filesize: bytes.length, filename: 'clip.mp4', title: undefined }))
    assert.equal(res.status, 201, res.text)
    const progress = []
    const upload = await tusUpload(bytes, {
      uploadUrl: res.json.data.endpoint,
      chunkSize: 256 * 1024,
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
      onProgress: (sent) => progress.push(sent),
    })
    assert.equal(upload.url, res.json.data.endpoint)
    const v = await getVideo(p.server, p.keyA, res.json.data.id)
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, bytes.length)
    assert.equal(v.size, bytes.length)
    assert.equal(v.title, 'clip.mp4', 'title defaults to the filename')
    const src = await call(p.server, 'GET', `/v1/videos/${v.id}/source`, { key: p.keyA })
    assert.equal(src.status, 200)
    assert.equal(sha256(src.buffer), sha256(bytes))
  })

  test('a folder is a valid parent; the video lands in its project', async () => {
    const folder = (await call(p.server, 'POST', '/v1/folders', { key: p.keyA, body: { parent_id: p.projectA, name: 'in' } })).json.data
    const res = await init(p.server, p.keyA, body({ parent_id: folder.id }))
    assert.equal(res.status, 201, res.text)
    const v = await getVideo(p.server, p.keyA, res.json.data.id)
    assert.equal(v.parent_id, folder.id)
    assert.equal(v.project_id, p.projectA)
  })

  test('filesize 0 makes an upload that is complete at once', async () => {
    const res = await init(p.server, p.globalKey, body({ filesize: 0 }))
    assert.equal(res.status, 201, res.text)
    const v = await getVideo(p.server, p.globalKey, res.json.data.id)
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, 0)
  })

  test('400 ERR_INVALID_FIELD for each missing or bad field, naming it', async () => {
    const cases = [
      [{ parent_id: undefined }, /parent_id/],
      [{ parent_id: 12 }, /parent_id/],
      [{ type: undefined }, /type/],
      [{ type: 'audio' }, /type/],
      [{ type: 5 }, /type/],
      [{ filename: undefined }, /filename/],
      [{ filename: '' }, /filename/],
      [{ filename: 7 }, /filename/],
      [{ title: 9 }, /title/],
      [{ filesize: undefined }, /filesize/],
      [{ filesize: -1 }, /filesize/],
      [{ filesize: 1.5 }, /filesize/],
      [{ filesize: '1000' }, /filesize/],
      [{ filesize: null }, /filesize/],
      [{ filesize: 2 ** 63 }, /filesize/], // > 2^63-1: no tus Upload-Length can say it (fuzz_api_json)
      [{ client_ip: 1 }, /client_ip/],
    ]
    for (const [fields, name] of cases) {
      const res = await init(p.server, p.globalKey, body(fields))
      assertError(res, 400, 'ERR_INVALID_FIELD')
      assert.match(res.json.error.message, name, JSON.stringify(fields))
    }
  })

  test('400 ERR_INVALID_JSON for a body that is not a JSON object', async () => {
    for (const raw of ['', 'parent_id=x', '[1,2]', '"video"', '{"parent_id":']) {
      assertError(await init(p.server, p.globalKey, raw), 400, 'ERR_INVALID_JSON')
    }
  })

  test('401 without a key, with an unknown key', async () => {
    assertError(await init(p.server, null, body()), 401, 'ERR_MISSING_CREDENTIALS')
    assertError(await init(p.server, 'ky_ffffffffffffffffffff', body()), 401, 'ERR_INVALID_API_KEY')
  })

  test('a key confined to another project → 404 ERR_PARENT_NOT_FOUND (existence does not leak)', async () => {
    assertError(await init(p.server, p.keyB, body({ parent_id: p.projectA })), 404, 'ERR_PARENT_NOT_FOUND')
  })

  test('an unknown parent → 404 ERR_PARENT_NOT_FOUND', async () => {
    assertError(await init(p.server, p.globalKey, body({ parent_id: unknownId() })), 404, 'ERR_PARENT_NOT_FOUND')
  })

  test('only POST: GET → 405', async () => {
    const res = await call(p.server, 'GET', '/v2/init', { key: p.globalKey })
    assertError(res, 405, 'ERR_METHOD_NOT_ALLOWED')
    assert.match(res.headers.get('allow'), /POST/)
  })
})

describe('POST /v2/init with --max-size', () => {
  let q
  before(async () => {
    q = await startPlatform({ args: ['--quiet', '--max-size', '1000'] })
  })
  after(async () => {
    if (q) await q.stop()
  })

  test('filesize over --max-size → 413 ERR_MAX_SIZE_EXCEEDED, and no video is left behind', async () => {
    const before = await call(q.server, 'GET', '/v1/videos?limit=100', { key: q.globalKey })
    const res = await init(q.server, q.globalKey, { parent_id: q.projectA, type: 'video', filename: 'big.mp4', filesize: 1001 })
    assertError(res, 413, 'ERR_MAX_SIZE_EXCEEDED')
    const afterList = await call(q.server, 'GET', '/v1/videos?limit=100', { key: q.globalKey })
    assert.equal(afterList.json.data.length, before.json.data.length)
  })
  test('filesize equal to --max-size is fine', async () => {
    const res = await init(q.server, q.globalKey, { parent_id: q.projectA, type: 'video', filename: 'ok.mp4', filesize: 1000 })
    assert.equal(res.status, 201, res.text)
  })
})
