// A recording HTTP/1.1 proxy on 127.0.0.1 for the reliability tests: every request the clients
// make goes through it, so a test knows, per upload, how many bytes a client ever handed to the
// server (an upper bound for what the server may report) and the highest Upload-Offset the server
// ever answered (a lower bound: what was acknowledged must survive a crash).
//
//   const tap = await startTapProxy({ target: 'http://127.0.0.1:PORT', throttleBytesPerSec })
//   tap.url                 http://127.0.0.1:PROXYPORT
//   tap.log                 one entry per request: {method, path, headers (lower-cased),
//                           forwarded (body bytes written to the target), status, resHeaders
//                           (lower-cased, null until the response head arrived), error (set when a
//                           side went away before any response)}; in flight while status and
//                           error are both null
//   tap.uploadBounds(path)  {sent, acknowledged} for an upload path (see below)
//   tap.hold() / tap.release()   while held, a new request waits before it is forwarded (a test
//                           inspects a quiet server)
//   await tap.stop()
//
// Built on node:http: each request goes to the target on a connection of its own. When the
// target dies mid-request, the client's connection is destroyed, as if the server had died
// under it (no 502 is made up). Request trailers are not forwarded (no client here sends any).
import http from 'node:http'

// The path of a URL or of a Location value (absolute or not).
export function pathOf(urlOrPath) {
  return new URL(urlOrPath, 'http://x').pathname
}

// Headers about one connection, not the message: each side of the proxy has its own. Expect goes
// too: node:http has answered 100 Continue already.
function hopByHopRemoved(headers) {
  const out = { ...headers }
  for (const name of ['connection', 'keep-alive', 'expect']) delete out[name]
  return out
}

export async function startTapProxy({ target, throttleBytesPerSec = 0 }) {
  const upstream = new URL(target)
  const log = []
  let gate = null // a promise new requests wait on while held
  let openGate = null
  // Throttle: all bodies share one budget; a piece may go once the budget's clock allows it.
  let budgetStart = 0
  let budgetUsed = 0
  const waitForBudget = (n) => {
    if (!throttleBytesPerSec) return null
    const now = Date.now()
    if (now - (budgetStart + (budgetUsed / throttleBytesPerSec) * 1000) > 200) {
      budgetStart = now // idle for a while: no credit builds up
      budgetUsed = 0
    }
    budgetUsed += n
    const due = budgetStart + (budgetUsed / throttleBytesPerSec) * 1000 - now
    return due > 0 ? new Promise((resolve) => setTimeout(resolve, due)) : null
  }

  async function forward(req, res) {
    const entry = { method: req.method, path: pathOf(req.url), headers: req.headers, forwarded: 0, status: null,
      resHeaders: null, error: null }
    log.push(entry)
    let out = null
    // One side went away: the other loses its connection too, as if there were no proxy.
    const gone = (why) => {
      if (entry.status === null && entry.error === null) entry.error = why
      req.socket.destroy()
      out?.destroy()
    }
    req.on('error', () => gone('client closed'))
    res.on('error', () => gone('client closed'))
    res.once('close', () => {
      if (!res.writableFinished) gone('client closed')
    })
    req.pause()
    while (gate) await gate
    if (req.socket.destroyed) return
    out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
      headers: hopByHopRemoved(req.headers), agent: false })
    out.on('error', (err) => gone(`target closed (${err.code ?? err.message})`)) // again after destroy(): `on`, not `once`
    out.once('response', (answer) => {
      entry.status = answer.statusCode
      entry.resHeaders = answer.headers
      res.writeHead(answer.statusCode, hopByHopRemoved(answer.headers))
      answer.pipe(res)
      answer.on('error', () => gone('target closed'))
      answer.once('aborted', () => gone('target closed'))
    })
    // One piece at a time, in order: a piece may wait for the throttle, and the body's end (which
    // node:http may announce while the last piece still waits) is passed on only after it.
    let queue = Promise.resolve()
    req.on('data', (chunk) => {
      req.pause()
      queue = queue.then(async () => {
        const wait = waitForBudget(chunk.length)
        if (wait) await wait
        if (out.destroyed) return
        entry.forwarded += chunk.length
        if (out.write(chunk)) req.resume()
        else out.once('drain', () => req.resume())
      })
    })
    req.once('end', () => {
      queue = queue.then(() => {
        if (!out.destroyed) out.end()
      })
    })
    req.resume()
  }

  const sockets = new Set()
  const server = http.createServer((req, res) => {
    forward(req, res).catch(() => req.socket.destroy())
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  server.keepAliveTimeout = 60_000
  server.requestTimeout = 0
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, resolve)
  })
  const { port } = server.address()

  // Per upload path: `sent` = the highest byte position any client delivered to the server
  // (Upload-Offset + forwarded body of a PATCH; the body of a creation-with-upload POST counts
  // for the Location it created), `acknowledged` = the highest Upload-Offset the server answered
  // for it (any response: HEAD, PATCH, POST with data).
  function uploadBounds(uploadPath) {
    let sent = 0
    let acknowledged = 0
    for (const e of log) {
      const location = e.resHeaders?.location ? pathOf(e.resHeaders.location) : null
      const mine = e.path === uploadPath || (e.method === 'POST' && location === uploadPath)
      if (!mine) continue
      if (e.method === 'PATCH') {
        const start = Number(e.headers['upload-offset'] ?? 0)
        sent = Math.max(sent, start + e.forwarded)
      } else if (e.method === 'POST') {
        sent = Math.max(sent, e.forwarded)
      }
      const reported = e.resHeaders?.['upload-offset']
      if (reported !== undefined && /^\d+$/.test(reported)) acknowledged = Math.max(acknowledged, Number(reported))
    }
    return { sent, acknowledged }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    uploadBounds,
    hold() {
      if (!gate) gate = new Promise((resolve) => (openGate = resolve))
    },
    release() {
      const open = openGate
      gate = null
      openGate = null
      if (open) open()
    },
    async stop() {
      this.release()
      const closed = new Promise((resolve) => server.close(resolve))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}
