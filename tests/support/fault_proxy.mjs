// A fault-injecting HTTP/1.1 proxy on 127.0.0.1 for the client tests (tests/client_e2e): it sits
// in front of a tus server and, driven by a seeded PRNG (so a failing run can be replayed with
// its seed), per request
//   - cuts the connection at a random point of the request body (both sides are destroyed after
//     forwarding a random prefix of the body, so the server stores a partial PATCH),
//   - delays the request before forwarding it,
//   - answers `HTTP/1.1 503` itself without forwarding anything (then closes the connection),
// and can throttle the forwarded request bodies (bytes per second, over all connections) and
// add a fixed latency to every request. Fault counts are bounded (maxCuts, max503, maxDelays).
//
//   const proxy = await startFaultProxy({ target: 'http://127.0.0.1:PORT', seed: 42,   (or targets: [...])
//                                         cutRate: 0.3, delayRate: 0.2, maxDelayMs: 2000,
//                                         errorRate: 0.1 })
//   proxy.url                     http://127.0.0.1:PROXYPORT
//   proxy.stats()                 { connections, requests, byMethod, forwardedBodyBytes,
//                                   forwardedByMethod, receivedBodyBytes, cuts, delays, errors503,
//                                   log }   (log: {method, path, headers, length, fault,
//                                   forwarded, target} per request, headers lower-cased)
//   proxy.configure({ ... })      change any option below while running (e.g. cutRate: 0)
//   proxy.resetCounters()         zero the byte and fault counters (not the PRNG)
//   await proxy.stop()            close the listener and every connection
//
// Options: seed (default 1), cutRate, delayRate, errorRate (probabilities per request in [0, 1];
// default 0), maxCuts, maxDelays, max503 (caps; default Infinity), minCuts, min503 (the first
// eligible requests get these faults whatever the PRNG says, so a run surely has some; default 0;
// a 503 is tried before a cut, and cuts need a body), minDelayMs/maxDelayMs (a
// delayed request waits a uniform time in that range; default 100..1000), latencyMs (every
// request; default 0), throttleBytesPerSec (default 0 = unlimited), faultMethods (methods the
// faults apply to; default all), cutMinBody (bodies shorter than this are never cut; default 1).
// Cuts only apply to requests with a body. forwardedBodyBytes counts request-body payload bytes
// written to the target (chunk data only for Transfer-Encoding: chunked), so a test can compute
// how many bytes a client re-sent.
import net from 'node:net'

const kMaxHead = 64 * 1024
const kPiece = 64 * 1024
const kHighWater = 1024 * 1024

// mulberry32: a small, fast, seedable PRNG; returns floats in [0, 1).
export function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

class Closed extends Error {}

// Pull-style reader over a socket, with backpressure.
class Reader {
  constructor(socket) {
    this.socket = socket
    this.chunks = []
    this.length = 0
    this.ended = false
    this.waiter = null
    socket.on('data', (chunk) => {
      this.chunks.push(chunk)
      this.length += chunk.length
      if (this.length > kHighWater) socket.pause()
      this.wake()
    })
    const end = () => {
      this.ended = true
      this.wake()
    }
    socket.on('end', end)
    socket.on('close', end)
    socket.on('error', end)
  }

  wake() {
    const w = this.waiter
    this.waiter = null
    if (w) w()
  }

  async wait() {
    if (this.ended) throw new Closed()
    await new Promise((resolve) => (this.waiter = resolve))
  }

  take(n) {
    const out = []
    let left = n
    while (left > 0) {
      const c = this.chunks[0]
      if (c.length <= left) {
        out.push(c)
        this.chunks.shift()
        left -= c.length
      } else {
        out.push(c.subarray(0, left))
        this.chunks[0] = c.subarray(left)
        left = 0
      }
    }
    this.length -= n
    if (this.length <= kHighWater && this.socket.isPaused()) this.socket.resume()
    return out.length === 1 ? out[0] : Buffer.concat(out)
  }

  // Up to `max` bytes (at least 1); throws Closed at the end of the stream.
  async some(max) {
    while (this.length === 0) await this.wait()
    return this.take(Math.min(max, this.length))
  }

  // Everything up to and including `delim`; null if the stream ends cleanly before any byte.
  async until(delim, limit) {
    for (;;) {
      if (this.length > 0) {
        const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
        this.chunks = [joined]
        const at = joined.indexOf(delim)
        if (at >= 0) return this.take(at + delim.length)
        if (joined.length > limit) throw new Error('request head too long')
      }
      if (this.ended) {
        if (this.length === 0) return null
        throw new Closed()
      }
      await this.wait()
    }
  }
}

function parseHead(head) {
  const lines = head.toString('latin1').split('\r\n')
  const [method = '', target = ''] = lines[0].split(' ')
  const headers = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { method: method.toUpperCase(), target, headers }
}

function writeAll(socket, buf) {
  if (socket.destroyed) return Promise.reject(new Closed())
  if (socket.write(buf)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      socket.off('drain', onDrain)
      reject(new Closed())
    }
    socket.once('drain', onDrain)
    socket.once('close', onClose)
  })
}

export async function startFaultProxy(options) {
  // `targets` (several servers): each request goes to one drawn at random, as behind a load
  // balancer without affinity. One target draws nothing extra, so seeds replay as before.
  const targets = (options.targets ?? [options.target]).map((t) => new URL(t))
  const cfg = {
    seed: 1,
    cutRate: 0,
    delayRate: 0,
    errorRate: 0,
    maxCuts: Infinity,
    maxDelays: Infinity,
    max503: Infinity,
    minCuts: 0,
    min503: 0,
    minDelayMs: 100,
    maxDelayMs: 1000,
    latencyMs: 0,
    throttleBytesPerSec: 0,
    faultMethods: null,
    cutMinBody: 1,
    logLimit: 10_000,
    ...options,
  }
  for (const name of ['cutRate', 'delayRate', 'errorRate']) {
    if (!(cfg[name] >= 0 && cfg[name] <= 1)) throw new RangeError(`${name} must be in [0, 1]`)
  }
  const rng = mulberry32(cfg.seed)
  const sockets = new Set()
  let stats
  const resetCounters = () => {
    stats = {
      connections: 0,
      requests: 0,
      byMethod: {},
      forwardedBodyBytes: 0,
      forwardedByMethod: {},
      receivedBodyBytes: 0,
      cuts: 0,
      delays: 0,
      errors503: 0,
      log: [],
    }
  }
  resetCounters()
  // Throttle: a global schedule; each forwarded piece is due at start + sent / rate.
  let throttle = { start: 0, sent: 0 }

  async function throttled(n) {
    const rate = cfg.throttleBytesPerSec
    if (!rate) return
    const now = Date.now()
    // Restart the schedule after idle periods so a pause does not build up credit.
    if (throttle.start === 0 || throttle.start + (throttle.sent / rate) * 1000 < now - 200) {
      throttle = { start: now, sent: 0 }
    }
    throttle.sent += n
    const due = throttle.start + (throttle.sent / rate) * 1000
    if (due > now) await sleep(due - now)
  }

  function faultable(method) {
    return !cfg.faultMethods || cfg.faultMethods.includes(method)
  }

  async function handle(client) {
    stats.connections++
    const reader = new Reader(client)
    let upstream = null
    let upstreamTarget = null
    const connectUpstream = (target) =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: target.hostname, port: Number(target.port) || 80 })
        sockets.add(s)
        s.once('close', () => sockets.delete(s))
        s.once('connect', () => {
          s.off('error', reject)
          s.on('error', () => client.destroy())
          s.on('data', (chunk) => {
            if (!client.write(chunk)) {
              s.pause()
              client.once('drain', () => s.resume())
            }
          })
          s.on('end', () => {
            if (!s.retired) client.end()
          })
          s.on('close', () => {
            // The target closed: nothing more can be forwarded on this connection.
            if (!s.retired && !client.destroyed) client.end()
          })
          resolve(s)
        })
        s.once('error', reject)
      })

    try {
      for (;;) {
        const head = await reader.until(Buffer.from('\r\n\r\n'), kMaxHead)
        if (head === null) break
        const { method, target: path, headers } = parseHead(head)
        stats.requests++
        stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1
        const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '')
        const length = chunked ? null : Number(headers['content-length'] ?? 0)
        const hasBody = chunked || length > 0
        // Draw every decision in a fixed order, so a seed replays the same faults.
        const r503 = rng()
        const rCut = rng()
        const rCutAt = rng()
        const rDelay = rng()
        const rDelayMs = rng()
        const entry = { method, path, headers, length, fault: null, forwarded: 0 }
        if (stats.log.length < cfg.logLimit) stats.log.push(entry)
        const canFault = faultable(method)

        if (cfg.latencyMs > 0) await sleep(cfg.latencyMs)
        if (canFault && rDelay < cfg.delayRate && stats.delays < cfg.maxDelays) {
          stats.delays++
          const ms = cfg.minDelayMs + Math.floor(rDelayMs * Math.max(0, cfg.maxDelayMs - cfg.minDelayMs))
          entry.fault = `delay ${ms}ms`
          await sleep(ms)
        }

        const force503 = stats.errors503 < cfg.min503
        if (canFault && (force503 || r503 < cfg.errorRate) && stats.errors503 < cfg.max503) {
          stats.errors503++
          entry.fault = '503'
          const body = 'injected by fault_proxy\n'
          await writeAll(
            client,
            Buffer.from(
              'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nTus-Resumable: 1.0.0\r\n' +
                `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
            ),
          )
          if (upstream) upstream.destroy()
          // Drain what the client still sends of the body (so the close is not a reset that
          // eats the 503), for at most 5 s and until it pauses for 500 ms.
          const drainUntil = Date.now() + 5000
          let left = chunked ? Infinity : length
          try {
            while (left > 0 && Date.now() < drainUntil) {
              const piece = await Promise.race([reader.some(kPiece), sleep(500).then(() => null)])
              if (piece === null) break
              stats.receivedBodyBytes += piece.length
              left -= piece.length
            }
          } catch (err) {
            if (!(err instanceof Closed)) throw err
          }
          client.end()
          return
        }

        let cutAt = null
        const forceCut = stats.cuts < cfg.minCuts
        if (canFault && hasBody && (forceCut || rCut < cfg.cutRate) && stats.cuts < cfg.maxCuts) {
          const size = chunked ? 16 * 1024 * 1024 : length
          if (size >= cfg.cutMinBody) cutAt = Math.floor(rCutAt * size)
        }

        const target = targets.length > 1 ? targets[Math.floor(rng() * targets.length)] : targets[0]
        entry.target = target.host
        if (upstream && !upstream.destroyed && upstreamTarget !== target) {
          upstream.retired = true  // switching servers between requests is not a close
          upstream.destroy()
          upstream = null
        }
        if (!upstream || upstream.destroyed) {
          upstream = await connectUpstream(target)
          upstreamTarget = target
        }
        await writeAll(upstream, head)

        const cut = async () => {
          stats.cuts++
          entry.fault = `cut at ${entry.forwarded}`
          // Let the forwarded prefix reach the target before the reset.
          await sleep(20)
          upstream.destroy()
          client.destroy()
        }
        const forward = async (piece, payload) => {
          // payload: how many of piece's bytes are body payload (chunk framing is not).
          await throttled(piece.length)
          await writeAll(upstream, piece)
          stats.forwardedBodyBytes += payload
          stats.forwardedByMethod[method] = (stats.forwardedByMethod[method] ?? 0) + payload
          entry.forwarded += payload
        }

        if (!chunked) {
          let left = length
          while (left > 0) {
            let piece = await reader.some(Math.min(kPiece, left))
            stats.receivedBodyBytes += piece.length
            if (cutAt !== null && entry.forwarded + piece.length > cutAt) {
              piece = piece.subarray(0, cutAt - entry.forwarded)
              if (piece.length > 0) await forward(piece, piece.length)
              await cut()
              return
            }
            await forward(piece, piece.length)
            left -= piece.length
          }
        } else {
          for (;;) {
            const sizeLine = await reader.until(Buffer.from('\r\n'), 1024)
            if (sizeLine === null) throw new Closed()
            const size = Number.parseInt(sizeLine.toString('latin1'), 16)
            await writeAll(upstream, sizeLine)
            if (size === 0) {
              // Trailers, then the final CRLF.
              for (;;) {
                const line = await reader.until(Buffer.from('\r\n'), kMaxHead)
                if (line === null) throw new Closed()
                await writeAll(upstream, line)
                if (line.length === 2) break
              }
              break
            }
            let left = size
            while (left > 0) {
              let piece = await reader.some(Math.min(kPiece, left))
              stats.receivedBodyBytes += piece.length
              if (cutAt !== null && entry.forwarded + piece.length > cutAt) {
                piece = piece.subarray(0, cutAt - entry.forwarded)
                if (piece.length > 0) await forward(piece, piece.length)
                await cut()
                return
              }
              await forward(piece, piece.length)
              left -= piece.length
            }
            const crlf = await reader.until(Buffer.from('\r\n'), 2)
            if (crlf === null) throw new Closed()
            await writeAll(upstream, crlf)
          }
        }
      }
      if (upstream) upstream.end()
    } catch (err) {
      client.destroy()
      if (upstream) upstream.destroy()
      if (!(err instanceof Closed) && err.code !== 'ECONNREFUSED' && err.code !== 'ECONNRESET') {
        // Unexpected: keep it visible in the stats rather than crashing the test process.
        stats.log.push({ error: String(err?.stack ?? err) })
      }
    }
  }

  const server = net.createServer((client) => {
    sockets.add(client)
    client.once('close', () => sockets.delete(client))
    client.on('error', () => {})
    handle(client)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: cfg.port ?? 0 }, resolve)
  })
  const port = server.address().port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => ({ ...stats, byMethod: { ...stats.byMethod }, forwardedByMethod: { ...stats.forwardedByMethod } }),
    configure(changes) {
      Object.assign(cfg, changes)
    },
    resetCounters,
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}
