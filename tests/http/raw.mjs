// Raw HTTP/1.1 over node:net for the transport tests, where the exact bytes on the wire matter
// (100 Continue, malformed requests, stalled bodies, cut connections).
//
//   const c = await RawClient.connect(port)
//   c.write('OPTIONS /files/ HTTP/1.1\r\nHost: x\r\n\r\n')
//   const res = await c.response()          // {status, reason, headers, body, rawHead}
//   await c.closedWithin(3_000)              // true if the server closed the connection in time
//   c.received                               // every byte received so far (Buffer)
import net from 'node:net'

import { kOffsetOctetStream } from '../support/bytes.mjs'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export class RawClient {
  constructor(socket) {
    this.socket = socket
    this.received = Buffer.alloc(0)
    this.cursor = 0 // where the next response starts in `received`
    this.closed = false
    this.closedAt = null
    this.error = null
    this.waiters = new Set()
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk])
      this.notify()
    })
    socket.on('error', (err) => {
      this.error = err
      this.notify()
    })
    socket.on('close', () => {
      this.closed = true
      this.closedAt = Date.now()
      this.notify()
    })
  }

  static connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true })
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new RawClient(socket))
      })
      socket.once('error', reject)
    })
  }

  notify() {
    for (const waiter of [...this.waiters]) waiter()
  }

  // Resolves with predicate()'s first truthy value; rejects after timeoutMs.
  waitFor(predicate, timeoutMs, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value
        try {
          value = predicate()
        } catch (err) {
          cleanup()
          reject(err)
          return
        }
        if (value) {
          cleanup()
          resolve(value)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`${what}: not within ${timeoutMs} ms; received so far: ${JSON.stringify(this.text())}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  write(data) {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) {
        resolve(false)
        return
      }
      this.socket.write(data, (err) => resolve(!err))
    })
  }

  text() {
    return this.received.toString('latin1')
  }

  // Parses the next response from `received` (Content-Length bodies, chunked, or up to the close).
  // `head`: the request was HEAD, so no body follows whatever the headers say.
  tryParse({ head = false } = {}) {
    const buf = this.received
    const end = buf.indexOf('\r\n\r\n', this.cursor, 'latin1')
    if (end < 0) return null
    const rawHead = buf.subarray(this.cursor, end).toString('latin1')
    const [statusLine, ...lines] = rawHead.split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine)
    if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`)
    const status = Number(m[1])
    const headers = {}
    const fieldList = []
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      fieldList.push([name, value])
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    const bodyStart = end + 4
    let bodyEnd
    let body
    if (head || status < 200 || status === 204 || status === 304) {
      bodyEnd = bodyStart
      body = Buffer.alloc(0)
    } else if (headers['content-length'] !== undefined) {
      bodyEnd = bodyStart + Number(headers['content-length'])
      if (buf.length < bodyEnd) return null
      body = buf.subarray(bodyStart, bodyEnd)
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts = []
      let at = bodyStart
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at, 'latin1')
        if (lineEnd < 0) return null
        const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16)
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd, 'latin1')
          if (trailerEnd < 0 && buf.indexOf('\r\n', lineEnd + 2, 'latin1') !== lineEnd + 2) return null
          bodyEnd = trailerEnd >= 0 ? trailerEnd + 4 : lineEnd + 4
          break
        }
        if (buf.length < lineEnd + 2 + size + 2) return null
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
        at = lineEnd + 2 + size + 2
      }
      body = Buffer.concat(parts)
    } else {
      if (!this.closed) return null
      bodyEnd = buf.length
      body = buf.subarray(bodyStart)
    }
    this.cursor = bodyEnd
    return { status, reason: m[2], headers, fieldList, body, text: body.toString('utf8'), rawHead }
  }

  // The next complete response, or rejects after timeoutMs (or when the connection closes first).
  response({ head = false, timeoutMs = 5_000 } = {}) {
    return this.waitFor(
      () => {
        const parsed = this.tryParse({ head })
        if (parsed) return parsed
        if (this.closed) throw new Error(`connection closed before a complete response: ${JSON.stringify(this.text())}`)
        return null
      },
      timeoutMs,
      'response',
    )
  }

  // true when the server has closed (or reset) the connection within timeoutMs.
  async closedWithin(timeoutMs) {
    try {
      await this.waitFor(() => this.closed, timeoutMs, 'close')
      return true
    } catch {
      return false
    }
  }

  destroy() {
    this.socket.destroy()
  }
}

// A request head, CRLF-terminated, with Host and then `headers` in order (an array of pairs or
// an object).
export function requestHead(method, target, headers = {}, { host = 'localhost' } = {}) {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers)
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`]
  for (const [name, value] of pairs) lines.push(`${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

// One request on a fresh raw connection; the connection is closed afterwards.
export async function rawRequest(port, method, target, headers = {}, body = null, { timeoutMs = 5_000 } = {}) {
  const client = await RawClient.connect(port)
  try {
    const pairs = Array.isArray(headers) ? [...headers] : Object.entries(headers)
    if (body !== null && !pairs.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))) {
      pairs.push(['Content-Length', String(Buffer.byteLength(body))])
    }
    await client.write(requestHead(method, target, pairs))
    if (body !== null) await client.write(body)
    return await client.response({ head: method === 'HEAD', timeoutMs })
  } finally {
    client.destroy()
  }
}

export const tusHeaders = { 'Tus-Resumable': '1.0.0' }

export function patchHeaders(offset, length, extra = {}) {
  return {
    'Tus-Resumable': '1.0.0',
    'Content-Type': kOffsetOctetStream,
    'Upload-Offset': String(offset),
    'Content-Length': String(length),
    ...extra,
  }
}

// Scrapes one sample of a Prometheus text exposition (exact name with labels), or null.
export function metricValue(text, nameWithLabels) {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    if (space > 0 && line.slice(0, space) === nameWithLabels) return Number(line.slice(space + 1))
  }
  return null
}
