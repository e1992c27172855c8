// Seed 000: presigned tus creation at POST /tusupload with Signature = hex(sha256(apiKey +
// expiration + videoId)), Expiration and Video-Id; server-to-server creation with a Bearer key;
// anonymous creation only with --no-auth; and the rule that the upload URL itself authorises
// HEAD and PATCH, so a resume after the signature's Expiration still works.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { pseudoRandomBuffer, sha256 } from '../support/bytes.mjs'
import {
  assertTusError,
  call,
  createKey,
  createVideo,
  getVideo,
  metadata,
  nowSeconds,
  presign,
  revokeKey,
  startPlatform,
  tusCreate,
  tusUpload,
  unknownId,
} from './platform.mjs'

let p
before(async () => {
  p = await startPlatform()
})
after(async () => {
  if (p) await p.stop()
})

// The three headers for `videoId`, signed with `key`.
function signed(key, videoId, expiration = nowSeconds() + 3600) {
  return { Signature: presign(key, expiration, videoId), Expiration: String(expiration), 'Video-Id': videoId }
}

describe('presigned upload (seed 000)', () => {
  test('tus-js-client with the seed\'s headers uploads to /tusupload; the video becomes uploaded', async () => {
    const bytes = pseudoRandomBuffer('presigned', 512 * 1024)
    const video = await createVideo(p.server, p.globalKey, p.projectA, { title: 'Presigned' })
    const apiKey = p.keyA
    const videoId = video.id
    const expiration = Math.floor(Date.now() / 1000) + 3600
    const signature = presign(apiKey, expiration, videoId)
    const upload = await tusUpload(bytes, {
      endpoint: `${p.server.url}/tusupload`,
      chunkSize: 200 * 1024,
      headers: {
        signature: signature,
        expiration: expiration,
        'Video-Id': videoId,
      },
      metadata: {
        filename: 'video.mp4',
        filetype: 'video/mp4',
      },
    })
    assert.ok(upload.url.startsWith(`${p.server.url}/files/`), upload.url)
    const v = await getVideo(p.server, p.globalKey, videoId)
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, bytes.length)
    assert.equal(v.size, bytes.length)
    assert.equal(v.upload_url, upload.url)
    assert.equal(v.filename, 'video.mp4', 'filled from the metadata')
    assert.equal(v.filetype, 'video/mp4')
    assert.equal(v.title, 'Presigned')
    const src = await call(p.server, 'GET', `/v1/videos/${videoId}/source`, { key: p.globalKey })
    assert.equal(sha256(src.buffer), sha256(bytes))
  })

  test('a global key signs for any project; the seed\'s fileName spelling fills the filename', async () => {
    const video = await createVideo(p.server, p.globalKey, p.projectB)
    const res = await tusCreate(p.server, {
      ...signed(p.globalKey, video.id),
      'Upload-Metadata': metadata({ fileName: 'seed.mov', filetype: 'video/quicktime' }),
    })
    assert.equal(res.status, 201, res.text)
    const v = await getVideo(p.server, p.globalKey, video.id)
    assert.equal(v.filename, 'seed.mov')
    assert.equal(v.filetype, 'video/quicktime')
    assert.equal(v.size, 10)
    assert.equal(v.upload_url, res.headers.get('location'))
  })

  test('the tus collection URL (/files/) accepts the same headers', async () => {
    const video = await createVideo(p.server, p.keyA, p.projectA)
    const res = await tusCreate(p.server, signed(p.keyA, video.id), { path: '/files/' })
    assert.equal(res.status, 201, res.text)
  })

  test('creation-with-upload under a signature', async () => {
    const video = await createVideo(p.server, p.keyA, p.projectA)
    const res = await tusCreate(p.server, signed(p.keyA, video.id), { length: 4, body: Buffer.from('abcd') })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.headers.get('upload-offset'), '4')
    assert.equal((await getVideo(p.server, p.keyA, video.id)).status, 'uploaded')
  })
})

describe('signature failures', () => {
  let video
  before(async () => {
    video = await createVideo(p.server, p.keyA, p.projectA)
  })

  test('expired → 403 ERR_SIGNATURE_EXPIRED', async () => {
    assertTusError(await tusCreate(p.server, signed(p.keyA, video.id, nowSeconds() - 10)), 403, 'ERR_SIGNATURE_EXPIRED')
  })
  test('tampered signature → 403 ERR_SIGNATURE_MISMATCH', async () => {
    const h = signed(p.keyA, video.id)
    h.Signature = (h.Signature[0] === '0' ? '1' : '0') + h.Signature.slice(1)
    assertTusError(await tusCreate(p.server, h), 403, 'ERR_SIGNATURE_MISMATCH')
  })
  test('tampered Expiration (extended) → 403 ERR_SIGNATURE_MISMATCH', async () => {
    const h = signed(p.keyA, video.id)
    h.Expiration = String(Number(h.Expiration) + 86400)
    assertTusError(await tusCreate(p.server, h), 403, 'ERR_SIGNATURE_MISMATCH')
  })
  test('upper-case hex is accepted', async () => {
    const v = await createVideo(p.server, p.keyA, p.projectA)
    const h = signed(p.keyA, v.id)
    h.Signature = h.Signature.toUpperCase()
    assert.equal((await tusCreate(p.server, h)).status, 201)
  })
  test('malformed → 400 ERR_SIGNATURE_MALFORMED: each header missing, bad hex, short, bad Expiration, bad Video-Id', async () => {
    const good = signed(p.keyA, video.id)
    const cases = {
      'no Signature': { Expiration: good.Expiration, 'Video-Id': good['Video-Id'] },
      'no Expiration': { Signature: good.Signature, 'Video-Id': good['Video-Id'] },
      'no Video-Id': { Signature: good.Signature, Expiration: good.Expiration },
      'only Video-Id': { 'Video-Id': good['Video-Id'] },
      'bad hex': { ...good, Signature: 'z'.repeat(64) },
      'short signature': { ...good, Signature: good.Signature.slice(0, 63) },
      'long signature': { ...good, Signature: `${good.Signature}0` },
      'Expiration not a number': { ...good, Expiration: 'tomorrow' },
      'negative Expiration': { ...good, Expiration: '-5' },
      'Video-Id not a UUID': { ...good, 'Video-Id': 'video-1' },
    }
    for (const [name, headers] of Object.entries(cases)) {
      const res = await tusCreate(p.server, headers)
      assert.equal(res.status, 400, `${name}: ${res.text}`)
      assert.ok(res.text.startsWith('ERR_SIGNATURE_MALFORMED:'), `${name}: ${res.text}`)
    }
  })
  test('unknown video → 404 ERR_VIDEO_NOT_FOUND', async () => {
    assertTusError(await tusCreate(p.server, signed(p.keyA, unknownId())), 404, 'ERR_VIDEO_NOT_FOUND')
  })
  test('signed by a revoked key → 403 ERR_SIGNATURE_KEY_REVOKED', async () => {
    const key = await createKey(p.dataDir, p.projectA)
    const v = await createVideo(p.server, key, p.projectA)
    const h = signed(key, v.id)
    await revokeKey(p.dataDir, key)
    assertTusError(await tusCreate(p.server, h), 403, 'ERR_SIGNATURE_KEY_REVOKED')
  })
  test('signed by a key of another project → 403 ERR_SIGNATURE_MISMATCH', async () => {
    assertTusError(await tusCreate(p.server, signed(p.keyB, video.id)), 403, 'ERR_SIGNATURE_MISMATCH')
  })
  test('signed with something that is not a key → 403 ERR_SIGNATURE_MISMATCH', async () => {
    assertTusError(await tusCreate(p.server, signed('ky_00000000000000000000', video.id)), 403, 'ERR_SIGNATURE_MISMATCH')
  })
  test('a video that already has an upload → 409 ERR_VIDEO_HAS_UPLOAD (a signature is good once)', async () => {
    const v = await createVideo(p.server, p.keyA, p.projectA)
    const h = signed(p.keyA, v.id)
    assert.equal((await tusCreate(p.server, h)).status, 201)
    assertTusError(await tusCreate(p.server, h), 409, 'ERR_VIDEO_HAS_UPLOAD')
  })
  test('concurrent creations with one signature: exactly one 201, the others 409; the winner is attached', async () => {
    const v = await createVideo(p.server, p.keyA, p.projectA)
    const h = signed(p.keyA, v.id)
    const all = await Promise.all(Array.from({ length: 12 }, () => tusCreate(p.server, h)))
    const created = all.filter((r) => r.status === 201)
    assert.equal(created.length, 1, all.map((r) => r.status).join(','))
    for (const r of all.filter((x) => x.status !== 201)) assertTusError(r, 409, 'ERR_VIDEO_HAS_UPLOAD')
    assert.equal((await getVideo(p.server, p.keyA, v.id)).upload_url, created[0].headers.get('location'))
  })
  test('replay: a signature for video A with Video-Id B → 403 ERR_SIGNATURE_MISMATCH', async () => {
    const a = await createVideo(p.server, p.keyA, p.projectA)
    const b = await createVideo(p.server, p.keyA, p.projectA)
    const h = { ...signed(p.keyA, a.id), 'Video-Id': b.id }
    assertTusError(await tusCreate(p.server, h), 403, 'ERR_SIGNATURE_MISMATCH')
    assert.equal((await getVideo(p.server, p.keyA, b.id)).upload_url, null)
  })
  test('a refused creation leaves the video without an upload', async () => {
    assert.equal((await getVideo(p.server, p.keyA, video.id)).upload_url, null)
  })
})

describe('Bearer creation (server to server)', () => {
  async function findByUrl(key, url) {
    const res = await call(p.server, 'GET', '/v1/videos?limit=100', { key })
    return res.json.data.find((v) => v.upload_url === url)
  }

  test('a global key with metadata parent_id creates a video from the metadata', async () => {
    const res = await tusCreate(
      p.server,
      {
        Authorization: `Bearer ${p.globalKey}`,
        'Upload-Metadata': metadata({ parent_id: p.projectB, filename: 'server.mp4', filetype: 'video/mp4', title: 'From server' }),
      },
      { path: '/files/', length: 5, body: Buffer.from('hello') },
    )
    assert.equal(res.status, 201, res.text)
    const v = await findByUrl(p.keyB, res.headers.get('location'))
    assert.ok(v, 'the video exists in project B')
    assert.equal(v.title, 'From server')
    assert.equal(v.filename, 'server.mp4')
    assert.equal(v.filetype, 'video/mp4')
    assert.equal(v.parent_id, p.projectB)
    assert.equal(v.size, 5)
    assert.equal(v.status, 'uploaded')
  })
  test('a scoped key defaults to its project; the title falls back to the filename, then Untitled', async () => {
    const named = await tusCreate(p.server, { Authorization: `Bearer ${p.keyA}`, 'Upload-Metadata': metadata({ filename: 'n.mp4' }) })
    assert.equal(named.status, 201, named.text)
    const v = await findByUrl(p.keyA, named.headers.get('location'))
    assert.equal(v.project_id, p.projectA)
    assert.equal(v.title, 'n.mp4')
    const bare = await tusCreate(p.server, { Authorization: `Bearer ${p.keyA}` }, { path: '/tusupload' })
    assert.equal(bare.status, 201, bare.text)
    assert.equal((await findByUrl(p.keyA, bare.headers.get('location'))).title, 'Untitled')
  })
  test('a global key without parent_id → 400 ERR_INVALID_FIELD', async () => {
    assertTusError(await tusCreate(p.server, { Authorization: `Bearer ${p.globalKey}` }), 400, 'ERR_INVALID_FIELD')
  })
  test('a scoped key naming another project → 404 ERR_PARENT_NOT_FOUND', async () => {
    const h = { Authorization: `Bearer ${p.keyA}`, 'Upload-Metadata': metadata({ parent_id: p.projectB }) }
    assertTusError(await tusCreate(p.server, h), 404, 'ERR_PARENT_NOT_FOUND')
  })
  test('an unknown key → 401 ERR_INVALID_API_KEY', async () => {
    assertTusError(await tusCreate(p.server, { Authorization: 'Bearer ky_11111111111111111111' }), 401, 'ERR_INVALID_API_KEY')
  })
})

describe('no credentials', () => {
  test('→ 401 ERR_MISSING_CREDENTIALS at /tusupload and /files/', async () => {
    assertTusError(await tusCreate(p.server, {}), 401, 'ERR_MISSING_CREDENTIALS')
    assertTusError(await tusCreate(p.server, {}, { path: '/files/' }), 401, 'ERR_MISSING_CREDENTIALS')
  })
  test('with --no-auth, anonymous creation works and makes no video', async () => {
    const q = await startPlatform({ auth: false })
    try {
      const before = await call(q.server, 'GET', '/v1/videos?limit=100', { key: q.globalKey })
      const res = await tusCreate(q.server, {}, { path: '/files/' })
      assert.equal(res.status, 201, res.text)
      const afterList = await call(q.server, 'GET', '/v1/videos?limit=100', { key: q.globalKey })
      assert.equal(afterList.json.data.length, before.json.data.length)
      // Signatures are still checked when sent.
      assertTusError(await tusCreate(q.server, signed(q.keyA, unknownId())), 404, 'ERR_VIDEO_NOT_FOUND')
    } finally {
      await q.stop()
    }
  })
})

describe('the upload URL is the capability', () => {
  test('a resume after the signature\'s Expiration passed still works (HEAD/PATCH need no credentials)', async () => {
    const bytes = pseudoRandomBuffer('resume-after-expiry', 64 * 1024)
    const video = await createVideo(p.server, p.keyA, p.projectA)
    const other = await createVideo(p.server, p.keyA, p.projectA)
    const expiration = nowSeconds() + 2
    const headers = signed(p.keyA, video.id, expiration)
    const created = await tusCreate(p.server, headers, { length: bytes.length })
    assert.equal(created.status, 201, created.text)
    const url = created.headers.get('location')
    const first = await fetch(url, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: bytes.subarray(0, 20_000),
    })
    assert.equal(first.status, 204)
    while (nowSeconds() <= expiration) await new Promise((r) => setTimeout(r, 200))
    assertTusError(await tusCreate(p.server, signed(p.keyA, other.id, expiration)), 403, 'ERR_SIGNATURE_EXPIRED')
    // tus-js-client resumes from HEAD with no credentials at all.
    const upload = await tusUpload(bytes, { uploadUrl: url })
    assert.equal(upload.url, url)
    const v = await getVideo(p.server, p.keyA, video.id)
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, bytes.length)
    const src = await call(p.server, 'GET', `/v1/videos/${video.id}/source`, { key: p.keyA })
    assert.equal(sha256(src.buffer), sha256(bytes))
  })
})
