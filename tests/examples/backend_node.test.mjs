// examples/backend-node (seed 004), end to end in Node: vidup (auth on) and the example backend
// (PORT=0); tus-js-client with `endpoint: <backend>/upload` POSTs there, the backend calls
// POST /v2/init with its key and answers 201 + Location (the Vidup upload URL), the client then
// PATCHes Vidup directly. The video must end "uploaded" with byte-identical source.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import * as tus from 'tus-js-client'

import { MiB, httpRequest } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import { assertUploadedVideo, createKey, createProject, platformApi, startBackend, writeSourceFile } from './platform.mjs'

let server
let backend
let workDir
let project
let api

before(async () => {
  server = await startServer({ auth: true })
  workDir = await makeTempDir('vidup-example-backend-')
  project = await createProject(server.dataDir, 'backend-example')
  const key = await createKey(server.dataDir, { project })
  api = platformApi(server.url, key)
  backend = await startBackend({ vidupUrl: server.url, apiKey: key, parentId: project })
})

after(async () => {
  if (backend) await backend.stop()
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (workDir) await removeDir(workDir)
})

// Runs one upload to its end; resolves {upload, requests: [{method, url, offset, status}]}.
function uploadThroughBackend(file, options = {}) {
  const requests = []
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(file), {
      endpoint: `${backend.url}/upload`,
      retryDelays: null,
      ...options,
      onBeforeRequest: (req) => {
        requests.push({ method: req.getMethod(), url: req.getURL(), offset: req.getHeader('Upload-Offset') ?? null })
      },
      onAfterResponse: (req, res) => {
        const record = requests.findLast((r) => r.method === req.getMethod() && r.url === req.getURL())
        if (record) record.status = res.getStatus()
      },
      onSuccess: () => resolve({ upload, requests }),
      onError: reject,
    })
    upload.start()
  })
}

async function videosOfProject() {
  const res = await api.json('GET', `/v1/videos?parent_id=${project}`)
  assert.equal(res.status, 200, `GET /v1/videos?parent_id=${project}: ${res.text}`)
  return res.body.data
}

describe('backend-node', () => {
  test('tus-js-client with endpoint <backend>/upload uploads 6 MiB to Vidup', { timeout: 120_000 }, async () => {
    const { file, source } = await writeSourceFile(workDir, 'clip.mp4', 'backend-node', 6 * MiB)
    const { upload, requests } = await uploadThroughBackend(file, {
      chunkSize: 2 * MiB,
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
    })

    assert.equal(requests[0].method, 'POST')
    assert.equal(requests[0].url, `${backend.url}/upload`)
    assert.equal(requests[0].status, 201)
    assert.ok(upload.url.startsWith(`${server.url}/files/`), `upload URL ${upload.url} is not Vidup's`)
    const patches = requests.filter((r) => r.method === 'PATCH')
    assert.deepEqual(patches.map((r) => [r.url, Number(r.offset), r.status]),
      [0, 2, 4].map((m) => [upload.url, m * MiB, 204]))

    const videos = (await videosOfProject()).filter((v) => v.filename === 'clip.mp4')
    assert.equal(videos.length, 1, `videos named clip.mp4: ${JSON.stringify(videos)}`)
    assert.equal(videos[0].title, 'clip.mp4')
    assert.equal(videos[0].upload_url, upload.url)
    assert.match(backend.output(), new RegExp(`init video ${videos[0].id} \\(${6 * MiB} bytes\\)`))
    await assertUploadedVideo(api, videos[0].id, source, 'clip.mp4')
  })

  test('OPTIONS /upload answers the preflight with the seed\'s CORS headers', async () => {
    const origin = 'http://app.example'
    const res = await httpRequest('OPTIONS', `${backend.url}/upload`, {
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], origin)
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers['access-control-allow-headers'], 'Origin, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata')
    assert.equal(res.headers['access-control-allow-methods'], 'POST, GET, HEAD, PATCH, DELETE, OPTIONS')
    assert.equal(res.headers['access-control-expose-headers'], 'Location')
    assert.equal(res.headers['access-control-max-age'], '86400')
  })

  test('Vidup lets another origin HEAD and PATCH the upload URL (the default --cors-origins *)', async () => {
    const res = await httpRequest('OPTIONS', `${server.url}/files/00000000000000000000000000000000`, {
      headers: {
        Origin: backend.url,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'content-type,tus-resumable,upload-offset',
      },
    })
    assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`)
    const allowed = res.headers['access-control-allow-origin']
    assert.ok(allowed === '*' || allowed === backend.url, `Access-Control-Allow-Origin: ${allowed}`)
  })

  test('POST /upload without a usable Upload-Length is 400 and creates no video', async () => {
    const before = (await videosOfProject()).length
    const res = await httpRequest('POST', `${backend.url}/upload`, {
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Metadata': `filename ${Buffer.from('x.mp4').toString('base64')}` },
    })
    assert.equal(res.status, 400)
    assert.match(res.body.toString(), /bad header Upload-Length/)
    assert.equal((await videosOfProject()).length, before)
  })

  test('the backend serves its page, upload.js and tus.min.js', async () => {
    for (const [pathname, pattern] of [['/', /<input type="file" id="file-input">/], ['/upload.js', /findPreviousUploads/], ['/tus.min.js', /tus/]]) {
      const res = await httpRequest('GET', backend.url + pathname)
      assert.equal(res.status, 200, `GET ${pathname}`)
      assert.match(res.body.toString(), pattern, `GET ${pathname}`)
    }
  })
})
