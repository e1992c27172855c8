// Scale-out e2e: three `vidup serve` nodes on different ports share one PostgreSQL database
// (records and upload locks) and one S3 bucket (radosgw), both started by the CTest fixtures.
//
// 1. A client whose every request goes to a random node (a load balancer without affinity,
//    tests/support/fault_proxy.mjs with three targets) uploads 200 MiB with tus-js-client,
//    parallelUploads 4 (concatenation on S3), while the proxy cuts PATCH bodies: byte-identical.
// 2. Two nodes PATCH the same upload at once: never both succeed, the bytes are never a mix of
//    the two bodies, and the record's offset always equals what is stored.
// 3. A node is killed (SIGKILL) in the middle of a PATCH: through another node, HEAD answers
//    (after the dead node's lock lease runs out) with every acknowledged byte, and the upload
//    resumes to completion through a third node.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import * as tus from 'tus-js-client'

import { backendArgs } from '../support/backends.mjs'
import {
  MiB,
  createUpload,
  downloadSha256,
  headUpload,
  httpRequest,
  kOffsetOctetStream,
  kTusResumable,
  pseudoRandomBuffer,
  sha256,
  sleep,
} from '../support/bytes.mjs'
import { startFaultProxy } from '../support/fault_proxy.mjs'
import { startServer } from '../support/server.mjs'

const kSeed = Number(process.env.VIDUP_TEST_SEED ?? 20261123)
const kLockLeaseSeconds = 2

let shared
let nodes = []

async function startNode() {
  // Every node gets the same --store and --db: they are one deployment.
  return startServer({ backend: 'file', args: [...shared.args, '--quiet'], env: shared.env })
}

before(async () => {
  shared = await backendArgs('s3+postgres', { tag: 'multinode', lockLease: kLockLeaseSeconds })
  nodes = await Promise.all([startNode(), startNode(), startNode()])
  console.log(`# seed ${kSeed}; nodes ${nodes.map((n) => n.port).join(', ')}; ${shared.args.join(' ')}`)
})

after(async () => {
  for (const node of nodes) {
    if (node.proc.exitCode === null && node.proc.signalCode === null) await node.stop({ expectCode: null })
  }
})

const on = (node, uploadUrl) => {
  const u = new URL(uploadUrl)
  return `${node.url}${u.pathname}`
}

function patch(url, offset, body) {
  return httpRequest('PATCH', url, {
    headers: { ...kTusResumable, 'Upload-Offset': String(offset), 'Content-Type': kOffsetOctetStream },
    body,
  })
}

async function assertBytes(url, expected, what) {
  const got = await downloadSha256(url)
  assert.equal(got.status, 200, `${what}: GET ${url}`)
  assert.equal(got.length, expected.length, `${what}: length`)
  assert.equal(got.sha256, sha256(expected), `${what}: SHA-256`)
}

describe('three nodes on S3 + PostgreSQL', () => {
  test('200 MiB, parallelUploads 4, every request to a random node, PATCH bodies cut', async () => {
    const source = pseudoRandomBuffer(kSeed, 200 * MiB)
    const proxy = await startFaultProxy({
      targets: nodes.map((n) => n.url),
      seed: kSeed,
      cutRate: 0.3,
      minCuts: 2,
      maxCuts: 8,
      faultMethods: ['PATCH'],
    })
    try {
      const started = Date.now()
      const upload = await new Promise((resolve, reject) => {
        const u = new tus.Upload(source, {
          endpoint: `${proxy.url}/files/`,
          parallelUploads: 4,
          chunkSize: 32 * MiB,
          retryDelays: [0, 100, 300, 1000, 2000, 3000, 5000],
          metadata: { filename: 'multinode.bin' },
          onSuccess: () => resolve(u),
          onError: reject,
        })
        u.start()
      })
      const seconds = (Date.now() - started) / 1000
      const stats = proxy.stats()
      const perNode = {}
      for (const e of stats.log) perNode[e.target] = (perNode[e.target] ?? 0) + 1
      console.log(
        `# 200 MiB through 3 nodes in ${seconds.toFixed(1)} s (${(200 / seconds).toFixed(1)} MiB/s); ` +
          `${stats.requests} requests ${JSON.stringify(stats.byMethod)}, ${stats.cuts} cut PATCHes, ` +
          `requests per node ${JSON.stringify(perNode)}`,
      )
      assert.ok(stats.cuts >= 2, `the proxy cut ${stats.cuts} PATCHes`)
      assert.equal(Object.keys(perNode).length, 3, 'every node served requests')
      // Every node holds the same record and serves the same bytes.
      for (const node of nodes) {
        const head = await headUpload(on(node, upload.url))
        assert.equal(head.status, 200, `HEAD via node ${node.port}`)
        assert.equal(head.offset, source.length, `HEAD via node ${node.port}: Upload-Offset`)
      }
      await assertBytes(on(nodes[kSeed % 3], upload.url), source, 'the final upload')
    } finally {
      await proxy.stop()
    }
  })

  test('two nodes PATCHing one upload at once: never both, never mixed bytes', async () => {
    const size = 8 * MiB
    const outcomes = {}
    for (let trial = 0; trial < 6; trial++) {
      const a = pseudoRandomBuffer(kSeed + 100 + trial, size)
      const b = pseudoRandomBuffer(kSeed + 200 + trial, size)
      const url = await createUpload(`${nodes[0].url}/files/`, size)
      const [ra, rb] = await Promise.all([patch(on(nodes[1], url), 0, a), patch(on(nodes[2], url), 0, b)])
      const key = `${ra.status}/${rb.status}`
      outcomes[key] = (outcomes[key] ?? 0) + 1
      for (const r of [ra, rb]) {
        assert.ok([204, 400, 409, 423].includes(r.status), `PATCH answered ${r.status}: ${r.body}`)
      }
      assert.ok(!(ra.status === 204 && rb.status === 204), 'both PATCHes succeeded')

      // The record's offset is what is stored: finish the upload with A's bytes from there; the
      // result must be all A, or B's prefix followed by A (a whole prefix of one body).
      const head = await headUpload(on(nodes[0], url))
      assert.equal(head.status, 200)
      const offset = head.offset
      if (offset < size) {
        const rest = await patch(on(nodes[0], url), offset, a.subarray(offset))
        assert.equal(rest.status, 204, `finishing PATCH: ${rest.status} ${rest.body}`)
      }
      const got = await downloadSha256(on(nodes[2], url))
      assert.equal(got.status, 200)
      const candidates = [sha256(a), sha256(Buffer.concat([b.subarray(0, offset), a.subarray(offset)]))]
      assert.ok(candidates.includes(got.sha256), `trial ${trial}: stored bytes mix the two bodies (offset ${offset})`)
    }
    console.log(`# simultaneous PATCH outcomes (node 2 / node 3): ${JSON.stringify(outcomes)}`)
  })

  test('a PATCH that has sent nothing yet is pre-empted from another node, which succeeds', async () => {
    const size = 4 * MiB
    const body = pseudoRandomBuffer(kSeed + 300, size)
    const url = await createUpload(`${nodes[0].url}/files/`, size)
    // Node 1 gets the headers of a PATCH and waits for a body that never comes.
    const target = new URL(on(nodes[1], url))
    const stalled = new Promise((resolve, reject) => {
      const req = http.request(target, {
        method: 'PATCH',
        agent: false,
        headers: {
          ...kTusResumable,
          'Upload-Offset': '0',
          'Content-Type': kOffsetOctetStream,
          'Content-Length': String(size),
        },
      })
      req.once('response', (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      req.once('error', reject)
      req.flushHeaders()
    })
    await sleep(300)  // node 1 holds the lock now
    const second = await patch(on(nodes[2], url), 0, body)
    const first = await stalled
    assert.equal(second.status, 204, `the second PATCH: ${second.status} ${second.body}`)
    assert.equal(first.status, 400, `the stalled PATCH: ${first.status} ${first.body}`)
    assert.match(first.body.toString(), /ERR_UPLOAD_INTERRUPTED/)
    await assertBytes(on(nodes[0], url), body, 'after the pre-emption')
  })

  test('a node killed mid-PATCH: another node answers HEAD and a third finishes the upload', async () => {
    const size = 48 * MiB
    const body = pseudoRandomBuffer(kSeed + 400, size)
    const url = await createUpload(`${nodes[0].url}/files/`, size)
    const first = await patch(on(nodes[0], url), 0, body.subarray(0, 16 * MiB))
    assert.equal(first.status, 204, `the first PATCH: ${first.status} ${first.body}`)

    // Node 0 receives 20 MiB of the next PATCH, then dies with the lock held.
    const victim = nodes[0]
    const target = new URL(on(victim, url))
    let sent = 16 * MiB
    const inFlight = new Promise((resolve) => {
      const req = http.request(target, {
        method: 'PATCH',
        agent: false,
        headers: {
          ...kTusResumable,
          'Upload-Offset': String(16 * MiB),
          'Content-Type': kOffsetOctetStream,
          'Content-Length': String(32 * MiB),
        },
      })
      req.once('error', (err) => resolve({ error: err.code ?? err.message }))
      req.once('response', (res) => resolve({ status: res.statusCode }))
      const piece = MiB
      const pump = () => {
        while (sent < 36 * MiB) {
          const chunk = body.subarray(sent, sent + piece)
          sent += chunk.length
          if (!req.write(chunk)) {
            req.once('drain', pump)
            return
          }
        }
      }
      pump()
    })
    while (sent < 36 * MiB) await sleep(20)
    await sleep(500)
    await victim.kill()
    const outcome = await inFlight
    assert.ok(outcome.error || outcome.status >= 500, `the killed node's PATCH: ${JSON.stringify(outcome)}`)

    const started = Date.now()
    let head
    for (;;) {
      head = await headUpload(on(nodes[1], url))
      if (head.status !== 423 || Date.now() - started > 30_000) break
    }
    const waited = Date.now() - started
    console.log(`# HEAD through node 1 after the kill: ${head.status}, offset ${head.offset}, after ${waited} ms`)
    assert.equal(head.status, 200, `HEAD after the kill: ${head.status}`)
    assert.ok(head.offset >= 16 * MiB, `acknowledged bytes lost: offset ${head.offset}`)
    assert.ok(head.offset <= sent, `offset ${head.offset} beyond the ${sent} bytes sent`)
    assert.ok(waited < (kLockLeaseSeconds + 6) * 1000, `HEAD waited ${waited} ms for the dead node's lock`)

    const rest = await patch(on(nodes[2], url), head.offset, body.subarray(head.offset))
    assert.equal(rest.status, 204, `resuming through node 2: ${rest.status} ${rest.body}`)
    await assertBytes(on(nodes[1], url), body, 'after the kill and the resume')

    // The dead node comes back on the same deployment and sees the finished upload.
    nodes[0] = await startNode()
    const again = await headUpload(on(nodes[0], url))
    assert.equal(again.offset, size)
  })
})
