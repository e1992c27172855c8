// Stalled uploads are cheap: 500 PATCHes that sent half of a 64 KiB body and then went silent must
// cost the server less than 32 KiB of resident memory each (no read buffer is held while a client
// is silent) and at most one socket each once the file store's open-file budget (a quarter of the
// fd limit) is spent. Then every upload finishes and stores exactly what was sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import net from 'node:net'

import {
  KiB,
  createUpload,
  kOffsetOctetStream,
  pseudoRandomBuffer,
  sleep,
  storedFile,
  uploadIdOf,
} from '../support/bytes.mjs'
import { removeDir, startServer } from '../support/server.mjs'

const kUploads = 500
const kSize = 64 * KiB
const kHalf = kSize / 2
const kPerUploadLimit = 32 * KiB

async function statusKib(pid, name) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1])
}

async function openFiles(pid) {
  return (await readdir(`/proc/${pid}/fd`)).length
}

async function softFdLimit(pid) {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8')
  return Number(/^Max open files\s+(\d+)/m.exec(limits)[1])
}

// A PATCH over a raw socket: sends the head and `first`, returns {sendRest, response}.
function stalledPatch(uploadUrl, body, first) {
  const url = new URL(uploadUrl)
  const socket = net.connect(Number(url.port), url.hostname)
  let text = ''
  const response = new Promise((resolve, reject) => {
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      if (text.includes('\r\n\r\n')) resolve(text)
    })
    socket.once('error', reject)
    socket.once('close', () => resolve(text))
  })
  const head =
    `PATCH ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
    `Content-Type: ${kOffsetOctetStream}\r\nContent-Length: ${body.length}\r\n\r\n`
  const sent = new Promise((resolve, reject) => {
    socket.once('connect', () => socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, first)]), resolve))
    socket.once('error', reject)
  })
  return { sent, sendRest: () => socket.end(body.subarray(first)), response }
}

test('500 stalled uploads cost < 32 KiB of RSS and one socket each, then all finish', { timeout: 120_000 }, async (t) => {
  const server = await startServer()
  t.after(() => removeDir(server.dataDir))
  const pid = server.proc.pid
  try {
    const urls = []
    for (let i = 0; i < kUploads; i += 50) {
      urls.push(...(await Promise.all(Array.from({ length: 50 }, () => createUpload(server.endpoint, kSize)))))
    }
    const bodies = urls.map((_, i) => pseudoRandomBuffer(`idle-${i}`, kSize))
    await sleep(200)
    const rssBefore = await statusKib(pid, 'VmRSS')
    const filesBefore = await openFiles(pid)

    const patches = urls.map((url, i) => stalledPatch(url, bodies[i], kHalf))
    await Promise.all(patches.map((p) => p.sent))
    await sleep(1000) // the server reads what arrived and waits for the rest
    const rssStalled = await statusKib(pid, 'VmRSS')
    const filesStalled = await openFiles(pid)
    const perUpload = ((rssStalled - rssBefore) * KiB) / kUploads
    const budget = Math.floor((await softFdLimit(pid)) / 4)
    console.log(
      `idle: ${kUploads} stalled uploads: RSS ${(rssBefore / 1024).toFixed(1)} -> ${(rssStalled / 1024).toFixed(1)} MiB` +
        ` (${(perUpload / KiB).toFixed(1)} KiB each), fds ${filesBefore} -> ${filesStalled}, file budget ${budget}`,
    )
    assert.ok(perUpload < kPerUploadLimit, `${(perUpload / KiB).toFixed(1)} KiB of RSS per stalled upload`)
    assert.ok(
      filesStalled <= filesBefore + kUploads + Math.min(budget, kUploads) + 8,
      `${filesStalled - filesBefore} fds for ${kUploads} stalled uploads (file budget ${budget})`,
    )

    for (const p of patches) p.sendRest()
    const answers = await Promise.all(patches.map((p) => p.response))
    answers.forEach((text, i) => {
      assert.match(text, /^HTTP\/1\.1 204 /, `upload ${i}: ${text.slice(0, 200)}`)
      assert.match(text, new RegExp(`\r\nUpload-Offset: ${kSize}\r\n`, 'i'), `upload ${i}: ${text.slice(0, 300)}`)
    })
    for (const i of [0, kUploads / 2, kUploads - 1]) {
      const stored = await readFile(storedFile(server.dataDir, uploadIdOf(urls[i])))
      assert.ok(stored.equals(bodies[i]), `upload ${i}: the stored bytes differ from what was sent`)
    }
  } finally {
    await server.stop()
  }
})
