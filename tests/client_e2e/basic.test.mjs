// `vidup upload` against two tus servers: vidup itself (`vidup serve --no-auth`) and the
// reference Node server (@tus/server + @tus/file-store, from npm). Small files: 0 bytes, 1 byte,
// chunked with metadata, several files in one run; and against vidup only: --checksum (seen on
// the wire through a proxy), --header, stdin with --defer-length, --parallel (concatenation).
// Every upload must be byte-identical on the server. The 100 MiB ones are in large.test.mjs.
import { after, before, describe as suite, test } from 'node:test'
import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'

import { MiB, headUpload } from '../support/bytes.mjs'
import { startFaultProxy } from '../support/fault_proxy.mjs'
import { startServer } from '../support/server.mjs'
import { startTusNodeServer } from '../support/tus_node_server.mjs'
import {
  assertTusNodeHolds,
  assertVidupHolds,
  describe,
  idOf,
  jsonResult,
  makeFile,
  makeTempDir,
  removeDir,
  runUpload,
} from './cli.mjs'

let vidup
let tusNode
let work
let stateHome

before(async () => {
  vidup = await startServer()
  tusNode = await startTusNodeServer()
  work = await makeTempDir('vidup-client-basic-')
  stateHome = await makeTempDir('vidup-client-state-')
})

after(async () => {
  if (vidup) {
    await vidup.stop()
    await removeDir(vidup.dataDir)
  }
  if (tusNode) await tusNode.stop()
  if (work) await removeDir(work)
  if (stateHome) await removeDir(stateHome)
})

const targets = {
  vidup: {
    endpoint: () => vidup.endpoint,
    holds: (url, expected, what) => assertVidupHolds(vidup.url, url, expected, what),
    output: () => vidup.output(),
  },
  '@tus/server': {
    endpoint: () => tusNode.endpoint,
    holds: (url, expected, what) => assertTusNodeHolds(tusNode, url, expected, what),
    output: () => tusNode.output(),
  },
}

async function uploadOk(args, expected, what) {
  const res = await runUpload(args, { stateHome, timeoutMs: 120_000 })
  assert.equal(res.code, 0, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'uploaded', describe(res, args))
  assert.equal(line.size, expected.size, `${what}: --json size`)
  assert.equal(line.bytes_sent, expected.size, `${what}: --json bytes_sent`)
  assert.equal(line.resumed_from, 0, `${what}: --json resumed_from`)
  assert.ok(/^http:\/\/127\.0\.0\.1:\d+\//.test(line.upload_url), `${what}: upload_url ${line.upload_url}`)
  return { res, line }
}

for (const [name, target] of Object.entries(targets)) {
  suite(`against ${name}`, () => {
    for (const size of [0, 1]) {
      test(`a ${size}-byte file`, { timeout: 60_000 }, async () => {
        const expected = await makeFile(work, `${name.replace(/\W/g, '')}-${size}.bin`, `small-${size}`, size)
        const args = [expected.file, '--endpoint', target.endpoint(), '--json', '--quiet']
        const { line } = await uploadOk(args, expected, `${size} bytes`)
        assert.equal(line.file, expected.file)
        await target.holds(line.upload_url, expected, `${size} bytes to ${name}`)
      })
    }

    test('5 MiB + 3 bytes in 1 MiB chunks, with metadata', { timeout: 120_000 }, async () => {
      const expected = await makeFile(work, `${name.replace(/\W/g, '')}-chunked.mp4`, 'chunked', 5 * MiB + 3)
      const args = [expected.file, '--endpoint', target.endpoint(), '--chunk-size', String(MiB),
        '--metadata', 'filename=clip.mp4', '--metadata', 'filetype=video/mp4', '--json', '--quiet']
      const { line } = await uploadOk(args, expected, 'chunked')
      await target.holds(line.upload_url, expected, `chunked to ${name}`)
      if (name === 'vidup') {
        const head = await headUpload(vidup.url + new URL(line.upload_url).pathname)
        const meta = head.headers['upload-metadata'] ?? ''
        assert.match(meta, new RegExp(`filename ${Buffer.from('clip.mp4').toString('base64')}`), meta)
        assert.match(meta, new RegExp(`filetype ${Buffer.from('video/mp4').toString('base64')}`), meta)
      } else {
        const info = JSON.parse(await readFile(`${tusNode.fileOf(idOf(line.upload_url))}.json`, 'utf8'))
        assert.equal(info.metadata?.filename, 'clip.mp4', JSON.stringify(info))
        assert.equal(info.metadata?.filetype, 'video/mp4', JSON.stringify(info))
      }
    })

    test('three files in one run: one --json line each', { timeout: 120_000 }, async () => {
      const files = []
      for (const [i, size] of [1000, 2 * MiB, 17].entries()) {
        files.push(await makeFile(work, `${name.replace(/\W/g, '')}-multi-${i}.bin`, `multi-${i}`, size))
      }
      const args = [...files.map((f) => f.file), '--endpoint', target.endpoint(), '--json', '--quiet']
      const res = await runUpload(args, { stateHome, timeoutMs: 120_000 })
      assert.equal(res.code, 0, describe(res, args))
      assert.equal(res.json.length, 3, describe(res, args))
      for (const f of files) {
        const line = res.json.find((l) => l.file === f.file)
        assert.ok(line, `no --json line for ${f.file}:\n${res.stdout}`)
        assert.equal(line.status, 'uploaded')
        assert.equal(line.size, f.size)
        await target.holds(line.upload_url, f, `${f.file} to ${name}`)
      }
      assert.equal(new Set(res.json.map((l) => l.upload_url)).size, 3, 'three distinct upload URLs')
    })
  })
}

suite('vidup only', () => {
  for (const algo of ['sha256', 'sha1']) {
    test(`--checksum ${algo} sends Upload-Checksum on every PATCH; --header on every request`, { timeout: 120_000 }, async () => {
      const proxy = await startFaultProxy({ target: vidup.url })
      try {
        const expected = await makeFile(work, `checksum-${algo}.bin`, `checksum-${algo}`, 12 * MiB + 5)
        const args = [expected.file, '--endpoint', `${proxy.url}/files/`, '--chunk-size', String(4 * MiB),
          '--checksum', algo, '--header', 'X-Vidup-Test: yes', '--json', '--quiet']
        const { line } = await uploadOk(args, expected, `--checksum ${algo}`)
        await assertVidupHolds(vidup.url, line.upload_url, expected, `--checksum ${algo}`)
        const log = proxy.stats().log
        const patches = log.filter((e) => e.method === 'PATCH')
        assert.equal(patches.length, 4, `4 PATCHes of <= 4 MiB: ${JSON.stringify(log.map((e) => [e.method, e.length]))}`)
        for (const p of patches) {
          assert.match(p.headers['upload-checksum'] ?? '', new RegExp(`^${algo} [A-Za-z0-9+/]+=*$`), JSON.stringify(p.headers))
        }
        for (const e of log) assert.equal(e.headers['x-vidup-test'], 'yes', `${e.method} ${e.path} lacks --header`)
      } finally {
        await proxy.stop()
      }
    })
  }

  test('stdin with --defer-length, in 4 MiB chunks', { timeout: 120_000 }, async () => {
    const expected = await makeFile(work, 'stdin.bin', 'stdin', 9 * MiB + 7)
    const args = ['-', '--defer-length', '--endpoint', vidup.endpoint, '--chunk-size', String(4 * MiB), '--json', '--quiet']
    const res = await runUpload(args, { stateHome, stdin: createReadStream(expected.file), timeoutMs: 120_000 })
    assert.equal(res.code, 0, describe(res, args))
    const line = jsonResult(res, args)
    assert.equal(line.status, 'uploaded', describe(res, args))
    assert.equal(line.size, expected.size, '--json size once stdin ended')
    assert.equal(line.bytes_sent, expected.size)
    await assertVidupHolds(vidup.url, line.upload_url, expected, 'stdin')
  })

  test('--parallel 4 concatenates four partial uploads', { timeout: 120_000 }, async () => {
    const proxy = await startFaultProxy({ target: vidup.url })
    try {
      const expected = await makeFile(work, 'parallel.bin', 'parallel', 10 * MiB + 1)
      const args = [expected.file, '--endpoint', `${proxy.url}/files/`, '--parallel', '4', '--json', '--quiet']
      const { line } = await uploadOk(args, expected, '--parallel 4')
      await assertVidupHolds(vidup.url, line.upload_url, expected, '--parallel 4')
      const posts = proxy.stats().log.filter((e) => e.method === 'POST')
      const partials = posts.filter((e) => e.headers['upload-concat'] === 'partial')
      const finals = posts.filter((e) => /^final;/.test(e.headers['upload-concat'] ?? ''))
      assert.equal(partials.length, 4, `4 partial creations: ${JSON.stringify(posts.map((e) => e.headers))}`)
      assert.equal(finals.length, 1, 'one final creation')
      assert.equal(finals[0].headers['upload-concat'].split(/\s+/).length, 4, finals[0].headers['upload-concat'])
    } finally {
      await proxy.stop()
    }
  })
})
