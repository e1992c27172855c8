// The command line: `vidup serve --help`, a bad flag value, and VIDUP_* environment variables.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'

import { makeTempDir, removeDir, startServer, vidupBin } from '../support/server.mjs'
import { rawRequest, tusHeaders } from './raw.mjs'

const kFlags = [
  'listen', 'data', 'base-path', 'max-size', 'expiry', 'sweep-interval', 'read-timeout', 'idle-timeout', 'lock-wait',
  'shutdown-timeout', 'header-limit', 'max-connections', 'threads', 'behind-proxy', 'cors-origins', 'port-file', 'quiet',
]

// A server that wrongly accepts a bad command line is stopped by the timeout (status null).
function run(args, env = {}, timeout = 3_000) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIDUP_')))
  return spawnSync(vidupBin(), args, { env: { ...clean, ...env }, encoding: 'utf8', timeout, killSignal: 'SIGKILL' })
}

test('vidup serve --help exits 0 and names every flag and the VIDUP_ variables', () => {
  const r = run(['serve', '--help'])
  assert.equal(r.status, 0, r.stderr)
  for (const flag of kFlags) assert.match(r.stdout, new RegExp(`--${flag}\\b`), `--help lacks --${flag}`)
  assert.match(r.stdout, /VIDUP_/)
})

for (const [name, args] of [
  ['--listen nonsense', ['--listen', 'nonsense']],
  ['--listen 127.0.0.1:99999', ['--listen', '127.0.0.1:99999']],
  ['--read-timeout abc', ['--read-timeout', 'abc']],
  ['--expiry -5', ['--listen', '127.0.0.1:0', '--expiry', '-5']],
  ['an unknown flag', ['--no-such-flag']],
  // Negative values for unsigned options must not wrap around to 2^64-1.
  ['--max-size -1', ['--listen', '127.0.0.1:0', '--max-size', '-1']],
  ['--threads -1', ['--listen', '127.0.0.1:0', '--threads', '-1']],
]) {
  test(`a bad command line (${name}) exits 1 with a one-line message`, async (t) => {
    const dir = await makeTempDir('vidup-cli-')
    t.after(() => removeDir(dir))
    const r = run(['serve', '--quiet', '--data', dir, ...args])
    assert.equal(r.status, 1, `exit ${r.status} signal ${r.signal}; output ${JSON.stringify((r.stdout + r.stderr).slice(0, 400))}`)
    const lines = r.stderr.split('\n').filter(Boolean)
    assert.equal(lines.length, 1, `stderr: ${JSON.stringify(r.stderr)}`)
    assert.ok(lines[0].length > 10, lines[0])
  })
}

test('VIDUP_LISTEN nonsense exits 1 too', async (t) => {
  const dir = await makeTempDir('vidup-cli-')
  t.after(() => removeDir(dir))
  const r = run(['serve', '--data', dir], { VIDUP_LISTEN: 'nonsense' })
  assert.equal(r.status, 1, r.stderr)
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr)
})

test('VIDUP_BASE_PATH=/up/ moves the endpoint', async (t) => {
  const server = await startServer({ args: ['--quiet'], env: { VIDUP_BASE_PATH: '/up/' } })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const created = await rawRequest(server.port, 'POST', '/up/', { ...tusHeaders, 'Upload-Length': '1' })
  assert.equal(created.status, 201, created.rawHead)
  assert.match(created.headers.location, /\/up\/[0-9a-f]{32}$/)
  const id = created.headers.location.split('/').pop()
  assert.equal((await rawRequest(server.port, 'HEAD', `/up/${id}`, tusHeaders)).status, 200)
  assert.equal((await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': '1' })).status, 404)
  assert.equal((await rawRequest(server.port, 'HEAD', `/files/${id}`, tusHeaders)).status, 404)
})

test('a flag wins over its VIDUP_ variable', async (t) => {
  const server = await startServer({ args: ['--quiet', '--base-path', '/flag/'], env: { VIDUP_BASE_PATH: '/env/' } })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  assert.equal((await rawRequest(server.port, 'POST', '/flag/', { ...tusHeaders, 'Upload-Length': '1' })).status, 201)
  assert.equal((await rawRequest(server.port, 'POST', '/env/', { ...tusHeaders, 'Upload-Length': '1' })).status, 404)
})
