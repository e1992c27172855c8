// Connection-level limits: the header block size (--header-limit → 431) and the number of open
// connections (--max-connections → closed at once, counted in /metrics).
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, metricValue, rawRequest, requestHead, sleep, tusHeaders } from './raw.mjs'

test('a header block over --header-limit gets 431 with a one-line ERR_HEADER_TOO_LARGE body and Tus-Resumable, then the server goes on', async (t) => {
  const server = await startServer({ args: ['--quiet', '--header-limit', '8192'] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const client = await RawClient.connect(server.port)
  try {
    await client.write(requestHead('POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', 'X-Padding': 'a'.repeat(20 * 1024) }))
    const res = await client.response()
    assert.equal(res.status, 431, res.rawHead)
    assert.equal(res.headers['tus-resumable'], '1.0.0')
    assert.match(res.text, /^ERR_HEADER_TOO_LARGE[^\n]*\n$/, `body: ${JSON.stringify(res.text)}`)
    assert.ok(await client.closedWithin(3_000), 'the connection is closed after the 431')
  } finally {
    client.destroy()
  }
  const under = await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': '1', 'X-Padding': 'a'.repeat(4 * 1024) })
  assert.equal(under.status, 201, 'a header block under the limit is served')
})

test('--max-connections 5: a 6th concurrent connection is closed at once, the others keep working, /metrics counts the refusal', async (t) => {
  const server = await startServer({ args: ['--quiet', '--max-connections', '5'] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const clients = []
  t.after(() => clients.forEach((c) => c.destroy()))
  // Five keep-alive connections, each proven registered by a served request.
  for (let i = 0; i < 5; i++) {
    const c = await RawClient.connect(server.port)
    clients.push(c)
    await c.write(requestHead('OPTIONS', '/files/'))
    assert.equal((await c.response()).status, 204, `connection ${i + 1}`)
  }

  const sixth = await RawClient.connect(server.port) // the kernel accepts; vidup closes it
  clients.push(sixth)
  await sixth.write(requestHead('OPTIONS', '/files/'))
  assert.ok(await sixth.closedWithin(2_000), 'the 6th connection is closed at once')
  assert.ok(!/^HTTP\//.test(sixth.text()), `the 6th connection got no response: ${JSON.stringify(sixth.text())}`)

  for (const [i, c] of clients.slice(0, 5).entries()) {
    await c.write(requestHead('POST', '/files/', { ...tusHeaders, 'Upload-Length': '1' }))
    const res = await c.response()
    assert.equal(res.status, 201, `connection ${i + 1} still works`)
  }

  // Free one slot, then read the metrics through it.
  clients[0].destroy()
  let metrics = null
  for (let attempt = 0; attempt < 50 && !metrics; attempt++) {
    try {
      const res = await rawRequest(server.port, 'GET', '/metrics', {}, null, { timeoutMs: 1_000 })
      if (res.status === 200) metrics = res.text
    } catch {
      await sleep(50) // the server has not yet noticed the freed slot
    }
  }
  assert.ok(metrics, 'GET /metrics after freeing a connection')
  const refused = metricValue(metrics, 'vidup_connections_refused_total')
  assert.ok(refused >= 1, `vidup_connections_refused_total = ${refused}`)
})
