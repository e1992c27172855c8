// S3 credentials from flags instead of the AWS_* variables: --s3-access-key-id and
// --s3-secret-access-key-file (a file, such as a mounted secret, so the secret never shows in the
// process list). A bad or missing secret stops `vidup serve` at start with one line that never
// holds the secret.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'

import { s3Settings } from '../support/backends.mjs'
import { createUpload, downloadSha256, httpRequest, kOffsetOctetStream, kTusResumable, sha256 } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer, vidupBin } from '../support/server.mjs'

// The environment without any AWS_* or VIDUP_* variable.
function bareEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('VIDUP_')))
}

async function settings(t) {
  const s3 = await s3Settings('creds')
  const dir = await makeTempDir('vidup-creds-')
  t.after(() => removeDir(dir))
  const secretFile = path.join(dir, 'secret')
  await writeFile(secretFile, `${s3.env.AWS_SECRET_ACCESS_KEY}\n`, { mode: 0o600 })
  const args = ['--store', `s3://${s3.bucket}/${s3.prefix}`, '--s3-endpoint', s3.endpoint,
    '--s3-access-key-id', s3.env.AWS_ACCESS_KEY_ID]
  return { s3, dir, secretFile, args }
}

test('credentials from --s3-access-key-id and --s3-secret-access-key-file, no AWS_* set', async (t) => {
  const { s3, secretFile, args } = await settings(t)
  const server = await startServer({ backend: 'file', args: [...args, '--s3-secret-access-key-file', secretFile] })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  assert.ok(!server.proc.spawnargs.join(' ').includes(s3.env.AWS_SECRET_ACCESS_KEY), 'the secret is not an argument')
  const body = Buffer.from('bytes through flag-configured credentials')
  const url = await createUpload(server.endpoint, body.length)
  const res = await httpRequest('PATCH', url, {
    headers: { ...kTusResumable, 'Upload-Offset': '0', 'Content-Type': kOffsetOctetStream },
    body,
  })
  assert.equal(res.status, 204, `${res.status} ${res.body}`)
  const got = await downloadSha256(url)
  assert.equal(got.sha256, sha256(body))
  assert.ok(!server.output().includes(s3.env.AWS_SECRET_ACCESS_KEY), 'the secret is not in the log')
})

test('the flags win over the AWS_* variables', async (t) => {
  const { s3, secretFile, args } = await settings(t)
  const server = await startServer({
    backend: 'file',
    args: [...args, '--s3-secret-access-key-file', secretFile],
    env: { AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0', AWS_SECRET_ACCESS_KEY: 'wrong-secret-from-the-environment' },
  })
  t.after(async () => {
    await server.stop()
    await removeDir(server.dataDir)
  })
  const url = await createUpload(server.endpoint, 0)
  assert.equal((await downloadSha256(url)).status, 200, `an empty upload is readable through ${s3.endpoint}`)
})

for (const [name, secret, expected] of [
  ['a wrong secret', 'not-the-secret-0123456789abcdefghijklmnop', /403|SignatureDoesNotMatch/],
  ['an empty secret file', '\n', /--s3-secret-access-key-file .*: its first line is empty/],
  ['a missing secret file', null, /--s3-secret-access-key-file .*: cannot be read \(No such file or directory\)/],
]) {
  test(`${name} stops vidup serve at start with one line, without the secret`, async (t) => {
    const { dir, args } = await settings(t)
    const file = path.join(dir, 'other-secret')
    if (secret !== null) await writeFile(file, secret)
    const r = spawnSync(vidupBin(), ['serve', '--quiet', '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data'),
      ...args, '--s3-secret-access-key-file', file], { env: bareEnv(), encoding: 'utf8', timeout: 60_000 })
    assert.notEqual(r.status, 0, `exit status (signal ${r.signal}); stderr:\n${r.stderr}`)
    assert.notEqual(r.status, null, 'vidup serve did not stop')
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, `one line:\n${r.stderr}`)
    assert.match(lines[0], expected)
    if (secret !== null && secret.trim() !== '') assert.ok(!r.stderr.includes(secret), 'the secret is not printed')
  })
}
