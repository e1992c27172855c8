// Resumption over real TCP: a PATCH cut mid-body keeps its received prefix (PATCH-09); a HEAD or
// a new PATCH from another connection pre-empts a PATCH stalled mid-body (HEAD-14, PATCH-16).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import {
  KiB,
  MiB,
  createUpload,
  downloadSha256,
  fileSize,
  pseudoRandomBuffer,
  sha256,
  sha256File,
  storedFile,
  uploadIdOf,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'
import { RawClient, patchHeaders, rawRequest, requestHead, sleep, tusHeaders } from './raw.mjs'

const kLockWaitS = 3

let server
before(async () => {
  server = await startServer({ args: ['--quiet', '--lock-wait', String(kLockWaitS), '--read-timeout', '20'] })
})
after(async () => {
  await server.stop()
  await removeDir(server.dataDir)
})

async function headOffset(path) {
  const res = await rawRequest(server.port, 'HEAD', path, tusHeaders, null, { timeoutMs: 10_000 })
  assert.equal(res.status, 200, res.rawHead)
  return Number(res.headers['upload-offset'])
}

test('PATCH-09 a PATCH cut by a real TCP close keeps the received prefix, and resuming from HEAD gives identical bytes', async () => {
  const size = 4 * MiB
  const source = pseudoRandomBuffer('tcp-cut', size)
  const url = await createUpload(server.endpoint, size)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  await client.write(requestHead('PATCH', path, patchHeaders(0, size)))
  const half = size / 2
  for (let at = 0; at < half; at += 256 * KiB) await client.write(source.subarray(at, at + 256 * KiB))
  await sleep(200)
  client.socket.destroy() // FIN mid-body, no more bytes

  const offset = await headOffset(path)
  assert.ok(offset > 0 && offset <= half, `offset ${offset} after sending ${half}`)
  const file = storedFile(server.dataDir, uploadIdOf(url))
  assert.ok((await fileSize(file)) >= offset)
  assert.equal(await sha256File(file, offset), sha256(source.subarray(0, offset)), 'stored prefix equals the source prefix')

  const rest = await rawRequest(server.port, 'PATCH', path, patchHeaders(offset, size - offset), source.subarray(offset), {
    timeoutMs: 30_000,
  })
  assert.equal(rest.status, 204, rest.rawHead)
  assert.equal(rest.headers['upload-offset'], String(size))
  const got = await downloadSha256(url)
  assert.equal(got.status, 200)
  assert.equal(got.length, size)
  assert.equal(got.sha256, sha256(source), 'GET returns the source bytes')
})

test('PATCH-09 a PATCH reset (RST) mid-body keeps a prefix too', async () => {
  const size = 2 * MiB
  const source = pseudoRandomBuffer('tcp-rst', size)
  const url = await createUpload(server.endpoint, size)
  const path = new URL(url).pathname
  const client = await RawClient.connect(server.port)
  await client.write(requestHead('PATCH', path, patchHeaders(0, size)))
  const sent = 600 * KiB
  await client.write(source.subarray(0, sent))
  await sleep(200)
  client.socket.resetAndDestroy()
  const offset = await headOffset(path)
  assert.ok(offset > 0 && offset <= sent, `offset ${offset} after sending ${sent}`)
  assert.equal(await sha256File(storedFile(server.dataDir, uploadIdOf(url)), offset), sha256(source.subarray(0, offset)))
})

test('HEAD-14 PATCH-16 a HEAD from another connection pre-empts a stalled PATCH; a new PATCH at that offset completes the upload', async () => {
  const size = 1 * MiB
  const source = pseudoRandomBuffer('stalled', size)
  const url = await createUpload(server.endpoint, size)
  const path = new URL(url).pathname
  const stalled = await RawClient.connect(server.port)
  await stalled.write(requestHead('PATCH', path, patchHeaders(0, size)))
  const sent = 300 * KiB
  await stalled.write(source.subarray(0, sent))
  await sleep(300) // every sent byte has reached the server; the body now stalls with the socket open

  const t0 = Date.now()
  const offset = await headOffset(path)
  const headMs = Date.now() - t0
  assert.ok(headMs < kLockWaitS * 1000, `HEAD took ${headMs} ms (--lock-wait ${kLockWaitS} s)`)
  assert.equal(offset, sent, 'HEAD reports every byte the stalled PATCH delivered')

  const t1 = Date.now()
  const rest = await rawRequest(server.port, 'PATCH', path, patchHeaders(offset, size - offset), source.subarray(offset), {
    timeoutMs: 20_000,
  })
  assert.equal(rest.status, 204, rest.rawHead)
  assert.ok(Date.now() - t1 < kLockWaitS * 1000 + 2_000, `resuming PATCH took ${Date.now() - t1} ms`)
  assert.equal(rest.headers['upload-offset'], String(size))

  // The stalled PATCH must not write anything more, even if it now sends the rest of its body.
  await stalled.write(source.subarray(sent, sent + 64 * KiB))
  await sleep(200)
  const answer = stalled.text()
  stalled.destroy()
  assert.ok(!/^HTTP\/1\.1 204/.test(answer), `the pre-empted PATCH must not succeed: ${JSON.stringify(answer.slice(0, 200))}`)
  assert.equal(await headOffset(path), size)
  const got = await downloadSha256(url)
  assert.equal(got.sha256, sha256(source), 'the file is byte-identical')
})

test('PATCH-16 a second PATCH at the stalled offset pre-empts the first without a HEAD in between', async () => {
  const size = 512 * KiB
  const source = pseudoRandomBuffer('preempt', size)
  const url = await createUpload(server.endpoint, size)
  const path = new URL(url).pathname
  const stalled = await RawClient.connect(server.port)
  await stalled.write(requestHead('PATCH', path, patchHeaders(0, size)))
  await stalled.write(source.subarray(0, 100 * KiB))
  await sleep(300)
  // A client that lost its connection retries from the offset it last knew (0): that is 409 with
  // the true offset once the first PATCH is stopped, never a 423 after a long wait.
  const t0 = Date.now()
  const retry = await rawRequest(server.port, 'PATCH', path, patchHeaders(0, size), source, { timeoutMs: 20_000 })
  assert.ok(Date.now() - t0 < kLockWaitS * 1000, `second PATCH took ${Date.now() - t0} ms`)
  assert.equal(retry.status, 409, retry.rawHead)
  const offset = Number(retry.headers['upload-offset'])
  assert.equal(offset, 100 * KiB)
  const rest = await rawRequest(server.port, 'PATCH', path, patchHeaders(offset, size - offset), source.subarray(offset))
  assert.equal(rest.status, 204)
  stalled.destroy()
  assert.equal((await downloadSha256(url)).sha256, sha256(source))
})
