// `vidup upload` of a 100 MiB file to vidup and to @tus/server: in one PATCH (the default),
// in 8 MiB chunks, and (vidup only) in 4 parallel parts. Byte-identical results. Slow: CTest
// label "e2e;slow" (the ASan run skips it).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { MiB } from '../support/bytes.mjs'
import { startServer } from '../support/server.mjs'
import { startTusNodeServer } from '../support/tus_node_server.mjs'
import {
  assertTusNodeHolds,
  assertVidupHolds,
  describe,
  jsonResult,
  makeFile,
  makeTempDir,
  removeDir,
  runUpload,
} from './cli.mjs'

const kSize = 100 * MiB

let vidup
let tusNode
let work
let stateHome
let big

before(async () => {
  vidup = await startServer({ args: ['--quiet'] })
  tusNode = await startTusNodeServer()
  work = await makeTempDir('vidup-client-large-')
  stateHome = await makeTempDir('vidup-client-state-')
  big = await makeFile(work, 'big.bin', 'large-100MiB', kSize)
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
    holds: (url, what) => assertVidupHolds(vidup.url, url, big, what),
  },
  '@tus/server': {
    endpoint: () => tusNode.endpoint,
    holds: (url, what) => assertTusNodeHolds(tusNode, url, big, what),
  },
}

const variants = [
  { label: 'in one PATCH', args: [] },
  { label: 'in 8 MiB chunks', args: ['--chunk-size', String(8 * MiB)] },
]

for (const [name, target] of Object.entries(targets)) {
  for (const variant of variants) {
    test(`100 MiB to ${name} ${variant.label}`, { timeout: 300_000 }, async () => {
      // --no-resume: the same file goes to the same endpoint more than once in this file.
      const args = [big.file, '--endpoint', target.endpoint(), ...variant.args, '--no-resume', '--json', '--quiet']
      const res = await runUpload(args, { stateHome, timeoutMs: 280_000 })
      assert.equal(res.code, 0, describe(res, args))
      const line = jsonResult(res, args)
      assert.equal(line.status, 'uploaded')
      assert.equal(line.size, kSize)
      assert.equal(line.bytes_sent, kSize)
      await target.holds(line.upload_url, `100 MiB to ${name} ${variant.label}`)
      console.log(`# 100 MiB to ${name} ${variant.label}: ${res.ms} ms`)
    })
  }
}

test('100 MiB to vidup with --parallel 4 and --chunk-size 8 MiB', { timeout: 300_000 }, async () => {
  const args = [big.file, '--endpoint', vidup.endpoint, '--parallel', '4', '--chunk-size', String(8 * MiB),
    '--no-resume', '--json', '--quiet']
  const res = await runUpload(args, { stateHome, timeoutMs: 280_000 })
  assert.equal(res.code, 0, describe(res, args))
  const line = jsonResult(res, args)
  assert.equal(line.status, 'uploaded')
  assert.equal(line.size, kSize)
  await assertVidupHolds(vidup.url, line.upload_url, big, '100 MiB --parallel 4')
  console.log(`# 100 MiB to vidup --parallel 4: ${res.ms} ms`)
})
