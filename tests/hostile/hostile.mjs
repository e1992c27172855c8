// Shared by the hostile-input tests: a well-behaved upload that proves the server still serves
// others (the "canary"), a listing of the data directory to prove nothing lands outside
// <data>/uploads, and what /proc says about the server (open fds, RSS, threads).
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import assert from 'node:assert/strict'

import { fileSize, pseudoRandomBuffer, storedFile, uploadIdOf } from '../support/bytes.mjs'
import { patchHeaders, rawRequest, tusHeaders } from '../http/raw.mjs'

// POST + one PATCH + GET over fresh raw connections; asserts each step and the bytes (on the
// wire and on disk). `deadlineMs` bounds the whole round trip: a server busy with an attacker
// must still answer a normal client promptly.
export async function canaryUpload(server, { seed = 'canary', length = 64 * 1024, deadlineMs = 5_000 } = {}) {
  const started = Date.now()
  const bytes = pseudoRandomBuffer(`${seed}-${started}`, length)
  const created = await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': String(length) })
  assert.equal(created.status, 201, `canary POST: ${created.rawHead}`)
  const id = uploadIdOf(created.headers.location)
  const patched = await rawRequest(server.port, 'PATCH', `/files/${id}`, patchHeaders(0, length), bytes)
  assert.equal(patched.status, 204, `canary PATCH: ${patched.rawHead}`)
  assert.equal(patched.headers['upload-offset'], String(length))
  const got = await rawRequest(server.port, 'GET', `/files/${id}`, tusHeaders)
  assert.equal(got.status, 200, `canary GET: ${got.rawHead}`)
  assert.ok(got.body.equals(bytes), 'canary bytes come back identical')
  assert.equal(await fileSize(storedFile(server.dataDir, id)), length, 'canary file size on disk')
  const took = Date.now() - started
  assert.ok(took < deadlineMs, `canary upload took ${took} ms (limit ${deadlineMs} ms)`)
  return took
}

// Every file and directory under `dir`, as relative paths (sorted).
export async function listTree(dir) {
  const out = []
  const walk = async (sub) => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name)
      out.push(entry.isDirectory() ? `${rel}/` : rel)
      if (entry.isDirectory()) await walk(rel)
    }
  }
  await walk('')
  return out.sort()
}

// Asserts that the data directory holds only vidup.db (and SQLite's side files) and
// uploads/<32 hex>[.suffix] files, and that `outside` (a sibling directory) is unchanged.
export async function assertConfined(dataDir, outside, outsideBefore) {
  for (const rel of await listTree(dataDir)) {
    const ok = /^vidup\.db(-wal|-shm|-journal)?$/.test(rel) || rel === 'uploads/' || /^uploads\/[0-9a-f]{32}(\.[a-z0-9]+)?$/.test(rel)
    assert.ok(ok, `unexpected entry in the data directory: ${rel}`)
  }
  assert.deepEqual(await listTree(outside), outsideBefore, `the directory beside the data directory changed`)
}

// What /proc says about a process: open fds, resident set (KiB), threads.
export async function procSample(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) ?? [])[1])
  const fds = (await readdir(`/proc/${pid}/fd`)).length
  return { fds, rssKiB: field('VmRSS'), threads: field('Threads') }
}

// The soft and hard RLIMIT_NOFILE of a process, from /proc/<pid>/limits.
export async function fdLimits(pid) {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8')
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits)
  const num = (s) => (s === 'unlimited' ? Infinity : Number(s))
  return { soft: num(m[1]), hard: num(m[2]) }
}

export async function exists(file) {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}
