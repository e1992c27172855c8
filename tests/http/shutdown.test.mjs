// Graceful shutdown over real connections: an idle keep-alive connection does not hold SIGTERM
// up; an in-flight PATCH gets --shutdown-timeout, after which the server exits 0 and the upload,
// on restart, holds exactly a prefix of what was sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { KiB, MiB, createUpload, pseudoRandomBuffer, sha256, sha256File, storedFile, uploadIdOf } from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, patchHeaders, rawRequest, requestHead, sleep, tusHeaders } from './raw.mjs'

test('SIGTERM with an idle keep-alive connection open exits 0 promptly (< 2 s)', async (t) => {
  const server = await startServer({ args: ['--quiet', '--shutdown-timeout', '10'] })
  t.after(() => removeDir(server.dataDir))
  const idle = await RawClient.connect(server.port)
  t.after(() => idle.destroy())
  await idle.write(requestHead('OPTIONS', '/files/'))
  assert.equal((await idle.response()).status, 204)
  const t0 = Date.now()
  await server.stop({ timeoutMs: 5_000 })
  const ms = Date.now() - t0
  assert.ok(ms < 2_000, `exit took ${ms} ms with an idle connection open`)
  assert.ok(await idle.closedWithin(1_000), 'the idle connection is closed')
})

test('SIGTERM with a slow in-flight PATCH exits 0 within --shutdown-timeout (+2 s); after restart the offset is a received prefix', async (t) => {
  const kGraceS = 2
  const size = 8 * MiB
  const source = pseudoRandomBuffer('slow-shutdown', size)
  const args = ['--quiet', '--shutdown-timeout', String(kGraceS)]
  let server = await startServer({ args })
  const { dataDir } = server
  t.after(() => removeDir(dataDir))
  const url = await createUpload(server.endpoint, size)
  const path = new URL(url).pathname

  const client = await RawClient.connect(server.port)
  t.after(() => client.destroy())
  await client.write(requestHead('PATCH', path, patchHeaders(0, size)))
  let sent = 0
  let sentBeforeTerm = 0
  let termAt = 0
  let exit = null
  const piece = 16 * KiB
  while (!client.closed && sent < size) {
    if (!exit && sent >= 512 * KiB) {
      await sleep(300) // what was sent so far has surely arrived
      sentBeforeTerm = sent
      termAt = Date.now()
      exit = server.stop({ expectCode: null, timeoutMs: kGraceS * 1000 + 10_000 })
    }
    if (exit && Date.now() - termAt > kGraceS * 1000 + 5_000) break
    if (!(await client.write(source.subarray(sent, sent + piece)))) break
    sent += piece
    await sleep(40) // ~400 KiB/s: the PATCH cannot finish within the grace period
  }
  const { code, signal } = await exit
  const ms = Date.now() - termAt
  t.diagnostic(`exit ${code}/${signal} after ${ms} ms; sent ${sent} (before SIGTERM ${sentBeforeTerm}); answer ${JSON.stringify(client.text().split('\r\n')[0])}`)
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, server.output())
  assert.ok(ms <= kGraceS * 1000 + 2_000, `exit ${ms} ms after SIGTERM, --shutdown-timeout ${kGraceS} s`)
  assert.ok(sent < size, 'the PATCH was still in flight')
  assert.ok(!/^HTTP\/1\.1 204/.test(client.text()), 'an unfinished PATCH is not acknowledged as complete')
  const acknowledged = /\r\nUpload-Offset: (\d+)\r\n/i.exec(client.text())
  client.destroy()

  server = await startServer({ args, dataDir })
  try {
    const head = await rawRequest(server.port, 'HEAD', path, tusHeaders)
    assert.equal(head.status, 200)
    const offset = Number(head.headers['upload-offset'])
    t.diagnostic(`offset after restart ${offset}`)
    assert.ok(offset >= sentBeforeTerm && offset <= sent, `offset ${offset}, sent ${sentBeforeTerm} before SIGTERM and ${sent} in all`)
    if (acknowledged) assert.equal(offset, Number(acknowledged[1]), 'offset equals the one the PATCH response named')
    const file = storedFile(dataDir, uploadIdOf(url))
    assert.equal(await sha256File(file, offset), sha256(source.subarray(0, offset)), 'stored prefix equals the source prefix')
    const rest = await rawRequest(server.port, 'PATCH', path, patchHeaders(offset, size - offset), source.subarray(offset), { timeoutMs: 30_000 })
    assert.equal(rest.status, 204, rest.rawHead)
    assert.equal(await sha256File(file), sha256(source), 'completed upload is byte-identical')
  } finally {
    await server.stop()
  }
})
