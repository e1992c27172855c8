// The /v1 REST API against a real `vidup serve`: projects, folders, videos (create, list with
// pagination and filters, get, rename, delete, source with Range), key scope and revocation, and
// every JSON error shape.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { pseudoRandomBuffer, sha256 } from '../support/bytes.mjs'
import {
  assertError,
  call,
  createKey,
  createProject,
  createVideo,
  getVideo,
  init,
  revokeKey,
  startPlatform,
  tusUpload,
  unknownId,
} from './platform.mjs'

const kIso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/
const kUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let p
before(async () => {
  p = await startPlatform()
})
after(async () => {
  if (p) await p.stop()
})

// Creates a video with /v2/init and uploads `bytes` to it with tus-js-client.
async function uploadedVideo(key, parentId, bytes, filename = 'movie.mp4') {
  const res = await init(p.server, key, { parent_id: parentId, type: 'video', filename, title: filename, filesize: bytes.length })
  assert.equal(res.status, 201, res.text)
  await tusUpload(bytes, { uploadUrl: res.json.data.endpoint, chunkSize: 64 * 1024 })
  return res.json.data.id
}

describe('authentication', () => {
  test('no Authorization → 401 ERR_MISSING_CREDENTIALS', async () => {
    assertError(await call(p.server, 'GET', '/v1/projects'), 401, 'ERR_MISSING_CREDENTIALS')
  })
  test('a non-Bearer scheme → 401 ERR_MISSING_CREDENTIALS', async () => {
    const res = await call(p.server, 'GET', '/v1/projects', { headers: { Authorization: `Basic ${p.globalKey}` } })
    assertError(res, 401, 'ERR_MISSING_CREDENTIALS')
  })
  test('an unknown key → 401 ERR_INVALID_API_KEY', async () => {
    assertError(await call(p.server, 'GET', '/v1/projects', { key: 'ky_00000000000000000000' }), 401, 'ERR_INVALID_API_KEY')
  })
  test('a key revoked while the server runs → 401 on the very next request', async () => {
    const key = await createKey(p.dataDir)
    assert.equal((await call(p.server, 'GET', '/v1/projects', { key })).status, 200)
    await revokeKey(p.dataDir, key)
    assertError(await call(p.server, 'GET', '/v1/projects', { key }), 401, 'ERR_INVALID_API_KEY')
    assertError(await init(p.server, key, { parent_id: p.projectA, type: 'video', filename: 'a', filesize: 1 }), 401, 'ERR_INVALID_API_KEY')
  })
  test('a key created while the server runs works at once', async () => {
    const key = await createKey(p.dataDir, p.projectA)
    const res = await call(p.server, 'GET', '/v1/projects', { key })
    assert.equal(res.status, 200)
    assert.deepEqual(res.json.data.map((x) => x.id), [p.projectA])
  })
})

describe('routing and bodies', () => {
  test('an unknown /v1 path → 404 ERR_NOT_FOUND', async () => {
    assertError(await call(p.server, 'GET', '/v1/nothing', { key: p.globalKey }), 404, 'ERR_NOT_FOUND')
    assertError(await call(p.server, 'GET', '/v1/videos/x/y/z', { key: p.globalKey }), 404, 'ERR_NOT_FOUND')
  })
  test('a method the path does not take → 405 with Allow', async () => {
    const res = await call(p.server, 'PUT', '/v1/projects', { key: p.globalKey, body: {} })
    assertError(res, 405, 'ERR_METHOD_NOT_ALLOWED')
    assert.match(res.headers.get('allow'), /GET/)
    assert.match(res.headers.get('allow'), /POST/)
  })
  test('OPTIONS answers 204 with Allow, without a key (CORS preflight)', async () => {
    const res = await call(p.server, 'OPTIONS', '/v1/videos')
    assert.equal(res.status, 204)
    assert.match(res.headers.get('allow'), /POST/)
  })
  test('a body that is not JSON → 400 ERR_INVALID_JSON', async () => {
    assertError(await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: '{"name":' }), 400, 'ERR_INVALID_JSON')
  })
  test('JSON that is not an object → 400 ERR_INVALID_JSON', async () => {
    assertError(await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: '["x"]' }), 400, 'ERR_INVALID_JSON')
    assertError(await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: '' }), 400, 'ERR_INVALID_JSON')
  })
  test('Content-Type is not required', async () => {
    const res = await call(p.server, 'POST', '/v1/projects', {
      key: p.globalKey,
      body: JSON.stringify({ name: 'no content type' }),
      headers: { 'Content-Type': 'text/plain' },
    })
    assert.equal(res.status, 201, res.text)
  })
  test('a body over the JSON limit → 413 ERR_BODY_TOO_LARGE', async () => {
    const res = await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: { name: 'x'.repeat(70 * 1024) } })
    assertError(res, 413, 'ERR_BODY_TOO_LARGE')
  })
  test('JSON responses are application/json and not cached', async () => {
    const res = await call(p.server, 'GET', '/v1/projects', { key: p.globalKey })
    assert.match(res.headers.get('content-type'), /^application\/json/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
  })
})

describe('projects', () => {
  test('POST /v1/projects → 201 {data: project}; GET lists it; GET /v1/projects/{id} reads it', async () => {
    const res = await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: { name: 'Holidays' } })
    assert.equal(res.status, 201, res.text)
    const project = res.json.data
    assert.deepEqual(Object.keys(project).sort(), ['created_at', 'id', 'name'])
    assert.match(project.id, kUuid)
    assert.equal(project.name, 'Holidays')
    assert.match(project.created_at, kIso)
    const list = await call(p.server, 'GET', '/v1/projects', { key: p.globalKey })
    assert.equal(list.status, 200)
    assert.ok(Array.isArray(list.json.data))
    assert.ok(list.json.data.some((x) => x.id === project.id && x.name === 'Holidays'))
    const one = await call(p.server, 'GET', `/v1/projects/${project.id}`, { key: p.globalKey })
    assert.deepEqual(one.json.data, project)
  })
  test('a scoped key cannot create projects → 403 ERR_FORBIDDEN', async () => {
    assertError(await call(p.server, 'POST', '/v1/projects', { key: p.keyA, body: { name: 'x' } }), 403, 'ERR_FORBIDDEN')
  })
  test('a scoped key lists only its project and cannot read another → 404', async () => {
    const list = await call(p.server, 'GET', '/v1/projects', { key: p.keyA })
    assert.deepEqual(list.json.data.map((x) => x.id), [p.projectA])
    assertError(await call(p.server, 'GET', `/v1/projects/${p.projectB}`, { key: p.keyA }), 404, 'ERR_PARENT_NOT_FOUND')
    assertError(await call(p.server, 'GET', `/v1/projects/${unknownId()}`, { key: p.globalKey }), 404, 'ERR_PARENT_NOT_FOUND')
  })
  test('name missing, empty or not a string → 400 ERR_INVALID_FIELD naming the field', async () => {
    for (const body of [{}, { name: '' }, { name: 7 }, { name: null }]) {
      const res = await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body })
      assertError(res, 400, 'ERR_INVALID_FIELD')
      assert.match(res.json.error.message, /name/)
    }
  })
})

describe('folders', () => {
  test('POST /v1/folders under a project and under a folder; GET ?project_id lists both', async () => {
    const project = (await call(p.server, 'POST', '/v1/projects', { key: p.globalKey, body: { name: 'F' } })).json.data
    const res = await call(p.server, 'POST', '/v1/folders', { key: p.globalKey, body: { parent_id: project.id, name: 'Raw' } })
    assert.equal(res.status, 201, res.text)
    const folder = res.json.data
    assert.deepEqual(Object.keys(folder).sort(), ['created_at', 'id', 'name', 'parent_id', 'project_id'])
    assert.equal(folder.project_id, project.id)
    assert.equal(folder.parent_id, project.id)
    assert.equal(folder.name, 'Raw')
    assert.match(folder.created_at, kIso)
    const nested = (await call(p.server, 'POST', '/v1/folders', { key: p.globalKey, body: { parent_id: folder.id, name: 'Day 1' } }))
      .json.data
    assert.equal(nested.project_id, project.id)
    assert.equal(nested.parent_id, folder.id)
    const list = await call(p.server, 'GET', `/v1/folders?project_id=${project.id}`, { key: p.globalKey })
    assert.equal(list.status, 200, list.text)
    assert.deepEqual(list.json.data.map((f) => f.id).sort(), [folder.id, nested.id].sort())
    const one = await call(p.server, 'GET', `/v1/folders/${nested.id}`, { key: p.globalKey })
    assert.deepEqual(one.json.data, nested)
  })
  test('a scoped key lists its own project without ?project_id and gets 404 for another', async () => {
    const mine = (await call(p.server, 'POST', '/v1/folders', { key: p.keyA, body: { parent_id: p.projectA, name: 'mine' } })).json.data
    const list = await call(p.server, 'GET', '/v1/folders', { key: p.keyA })
    assert.equal(list.status, 200, list.text)
    assert.ok(list.json.data.some((f) => f.id === mine.id))
    assertError(await call(p.server, 'GET', `/v1/folders?project_id=${p.projectB}`, { key: p.keyA }), 404, 'ERR_PARENT_NOT_FOUND')
    assertError(await call(p.server, 'GET', `/v1/folders/${mine.id}`, { key: p.keyB }), 404, 'ERR_PARENT_NOT_FOUND')
  })
  test('a global key must name the project → 400', async () => {
    assertError(await call(p.server, 'GET', '/v1/folders', { key: p.globalKey }), 400, 'ERR_INVALID_FIELD')
  })
  test('unknown parent, or another project\'s parent for a scoped key → 404 ERR_PARENT_NOT_FOUND', async () => {
    for (const [key, parent] of [
      [p.globalKey, unknownId()],
      [p.globalKey, 'not-a-uuid'],
      [p.keyA, p.projectB],
    ]) {
      const res = await call(p.server, 'POST', '/v1/folders', { key, body: { parent_id: parent, name: 'x' } })
      assertError(res, 404, 'ERR_PARENT_NOT_FOUND')
    }
  })
  test('missing fields → 400 ERR_INVALID_FIELD', async () => {
    assertError(await call(p.server, 'POST', '/v1/folders', { key: p.globalKey, body: { name: 'x' } }), 400, 'ERR_INVALID_FIELD')
    assertError(await call(p.server, 'POST', '/v1/folders', { key: p.globalKey, body: { parent_id: p.projectA } }), 400, 'ERR_INVALID_FIELD')
  })
})

describe('videos', () => {
  test('POST /v1/videos → 201 with the full video shape', async () => {
    const res = await call(p.server, 'POST', '/v1/videos', {
      key: p.globalKey,
      body: { parent_id: p.projectA, title: 'Intro', filename: 'intro.mp4', filetype: 'video/mp4', size: 1234 },
    })
    assert.equal(res.status, 201, res.text)
    const v = res.json.data
    assert.deepEqual(Object.keys(v).sort(), [
      'bytes_received',
      'created_at',
      'filename',
      'filetype',
      'id',
      'parent_id',
      'project_id',
      'size',
      'status',
      'title',
      'updated_at',
      'upload_url',
    ])
    assert.match(v.id, kUuid)
    assert.equal(v.title, 'Intro')
    assert.equal(v.parent_id, p.projectA)
    assert.equal(v.project_id, p.projectA)
    assert.equal(v.filename, 'intro.mp4')
    assert.equal(v.filetype, 'video/mp4')
    assert.equal(v.size, 1234)
    assert.equal(v.status, 'created')
    assert.equal(v.bytes_received, 0)
    assert.equal(v.upload_url, null)
    assert.match(v.created_at, kIso)
    assert.match(v.updated_at, kIso)
    assert.deepEqual(await getVideo(p.server, p.globalKey, v.id), v)
  })
  test('size may be absent or null', async () => {
    const v = await createVideo(p.server, p.globalKey, p.projectA)
    assert.equal(v.size, null)
    const w = await createVideo(p.server, p.globalKey, p.projectA, { size: null })
    assert.equal(w.size, null)
  })
  test('a video in a folder belongs to the folder\'s project', async () => {
    const folder = (await call(p.server, 'POST', '/v1/folders', { key: p.keyA, body: { parent_id: p.projectA, name: 'vf' } })).json.data
    const v = await createVideo(p.server, p.keyA, folder.id)
    assert.equal(v.parent_id, folder.id)
    assert.equal(v.project_id, p.projectA)
  })
  test('bad fields → 400 ERR_INVALID_FIELD naming the field', async () => {
    const cases = [
      [{ title: 'x' }, /parent_id/],
      [{ parent_id: p.projectA }, /title/],
      [{ parent_id: p.projectA, title: '' }, /title/],
      [{ parent_id: p.projectA, title: 3 }, /title/],
      [{ parent_id: p.projectA, title: 'x', size: -1 }, /size/],
      [{ parent_id: p.projectA, title: 'x', size: 1.5 }, /size/],
      [{ parent_id: p.projectA, title: 'x', size: '10' }, /size/],
      [{ parent_id: p.projectA, title: 'x', size: 2 ** 63 }, /size/], // > 2^63-1 (fuzz_api_json)
      [{ parent_id: p.projectA, title: 'x', filename: 5 }, /filename/],
      [{ parent_id: p.projectA, title: 'x', filetype: [] }, /filetype/],
    ]
    for (const [body, field] of cases) {
      const res = await call(p.server, 'POST', '/v1/videos', { key: p.globalKey, body })
      assertError(res, 400, 'ERR_INVALID_FIELD')
      assert.match(res.json.error.message, field, JSON.stringify(body))
    }
  })
  test('unknown parent → 404 ERR_PARENT_NOT_FOUND', async () => {
    const res = await call(p.server, 'POST', '/v1/videos', { key: p.globalKey, body: { parent_id: unknownId(), title: 'x' } })
    assertError(res, 404, 'ERR_PARENT_NOT_FOUND')
  })
  test('unknown video → 404 ERR_VIDEO_NOT_FOUND for GET, PATCH, DELETE and source', async () => {
    for (const id of [unknownId(), 'nope']) {
      assertError(await call(p.server, 'GET', `/v1/videos/${id}`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
      assertError(await call(p.server, 'PATCH', `/v1/videos/${id}`, { key: p.globalKey, body: { title: 'x' } }), 404, 'ERR_VIDEO_NOT_FOUND')
      assertError(await call(p.server, 'DELETE', `/v1/videos/${id}`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
      assertError(await call(p.server, 'GET', `/v1/videos/${id}/source`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
    }
  })
  test('PATCH renames → 200 {data: video} with the new title and a later updated_at', async () => {
    const v = await createVideo(p.server, p.globalKey, p.projectA, { title: 'Old' })
    await new Promise((r) => setTimeout(r, 5))
    const res = await call(p.server, 'PATCH', `/v1/videos/${v.id}`, { key: p.globalKey, body: { title: 'New' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.json.data.title, 'New')
    assert.equal(res.json.data.id, v.id)
    assert.ok(res.json.data.updated_at >= v.updated_at)
    assert.equal((await getVideo(p.server, p.globalKey, v.id)).title, 'New')
  })
  test('PATCH without a valid title → 400 ERR_INVALID_FIELD', async () => {
    const v = await createVideo(p.server, p.globalKey, p.projectA)
    for (const body of [{}, { title: '' }, { title: 1 }]) {
      assertError(await call(p.server, 'PATCH', `/v1/videos/${v.id}`, { key: p.globalKey, body }), 400, 'ERR_INVALID_FIELD')
    }
    assertError(await call(p.server, 'PATCH', `/v1/videos/${v.id}`, { key: p.globalKey, body: 'x' }), 400, 'ERR_INVALID_JSON')
  })
  test('a scoped key gets 404 for another project\'s video, whatever the call', async () => {
    const v = await createVideo(p.server, p.keyB, p.projectB)
    assertError(await call(p.server, 'GET', `/v1/videos/${v.id}`, { key: p.keyA }), 404, 'ERR_VIDEO_NOT_FOUND')
    assertError(await call(p.server, 'PATCH', `/v1/videos/${v.id}`, { key: p.keyA, body: { title: 'x' } }), 404, 'ERR_VIDEO_NOT_FOUND')
    assertError(await call(p.server, 'DELETE', `/v1/videos/${v.id}`, { key: p.keyA }), 404, 'ERR_VIDEO_NOT_FOUND')
    assertError(await call(p.server, 'GET', `/v1/videos/${v.id}/source`, { key: p.keyA }), 404, 'ERR_VIDEO_NOT_FOUND')
    assertError(await call(p.server, 'POST', '/v1/videos', { key: p.keyA, body: { parent_id: p.projectB, title: 'x' } }), 404, 'ERR_PARENT_NOT_FOUND')
    assert.equal((await getVideo(p.server, p.keyB, v.id)).title, 'clip', 'still there for its own key')
    assert.equal((await getVideo(p.server, p.globalKey, v.id)).id, v.id, 'and for a global key')
  })
})

describe('listing videos', () => {
  let folder
  const ids = []
  before(async () => {
    folder = (await call(p.server, 'POST', '/v1/folders', { key: p.globalKey, body: { parent_id: p.projectA, name: 'list' } })).json.data
    for (let i = 0; i < 5; ++i) {
      ids.push((await createVideo(p.server, p.globalKey, folder.id, { title: `v${i}` })).id)
      await new Promise((r) => setTimeout(r, 3)) // distinct created_at, so the order is the creation order
    }
  })

  test('pages follow `next` until null, each video once, newest first', async () => {
    const seen = []
    let after = null
    let pages = 0
    do {
      const q = `parent_id=${folder.id}&limit=2${after ? `&after=${after}` : ''}`
      const res = await call(p.server, 'GET', `/v1/videos?${q}`, { key: p.globalKey })
      assert.equal(res.status, 200, res.text)
      assert.ok(res.json.data.length <= 2)
      seen.push(...res.json.data.map((v) => v.id))
      after = res.json.next
      assert.ok(after === null || after === res.json.data.at(-1).id)
      ++pages
    } while (after !== null && pages < 10)
    assert.deepEqual(seen, [...ids].reverse())
    assert.equal(pages, 3)
  })
  test('a page that holds everything has next: null', async () => {
    const res = await call(p.server, 'GET', `/v1/videos?parent_id=${folder.id}&limit=5`, { key: p.globalKey })
    assert.equal(res.json.data.length, 5)
    assert.equal(res.json.next, null)
  })
  test('parent_id filters: the folder\'s videos only', async () => {
    const res = await call(p.server, 'GET', `/v1/videos?parent_id=${folder.id}`, { key: p.globalKey })
    assert.deepEqual(res.json.data.map((v) => v.id), [...ids].reverse())
    assert.ok(res.json.data.every((v) => v.parent_id === folder.id))
  })
  test('status filters', async () => {
    const bytes = pseudoRandomBuffer('list-status', 1000)
    const id = await uploadedVideo(p.globalKey, folder.id, bytes)
    const uploaded = await call(p.server, 'GET', `/v1/videos?parent_id=${folder.id}&status=uploaded`, { key: p.globalKey })
    assert.deepEqual(uploaded.json.data.map((v) => v.id), [id])
    const created = await call(p.server, 'GET', `/v1/videos?parent_id=${folder.id}&status=created`, { key: p.globalKey })
    assert.deepEqual(created.json.data.map((v) => v.id), [...ids].reverse())
  })
  test('a scoped key lists only its project\'s videos', async () => {
    const b = await createVideo(p.server, p.keyB, p.projectB)
    const res = await call(p.server, 'GET', '/v1/videos?limit=100', { key: p.keyA })
    assert.equal(res.status, 200)
    assert.ok(res.json.data.length > 0)
    assert.ok(res.json.data.every((v) => v.project_id === p.projectA))
    const all = await call(p.server, 'GET', '/v1/videos?limit=100', { key: p.keyB })
    assert.ok(all.json.data.some((v) => v.id === b.id))
    assertError(await call(p.server, 'GET', `/v1/videos?parent_id=${p.projectB}`, { key: p.keyA }), 404, 'ERR_PARENT_NOT_FOUND')
  })
  test('bad query values → 400 ERR_INVALID_FIELD', async () => {
    for (const q of ['limit=0', 'limit=101', 'limit=x', 'status=done', 'after=xyz']) {
      assertError(await call(p.server, 'GET', `/v1/videos?${q}`, { key: p.globalKey }), 400, 'ERR_INVALID_FIELD')
    }
  })
})

describe('source and delete', () => {
  test('GET source → the uploaded bytes; Range → 206 with Content-Range', async () => {
    const bytes = pseudoRandomBuffer('source', 300 * 1024)
    const id = await uploadedVideo(p.globalKey, p.projectA, bytes, 'source.mp4')
    const v = await getVideo(p.server, p.globalKey, id)
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, bytes.length)
    assert.equal(v.size, bytes.length)
    const all = await call(p.server, 'GET', `/v1/videos/${id}/source`, { key: p.globalKey })
    assert.equal(all.status, 200)
    assert.equal(all.headers.get('content-type'), 'video/mp4')
    assert.equal(sha256(all.buffer), sha256(bytes))
    const part = await call(p.server, 'GET', `/v1/videos/${id}/source`, { key: p.globalKey, headers: { Range: 'bytes=1000-1999' } })
    assert.equal(part.status, 206)
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`)
    assert.ok(part.buffer.equals(bytes.subarray(1000, 2000)))
    const tail = await call(p.server, 'GET', `/v1/videos/${id}/source`, { key: p.globalKey, headers: { Range: 'bytes=-10' } })
    assert.equal(tail.status, 206)
    assert.ok(tail.buffer.equals(bytes.subarray(bytes.length - 10)))
    const outside = await call(p.server, 'GET', `/v1/videos/${id}/source`, {
      key: p.globalKey,
      headers: { Range: `bytes=${bytes.length}-` },
    })
    assert.equal(outside.status, 416)
  })
  test('GET source before the upload finished → 409 ERR_UPLOAD_INCOMPLETE', async () => {
    const v = await createVideo(p.server, p.globalKey, p.projectA)
    assertError(await call(p.server, 'GET', `/v1/videos/${v.id}/source`, { key: p.globalKey }), 409, 'ERR_UPLOAD_INCOMPLETE')
    const res = await init(p.server, p.globalKey, { parent_id: p.projectA, type: 'video', filename: 'x.mp4', filesize: 100 })
    assertError(await call(p.server, 'GET', `/v1/videos/${res.json.data.id}/source`, { key: p.globalKey }), 409, 'ERR_UPLOAD_INCOMPLETE')
  })
  test('DELETE → 204; the video and its bytes are gone', async () => {
    const bytes = pseudoRandomBuffer('delete', 10_000)
    const id = await uploadedVideo(p.globalKey, p.projectA, bytes)
    const { upload_url: uploadUrl } = await getVideo(p.server, p.globalKey, id)
    assert.equal((await fetch(uploadUrl)).status, 200, 'the upload URL serves the bytes before')
    const res = await call(p.server, 'DELETE', `/v1/videos/${id}`, { key: p.globalKey })
    assert.equal(res.status, 204)
    assertError(await call(p.server, 'GET', `/v1/videos/${id}`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
    assertError(await call(p.server, 'GET', `/v1/videos/${id}/source`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
    assert.equal((await fetch(uploadUrl)).status, 410, 'the upload was terminated')
    const head = await fetch(uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
    assert.equal(head.status, 410)
    assertError(await call(p.server, 'DELETE', `/v1/videos/${id}`, { key: p.globalKey }), 404, 'ERR_VIDEO_NOT_FOUND')
  })
  test('DELETE of a video during its upload stops the upload', async () => {
    const res = await init(p.server, p.keyA, { parent_id: p.projectA, type: 'video', filename: 'half.mp4', filesize: 100 })
    const endpoint = res.json.data.endpoint
    const patch = await fetch(endpoint, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: Buffer.alloc(40),
    })
    assert.equal(patch.status, 204)
    const v = await getVideo(p.server, p.keyA, res.json.data.id)
    assert.equal(v.status, 'uploading')
    assert.equal(v.bytes_received, 40)
    assert.equal((await call(p.server, 'DELETE', `/v1/videos/${v.id}`, { key: p.keyA })).status, 204)
    const again = await fetch(endpoint, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '40', 'Content-Type': 'application/offset+octet-stream' },
      body: Buffer.alloc(60),
    })
    assert.equal(again.status, 410)
  })
  test('a tus DELETE of the upload marks the video aborted', async () => {
    const res = await init(p.server, p.globalKey, { parent_id: p.projectA, type: 'video', filename: 'abort.mp4', filesize: 100 })
    const del = await fetch(res.json.data.endpoint, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } })
    assert.equal(del.status, 204)
    assert.equal((await getVideo(p.server, p.globalKey, res.json.data.id)).status, 'aborted')
  })
})

describe('expiry', () => {
  test('an unfinished upload that expires marks its video expired', async () => {
    const q = await startPlatform({ args: ['--quiet', '--expiry', '1', '--sweep-interval', '0.2'] })
    try {
      const res = await init(q.server, q.globalKey, { parent_id: q.projectA, type: 'video', filename: 'e.mp4', filesize: 10 })
      assert.equal(res.status, 201, res.text)
      const id = res.json.data.id
      let status = null
      for (let i = 0; i < 50 && status !== 'expired'; ++i) {
        await new Promise((r) => setTimeout(r, 100))
        status = (await getVideo(q.server, q.globalKey, id)).status
      }
      assert.equal(status, 'expired')
    } finally {
      await q.stop()
    }
  })
})

test('projects created with the CLI are visible to the API', async () => {
  const id = await createProject(p.dataDir, 'From CLI')
  const res = await call(p.server, 'GET', `/v1/projects/${id}`, { key: p.globalKey })
  assert.equal(res.status, 200)
  assert.equal(res.json.data.name, 'From CLI')
})
