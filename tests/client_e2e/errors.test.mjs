// `vidup upload` exit codes: 1 when the server refuses (4xx, its ERR_ line on stderr), 2 on a
// usage error, 3 when the retries are exhausted (nothing listening).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { startServer } from '../support/server.mjs'
import { startTusNodeServer } from '../support/tus_node_server.mjs'
import { describe, freePort, jsonResult, makeFile, makeTempDir, removeDir, runUpload } from './cli.mjs'

let server
let work
let stateHome
let file

before(async () => {
  server = await startServer({ args: ['--max-size', '1000'] })
  work = await makeTempDir('vidup-client-errors-')
  stateHome = await makeTempDir('vidup-client-state-')
  file = await makeFile(work, 'file.bin', 'errors', 4096)
})

after(async () => {
  if (server) {
    await server.stop()
    await removeDir(server.dataDir)
  }
  if (work) await removeDir(work)
  if (stateHome) await removeDir(stateHome)
})

test('413 (--max-size below the file) exits 1 with the server\'s ERR_ line', { timeout: 60_000 }, async () => {
  const args = [file.file, '--endpoint', server.endpoint, '--retry-delays', '0,0', '--json']
  const res = await runUpload(args, { stateHome, timeoutMs: 50_000 })
  assert.equal(res.code, 1, describe(res, args))
  assert.match(res.stderr, /ERR_MAX_SIZE_EXCEEDED/, describe(res, args))
  assert.match(res.stderr, /413/, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'failed', JSON.stringify(line))
  assert.match(String(line.error), /ERR_MAX_SIZE_EXCEEDED/, JSON.stringify(line))
  // A refusal is not retried: one creation request.
  assert.ok(res.ms < 30_000, `took ${res.ms} ms`)
})

test('a refused file does not stop the next ones; exit 1 overall', { timeout: 60_000 }, async () => {
  const small = await makeFile(work, 'small.bin', 'errors-small', 500)
  const args = [file.file, small.file, '--endpoint', server.endpoint, '--retry-delays', '0,0', '--json', '--quiet']
  const res = await runUpload(args, { stateHome, timeoutMs: 50_000 })
  assert.equal(res.code, 1, describe(res, args))
  assert.equal(res.json.length, 2, describe(res, args))
  assert.equal(res.json.find((l) => l.file === file.file)?.status, 'failed', res.stdout)
  assert.equal(res.json.find((l) => l.file === small.file)?.status, 'uploaded', res.stdout)
})

const usageCases = [
  ['an unknown flag', ['FILE', '--endpoint', 'ENDPOINT', '--bogus-flag']],
  ['no --endpoint', ['FILE']],
  ['no file', ['--endpoint', 'ENDPOINT']],
  ['--checksum whirlpool', ['FILE', '--endpoint', 'ENDPOINT', '--checksum', 'whirlpool']],
  ['--chunk-size abc', ['FILE', '--endpoint', 'ENDPOINT', '--chunk-size', 'abc']],
  ['--parallel 0', ['FILE', '--endpoint', 'ENDPOINT', '--parallel', '0']],
  ['--metadata without =', ['FILE', '--endpoint', 'ENDPOINT', '--metadata', 'novalue']],
  ['--retry-delays x', ['FILE', '--endpoint', 'ENDPOINT', '--retry-delays', '0,x']],
  ['--api-key without --parent-id', ['FILE', '--endpoint', 'ENDPOINT', '--api-key', 'ky_00000000000000000000']],
]

for (const [label, template] of usageCases) {
  test(`usage error: ${label} exits 2`, { timeout: 30_000 }, async () => {
    const args = template.map((a) => (a === 'FILE' ? file.file : a === 'ENDPOINT' ? server.endpoint : a))
    const res = await runUpload(args, { stateHome, timeoutMs: 20_000 })
    assert.equal(res.code, 2, describe(res, args))
    assert.notEqual(res.stderr.trim(), '', 'a usage error says something on stderr')
  })
}

test('a missing file exits non-zero without uploading', { timeout: 30_000 }, async () => {
  const args = [`${work}/does-not-exist.bin`, '--endpoint', server.endpoint, '--retry-delays', '0']
  const res = await runUpload(args, { stateHome, timeoutMs: 20_000 })
  assert.notEqual(res.code, 0, describe(res, args))
  assert.match(res.stderr, /does-not-exist\.bin/, describe(res, args))
})

test('nothing listening with --retry-delays 0,0 exits 3', { timeout: 60_000 }, async () => {
  const port = await freePort()
  const args = [file.file, '--endpoint', `http://127.0.0.1:${port}/files/`, '--retry-delays', '0,0', '--json']
  const res = await runUpload(args, { stateHome, timeoutMs: 50_000 })
  assert.equal(res.code, 3, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'failed')
  assert.ok(res.ms < 30_000, `3 attempts at a closed port took ${res.ms} ms`)
})

test('--parallel against a server without concatenation (@tus/server) fails with its reason', { timeout: 60_000 }, async () => {
  const tusNode = await startTusNodeServer()
  try {
    const args = [file.file, '--endpoint', tusNode.endpoint, '--parallel', '2', '--retry-delays', '0', '--json']
    const res = await runUpload(args, { stateHome, timeoutMs: 50_000 })
    // 501 Not Implemented: the server lacks the feature, so no retry: the server refused (1).
    assert.equal(res.code, 1, describe(res, args))
    const line = jsonResult(res, args)
    assert.equal(line.status, 'failed')
    assert.match(String(line.error), /oncatenation/, JSON.stringify(line))
  } finally {
    await tusNode.stop()
  }
})
