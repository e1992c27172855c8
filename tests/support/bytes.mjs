// Bytes and HTTP for the Node tests: deterministic pseudo-random data (AES-128-CTR over zeros, so
// any size is cheap to make and to make again), SHA-256 of buffers, files and downloads, a raw
// node:http request, and where vidup keeps an upload's bytes.
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { Readable } from 'node:stream'
import assert from 'node:assert/strict'

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const kTusResumable = { 'Tus-Resumable': '1.0.0' }
export const kOffsetOctetStream = 'application/offset+octet-stream'

const kZeros = Buffer.alloc(MiB)

function ctrCipher(seed) {
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
}

// `length` bytes that depend only on `seed`.
export function pseudoRandomBuffer(seed, length) {
  const cipher = ctrCipher(seed)
  const out = Buffer.allocUnsafe(length)
  for (let at = 0; at < length; at += MiB) {
    const n = Math.min(MiB, length - at)
    cipher.update(kZeros.subarray(0, n)).copy(out, at)
  }
  return out
}

// The same bytes as pseudoRandomBuffer(seed, length), as a stream of chunks of at most
// `chunkSize`, never holding more than one chunk. onChunk(chunk) sees every chunk (to hash it).
export function pseudoRandomStream(seed, length, { chunkSize = MiB, onChunk = null } = {}) {
  const cipher = ctrCipher(seed)
  const zeros = chunkSize <= kZeros.length ? kZeros : Buffer.alloc(chunkSize)
  let produced = 0
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      if (produced >= length) {
        this.push(null)
        return
      }
      const n = Math.min(chunkSize, length - produced)
      const chunk = cipher.update(zeros.subarray(0, n))
      produced += n
      if (onChunk) onChunk(chunk)
      this.push(chunk)
    },
  })
}

export function sha256(buffer) {
  return createHash('sha256').update(buffer).digest('hex')
}

// SHA-256 of the first `length` bytes of a file (the whole file when length is null).
export async function sha256File(file, length = null) {
  const hash = createHash('sha256')
  if (length === 0) return hash.digest('hex')
  const options = length === null ? {} : { start: 0, end: length - 1 }
  let seen = 0
  for await (const chunk of createReadStream(file, { ...options, highWaterMark: MiB })) {
    hash.update(chunk)
    seen += chunk.length
  }
  if (length !== null) assert.equal(seen, length, `${file} holds fewer than ${length} bytes`)
  return hash.digest('hex')
}

export async function fileSize(file) {
  return (await stat(file)).size
}

// One request on a fresh connection. body: Buffer, string, Readable or null.
export function httpRequest(method, url, { headers = {}, body = null, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs })
    req.once('timeout', () => req.destroy(new Error(`${method} ${url}: no response in ${timeoutMs} ms`)))
    req.once('error', reject)
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.once('error', reject)
      res.once('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
    if (body instanceof Readable) {
      body.once('error', (err) => req.destroy(err))
      body.pipe(req)
    } else {
      req.end(body ?? undefined)
    }
  })
}

// GET `url` and hash the body as it streams in.
export function downloadSha256(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: kTusResumable }, (res) => {
      const hash = createHash('sha256')
      let length = 0
      res.on('data', (chunk) => {
        hash.update(chunk)
        length += chunk.length
      })
      res.once('error', reject)
      res.once('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, length, sha256: hash.digest('hex') }),
      )
    })
    req.once('error', reject)
  })
}

// The 32-hex upload id at the end of an upload URL.
export function uploadIdOf(uploadUrl) {
  const id = new URL(uploadUrl).pathname.split('/').filter(Boolean).pop()
  assert.match(id ?? '', /^[0-9a-f]{32}$/, `upload URL ${uploadUrl} does not end in a 32-hex id`)
  return id
}

// Where vidup's file store keeps the bytes of an upload.
export function storedFile(dataDir, uploadId) {
  return path.join(dataDir, 'uploads', uploadId)
}

// POST /files/ for an upload of `length` bytes (or deferred length); returns its absolute URL.
export async function createUpload(endpoint, length, headers = {}) {
  const lengthHeader = length === null ? { 'Upload-Defer-Length': '1' } : { 'Upload-Length': String(length) }
  const res = await httpRequest('POST', endpoint, { headers: { ...kTusResumable, ...lengthHeader, ...headers } })
  assert.equal(res.status, 201, `POST ${endpoint}: ${res.status} ${res.body}`)
  assert.ok(res.headers.location, 'POST response has no Location')
  return new URL(res.headers.location, endpoint).href
}

// HEAD an upload; returns {status, offset, length, headers}.
export async function headUpload(uploadUrl) {
  const res = await httpRequest('HEAD', uploadUrl, { headers: kTusResumable })
  const num = (v) => (v === undefined ? null : Number(v))
  return {
    status: res.status,
    offset: num(res.headers['upload-offset']),
    length: num(res.headers['upload-length']),
    headers: res.headers,
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
