// --demo: the server plays the customer's backend. POST /demo/grant makes a video in the demo
// project and signs seed 000's headers for it; the page uploads to /tusupload with them, never
// holding a key. GET /demo/videos lists the demo project's 20 most recent videos.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { pseudoRandomBuffer } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import { assertError, call, cli, nowSeconds, tusUpload } from './platform.mjs'

describe('with --demo', () => {
  let server
  before(async () => {
    server = await startServer({ args: ['--quiet', '--demo'], auth: true })
  })
  after(async () => {
    if (server) {
      await server.stop()
      await removeDir(server.dataDir)
    }
  })

  test('POST /demo/grant → 201 {video_id, endpoint, headers}; tus-js-client uploads with those headers', async () => {
    const bytes = pseudoRandomBuffer('demo', 100 * 1024)
    const res = await call(server, 'POST', '/demo/grant', { body: { filename: 'demo.mp4', filetype: 'video/mp4', size: bytes.length } })
    assert.equal(res.status, 201, res.text)
    const grant = res.json
    assert.equal(grant.endpoint, `${server.url}/tusupload`)
    assert.deepEqual(Object.keys(grant.headers).sort(), ['Expiration', 'Signature', 'Video-Id'])
    assert.equal(grant.headers['Video-Id'], grant.video_id)
    assert.match(grant.headers.Signature, /^[0-9a-f]{64}$/)
    const expiration = Number(grant.headers.Expiration)
    assert.ok(Math.abs(expiration - (nowSeconds() + 3600)) <= 5, `Expiration ${expiration}`)
    await tusUpload(bytes, {
      endpoint: grant.endpoint,
      headers: grant.headers,
      metadata: { filename: 'demo.mp4', filetype: 'video/mp4' },
    })
    const list = await call(server, 'GET', '/demo/videos')
    assert.equal(list.status, 200)
    const v = list.json.data.find((x) => x.id === grant.video_id)
    assert.ok(v, 'listed')
    assert.equal(v.title, 'demo.mp4')
    assert.equal(v.status, 'uploaded')
    assert.equal(v.bytes_received, bytes.length)
  })

  test('GET /demo/videos → the 20 most recent, newest first', async () => {
    const ids = []
    for (let i = 0; i < 22; ++i) {
      const res = await call(server, 'POST', '/demo/grant', { body: { filename: `f${i}.mp4` } })
      assert.equal(res.status, 201, res.text)
      ids.push(res.json.video_id)
      await new Promise((r) => setTimeout(r, 3)) // distinct created_at
    }
    const list = await call(server, 'GET', '/demo/videos')
    const data = list.json.data
    assert.equal(data.length, 20)
    assert.deepEqual(data.map((v) => v.id), ids.slice(-20).reverse())
  })

  test('grant errors: 400 for a missing filename or bad size, 400 for bad JSON', async () => {
    assertError(await call(server, 'POST', '/demo/grant', { body: {} }), 400, 'ERR_INVALID_FIELD')
    assertError(await call(server, 'POST', '/demo/grant', { body: { filename: 'x', size: -1 } }), 400, 'ERR_INVALID_FIELD')
    assertError(await call(server, 'POST', '/demo/grant', { body: 'nope' }), 400, 'ERR_INVALID_JSON')
    assertError(await call(server, 'GET', '/demo/grant'), 405, 'ERR_METHOD_NOT_ALLOWED')
  })

  test('a restart with --demo reuses the demo project', async () => {
    const dataDir = server.dataDir
    await server.stop()
    server = await startServer({ args: ['--quiet', '--demo'], dataDir, auth: true })
    const projects = await cli(dataDir, 'projects', 'list')
    assert.equal(projects.split('\n').filter((line) => /\sdemo\s/.test(line)).length, 1, projects)
    assert.equal((await call(server, 'GET', '/demo/videos')).json.data.length, 20, 'the videos are still there')
  })
})

describe('without --demo', () => {
  test('/demo/* is not served → 404', async () => {
    const dataDir = await makeTempDir('vidup-nodemo-')
    const server = await startServer({ args: ['--quiet'], dataDir, auth: true })
    try {
      assert.equal((await call(server, 'POST', '/demo/grant', { body: { filename: 'x' } })).status, 404)
      assert.equal((await call(server, 'GET', '/demo/videos')).status, 404)
    } finally {
      await server.stop()
      await removeDir(dataDir)
    }
  })
})
