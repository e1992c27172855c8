// Seed 004's customer backend, in plain Node: the browser asks this server for an upload
// (POST /upload with tus-js-client's Upload-Length and Upload-Metadata headers), this server
// calls Vidup's POST /v2/init with its API key and answers 201 with Location: <the tus upload
// URL>. tus-js-client follows that Location and sends the file to Vidup directly: the bytes
// never pass through here, and the API key never reaches the browser.
//
// It also serves its page: GET / (public/index.html), /upload.js and /tus.min.js.
//
//   VIDUP_URL=http://127.0.0.1:8080 VIDUP_API_KEY=ky_... VIDUP_PARENT_ID=<project or folder id> \
//   PORT=3000 node server.js
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const vidupUrl = (process.env.VIDUP_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const vidupInitUrl = `${vidupUrl}/v2/init`
const vidupApiKey = process.env.VIDUP_API_KEY
const parentId = process.env.VIDUP_PARENT_ID
const host = process.env.HOST || '127.0.0.1'
const port = Number.parseInt(process.env.PORT ?? '3000', 10)

if (!vidupApiKey || !parentId || !Number.isInteger(port) || port < 0) {
  console.error('usage: VIDUP_API_KEY=ky_... VIDUP_PARENT_ID=<project or folder id> ' +
    '[VIDUP_URL=http://127.0.0.1:8080] [PORT=3000 (0: any free port)] node server.js')
  process.exit(2)
}

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const staticFiles = {
  '/': { file: path.join(here, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: path.join(here, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
  '/upload.js': { file: path.join(here, 'public', 'upload.js'), type: 'text/javascript; charset=utf-8' },
  '/tus.min.js': { file: require.resolve('tus-js-client/dist/tus.min.js'), type: 'text/javascript; charset=utf-8' },
}

// Parse the Upload-Metadata header: "key base64,key base64"; as the seed's Go code, pairs that
// are not exactly "key value" are skipped.
function parseMetadataHeader(header) {
  const meta = {}
  if (!header) {
    return meta
  }
  for (const element of header.split(',')) {
    const parts = element.trim().split(/\s+/)
    if (parts.length !== 2) {
      continue
    }
    meta[parts[0]] = Buffer.from(parts[1], 'base64').toString('utf8')
  }
  return meta
}

function sendText(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(text + '\n')
}

// Handler for the upload initialization request
async function handleUploadInit(req, res) {
  const origin = req.headers.origin
  // Set CORS headers
  if (origin) {
    res.setHeader('Access-Control-Allow-Origin', origin)
    res.setHeader('Access-Control-Allow-Credentials', 'true')
    res.setHeader('Access-Control-Allow-Headers',
      'Origin, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata')
    res.setHeader('Access-Control-Allow-Methods', 'POST, GET, HEAD, PATCH, DELETE, OPTIONS')
    res.setHeader('Access-Control-Expose-Headers', 'Location')
    res.setHeader('Vary', 'Origin')
  }

  // Handle OPTIONS request
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Max-Age', '86400')
    res.writeHead(200)
    res.end()
    return
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST, OPTIONS')
    sendText(res, 405, 'method not allowed')
    return
  }
  req.resume() // tus-js-client's creation request has no body

  // Parse metadata from Upload-Metadata header
  const metadata = parseMetadataHeader(req.headers['upload-metadata'])

  // Parse file size from Upload-Length header
  const filesize = Number(req.headers['upload-length'])
  if (!Number.isSafeInteger(filesize) || filesize <= 0) {
    sendText(res, 400, 'bad header Upload-Length')
    return
  }

  // Build request to Vidup API
  const requestBody = {
    client_ip: req.socket.remoteAddress,
    parent_id: parentId,
    type: 'video',
    title: metadata.filename,
    filename: metadata.filename,
    filesize,
  }

  // Call Vidup API to initialize upload
  let result
  try {
    const response = await fetch(vidupInitUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${vidupApiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(requestBody),
    })
    if (response.status !== 201) {
      const detail = (await response.text()).trim()
      console.error(`POST ${vidupInitUrl}: ${response.status} ${detail}`)
      sendText(res, 400, `vidup api response status=${response.status}`)
      return
    }
    result = await response.json()
  } catch (err) {
    console.error(`POST ${vidupInitUrl}: ${err.message}`)
    sendText(res, 400, `vidup api unreachable: ${err.message}`)
    return
  }
  console.log(`init video ${result.data.id} (${filesize} bytes) -> ${result.data.endpoint}`)

  // Return redirect to Tus endpoint
  res.setHeader('Location', result.data.endpoint)
  res.writeHead(201)
  res.end()
}

async function handleStatic(req, res) {
  const entry = staticFiles[new URL(req.url, 'http://localhost').pathname]
  if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
    sendText(res, 404, 'not found')
    return
  }
  const body = await readFile(entry.file)
  res.writeHead(200, { 'Content-Type': entry.type, 'Content-Length': body.length, 'Cache-Control': 'no-store' })
  res.end(req.method === 'HEAD' ? undefined : body)
}

const server = http.createServer((req, res) => {
  const pathname = new URL(req.url, 'http://localhost').pathname
  const handler = pathname === '/upload' ? handleUploadInit : handleStatic
  handler(req, res).catch((err) => {
    console.error(`${req.method} ${req.url}: ${err.stack || err}`)
    if (!res.headersSent) {
      sendText(res, 500, 'internal error')
    } else {
      res.destroy()
    }
  })
})

server.listen(port, host, () => {
  console.log(`listening on http://${host}:${server.address().port}`)
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
  })
}
