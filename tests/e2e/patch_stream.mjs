// A raw node:http PATCH whose body the test feeds piece by piece, so that it can stop in the
// middle (to kill or stop the server) and know how many bytes it handed to the socket.
import http from 'node:http'

import { KiB, MiB, kOffsetOctetStream, kTusResumable, sleep } from '../support/bytes.mjs'

// PATCH `body` (a Buffer) to `uploadUrl` at `offset`, `piece` bytes at a time, pausing `pauseMs`
// after every `pauseEvery` bytes. When `stopAfter` bytes have been written, calls `onStop()` once
// (its result is returned as `stopped`) and writes nothing more; the request then ends however the
// server ends it, unless `keepSending`, in which case it goes on at the same pace. Resolves
// (never rejects) with {sent, stopped, status, headers, body, error}: status/headers/body when a
// response came, error when the connection failed first; `stopped` is what onStop returned.
export function patchStream(
  uploadUrl,
  offset,
  body,
  { stopAfter = null, onStop = null, keepSending = false, piece = 256 * KiB, pauseEvery = MiB, pauseMs = 2 } = {},
) {
  return new Promise((resolve) => {
    const req = http.request(uploadUrl, {
      method: 'PATCH',
      agent: false,
      headers: {
        ...kTusResumable,
        'Content-Type': kOffsetOctetStream,
        'Upload-Offset': String(offset),
        'Content-Length': String(body.length),
      },
    })
    let sent = 0
    let stopped = null
    let settled = false
    const finish = (result) => {
      if (settled) return
      settled = true
      resolve({ sent, stopped, status: null, headers: {}, body: '', error: null, ...result })
    }
    req.once('error', (error) => finish({ error }))
    req.once('response', (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.once('error', (error) => finish({ status: res.statusCode, headers: res.headers, error }))
      res.once('end', () =>
        finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      )
    })
    const writable = () =>
      new Promise((resume) => {
        const done = () => {
          req.off('drain', done)
          req.off('close', done)
          resume()
        }
        req.once('drain', done)
        req.once('close', done)
      })

    const feed = async () => {
      while (!settled) {
        if (stopAfter !== null && sent >= stopAfter && stopped === null) {
          stopped = onStop ? onStop() : true
          if (!keepSending) return
        }
        if (sent >= body.length) break
        const limit = stopAfter !== null && stopAfter > sent ? stopAfter : body.length
        const end = Math.min(body.length, sent + piece, limit)
        const before = sent
        sent = end
        if (!req.write(body.subarray(before, end))) await writable()
        if (Math.floor(before / pauseEvery) !== Math.floor(end / pauseEvery)) await sleep(pauseMs)
      }
      if (!settled) req.end()
    }
    feed().catch((error) => {
      req.destroy(error)
      finish({ error })
    })
  })
}
