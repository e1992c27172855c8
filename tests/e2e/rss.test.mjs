// Memory bound: one PATCH of 4 GiB, generated on the fly and hashed while it is sent (never held
// in memory), must not grow the server's resident set past 64 MiB. The server's VmRSS is sampled
// from /proc/<pid>/status every 200 ms and its VmHWM read at the end. The stored file is hashed
// from disk as a stream and must equal what was sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { pipeline } from 'node:stream/promises'

import {
  GiB,
  MiB,
  createUpload,
  fileSize,
  headUpload,
  kOffsetOctetStream,
  kTusResumable,
  pseudoRandomStream,
  sha256File,
  storedFile,
  uploadIdOf,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'

const kSize = 4 * GiB
const kRssLimit = 64 * MiB
const kSampleMs = 200

// {rss, hwm} in bytes, from /proc/<pid>/status (null once the process is gone).
async function memoryOf(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') }
  } catch {
    return null
  }
}

function patchFromStream(uploadUrl, body, length) {
  return new Promise((resolve, reject) => {
    const req = http.request(uploadUrl, {
      method: 'PATCH',
      agent: false,
      headers: {
        ...kTusResumable,
        'Content-Type': kOffsetOctetStream,
        'Upload-Offset': '0',
        'Content-Length': String(length),
      },
    })
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.once('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      )
      res.once('error', reject)
    })
    pipeline(body, req).catch(reject)
  })
}

const mib = (bytes) => (bytes / MiB).toFixed(1)

test('a 4 GiB PATCH keeps the server under 64 MiB RSS and stores the exact bytes', { timeout: 840_000 }, async (t) => {
  const server = await startServer({ args: ['--max-size', String(8 * GiB)] })
  t.after(() => removeDir(server.dataDir))
  const pid = server.proc.pid

  let peakRss = 0
  const sampler = setInterval(async () => {
    const mem = await memoryOf(pid)
    if (mem && mem.rss > peakRss) peakRss = mem.rss
  }, kSampleMs)

  try {
    const uploadUrl = await createUpload(server.endpoint, kSize)
    const hash = createHash('sha256')
    const body = pseudoRandomStream('rss', kSize, { chunkSize: MiB, onChunk: (chunk) => hash.update(chunk) })

    const started = process.hrtime.bigint()
    const res = await patchFromStream(uploadUrl, body, kSize)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    assert.equal(res.status, 204, `PATCH of 4 GiB: ${res.status} ${res.body}`)
    assert.equal(Number(res.headers['upload-offset']), kSize)
    const sentSha = hash.digest('hex')

    const end = await memoryOf(pid)
    assert.ok(end, 'server still running after the upload')
    const peak = Math.max(peakRss, end.rss, end.hwm)
    console.log(
      `rss: peak ${mib(peak)} MiB during a ${kSize / GiB} GiB upload at ${Math.round(kSize / 1e6 / seconds)} MB/s` +
        ` (sampled max ${mib(peakRss)} MiB, VmHWM ${mib(end.hwm)} MiB, ${seconds.toFixed(1)} s)`,
    )
    assert.ok(peak < kRssLimit, `server peak RSS ${mib(peak)} MiB >= ${mib(kRssLimit)} MiB`)

    const head = await headUpload(uploadUrl)
    assert.equal(head.offset, kSize, 'HEAD Upload-Offset')
    const file = storedFile(server.dataDir, uploadIdOf(uploadUrl))
    assert.equal(await fileSize(file), kSize, `size of ${file}`)
    assert.equal(await sha256File(file), sentSha, `SHA-256 of ${file}`)
  } finally {
    clearInterval(sampler)
    await server.stop()
  }
})
