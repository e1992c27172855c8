// Hostile requests over raw sockets, one table row each: the exact bytes, the responses expected
// in order, whether the server must close the connection, and what may be stored. After every
// row a normal upload (POST, PATCH, GET, file on disk) must still succeed; at the end the data
// directory holds only vidup.db and uploads/<id> files, the directory beside it is untouched, the
// server's memory did not grow with the attacks and it never logged an internal error.
//
// Cases other tests already cover are not repeated here: CL+TE chunked, a smuggled request after
// it and a non-hex chunk size (http_malformed), one oversized header and --max-connections
// (http_limits), a header trickled past --idle-timeout (http_timeouts), ids with ..%2F, %2e%2e,
// %00, 10 KiB and upper-case hex (http_routing), and the header codecs' own tables (core
// integers_test, handler post_test/patch_test). docs/security.md has the whole table.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'

import { fileSize, storedFile } from '../support/bytes.mjs'
import { makeTempDir, removeDir, startServer } from '../support/server.mjs'
import { RawClient, rawRequest, tusHeaders } from '../http/raw.mjs'
import { assertConfined, canaryUpload, listTree, procSample } from './hostile.mjs'

const kHeaderLimit = 8192
const kTimeoutS = 2
const kLength = 10 // every row gets a fresh upload of this length

const H = 'Host: localhost\r\n'
const TUS = 'Tus-Resumable: 1.0.0\r\n'
const OOS = 'Content-Type: application/offset+octet-stream\r\n'
const post = (extra, body = '') => `POST /files/ HTTP/1.1\r\n${H}${TUS}${extra}\r\n${body}`
const createWith = (extra) => post(`Upload-Length: 1\r\n${extra}`)
const patch = (u, extra, body = '') => `PATCH ${u.path} HTTP/1.1\r\n${H}${TUS}${OOS}${extra}\r\n${body}`
const chunked = (u, body) => patch(u, 'Upload-Offset: 0\r\nTransfer-Encoding: chunked\r\n', body)
const get = (target, extra = '') => `GET ${target} HTTP/1.1\r\n${H}${extra}\r\n`
const headers = (n) => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join('')
const MiB = 1024 * 1024

// One expected response: [status, ERR_ code or null, {head}].
const r = (status, code = null, opts = {}) => ({ status, code, ...opts })
const BAD = r(400, 'ERR_BAD_REQUEST')

// name, bytes(u) (u = {path, id} of the row's upload), expect (responses in order), and:
//   closes: the server closes the connection (within the read timeout + slack)
//   stored: bytes the row's upload holds afterwards (its offset and its file size on disk)
//   creates: false when the row must not create an upload
//   check(u, responses): anything else
const rows = [
  // --- framing: Transfer-Encoding and Content-Length (RFC 9112 §6) -----------------------------
  ['Transfer-Encoding: gzip (chunked not the final coding)', () => createWith('Transfer-Encoding: gzip\r\n') + 'x', [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding: identity', () => createWith('Transfer-Encoding: identity\r\n'), [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding: chunked, gzip', () => createWith('Transfer-Encoding: chunked, gzip\r\n') + '0\r\n\r\n', [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding: gzip, chunked (a coding we would store undecoded)', () => createWith('Transfer-Encoding: gzip, chunked\r\n') + '0\r\n\r\n', [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding: xchunked', () => createWith('Transfer-Encoding: xchunked\r\n') + '0\r\n\r\n', [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding in HTTP/1.0', () => `POST /files/ HTTP/1.0\r\n${TUS}Upload-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [BAD], { closes: true, creates: false }],
  ['Transfer-Encoding before Content-Length', (u) => patch(u, 'Upload-Offset: 0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n', '5\r\nhello\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  ['two different Content-Length', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 2\r\nContent-Length: 5\r\n', 'hello'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: -1', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: -1\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: +1', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: +1\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: 0x1', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 0x1\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: 2^64 (overflows)', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 18446744073709551616\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: 1 1 (inner space)', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 1 1\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  ['Content-Length: (empty)', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length:\r\n', 'x'), [BAD], { closes: true, stored: 0 }],
  // RFC 9112 §6.3 lets a recipient accept repeated identical values; OWS around a value is not
  // part of it (RFC 9110 §5.5), for every field.
  ['two identical Content-Length (accepted, RFC 9112 §6.3)', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 3\r\nContent-Length: 3\r\n', 'abc'), [r(204)], { stored: 3 }],
  ['Content-Length padded with spaces (OWS, accepted)', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length:   3  \r\n', 'abc'), [r(204)], { stored: 3 }],

  // --- chunk sizes --------------------------------------------------------------------------------
  ['chunk size -5', (u) => chunked(u, '-5\r\nhello\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  ['chunk size 0x2', (u) => chunked(u, '0x2\r\nab\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  ['chunk size with a leading space', (u) => chunked(u, ' 2\r\nab\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  ['empty chunk-size line', (u) => chunked(u, '\r\nab\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  ['chunk size of 17 hex digits (overflows 64 bits) after a valid chunk', (u) => chunked(u, '1\r\na\r\n10000000000000001\r\nhello\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 1 }],
  ['chunk size 2^64-1 after a valid chunk', (u) => chunked(u, '2\r\nab\r\nffffffffffffffff\r\nhello\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 2 }],
  ['chunk data without its CRLF', (u) => chunked(u, '2\r\nabXY0\r\n\r\n'), [BAD], { closes: true, stored: 2 }],
  ['chunk extension syntax error', (u) => chunked(u, '2;;;\r\nab\r\n0\r\n\r\n'), [BAD], { closes: true, stored: 0 }],
  // Bare LF is not a line end in chunked framing: the parser waits for a CRLF that never comes.
  ['chunk lines ending in bare LF: no answer, cut after --read-timeout', (u) => chunked(u, '2\nab\n0\n\n'), [], { closes: true, stored: 0 }],
  // Beast bounds the header block, not a chunk-size line nor the trailers: before the buffer
  // cap in session.cpp each of these grew the server's memory by what the client sent, and the
  // server waited for more. 2 MiB is far past the cap (~320 KiB) and below what the lingering
  // close drains (4 MiB), so the client is never reset before it reads the 400.
  ['endless chunk extension (2 MiB)', (u) => [chunked(u, '2;a='), ...Array(32).fill('b'.repeat(64 * 1024))], [BAD], { closes: true, stored: 0 }],
  ['endless trailer field (2 MiB) after a valid chunk', (u) => [chunked(u, '2\r\nab\r\n0\r\nX-T: '), ...Array(32).fill('a'.repeat(64 * 1024))], [BAD], { closes: true, stored: 2 }],

  // --- pipelining ----------------------------------------------------------------------------------
  ['garbage after a valid GET', () => get('/healthz') + 'GARBAGE\r\n\r\n', [r(200), BAD], { closes: true }],
  ['binary junk after a valid PATCH', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 5\r\n', 'hello') + '\x00\x01\xff\xfe\r\n\r\n', [r(204), BAD], { closes: true, stored: 5 }],
  ['bytes beyond Content-Length are the next request, never upload data', (u) => patch(u, `Upload-Offset: 0\r\nContent-Length: ${kLength}\r\n`, '0123456789EXTRA-BYTES\r\n\r\n'), [r(204), BAD], { closes: true, stored: kLength }],
  ['a DELETE inside a GET body is never executed', (u) => {
    const inner = `DELETE ${u.path} HTTP/1.1\r\n${H}${TUS}\r\n`
    return get('/healthz', `Content-Length: ${inner.length}\r\n`) + inner
  }, [r(200)], { stored: 0 }],

  // --- PATCH and creation past Upload-Length (nothing past the length is stored) ---------------------
  ['PATCH with Content-Length past Upload-Length: 413 before reading', (u) => patch(u, 'Upload-Offset: 0\r\nContent-Length: 20\r\n', 'x'.repeat(20)), [r(413, 'ERR_UPLOAD_SIZE_EXCEEDED')], { stored: 0 }],
  ['chunked PATCH past Upload-Length: 413, the length kept', (u) => chunked(u, '7\r\n1234567\r\n7\r\n1234567\r\n0\r\n\r\n'), [r(413, 'ERR_UPLOAD_SIZE_EXCEEDED')], { stored: kLength }],
  ['30 one-byte chunks into a 10-byte upload', (u) => chunked(u, `${'1\r\nz\r\n'.repeat(30)}0\r\n\r\n`), [r(413, 'ERR_UPLOAD_SIZE_EXCEEDED')], { stored: kLength }],
  ['creation-with-upload body past Upload-Length', () => post(`${OOS}Upload-Length: 4\r\nContent-Length: 10\r\n`, '0123456789'), [r(413, 'ERR_UPLOAD_SIZE_EXCEEDED')], { creates: false }],

  // --- upload ids and paths: 404/400, never a file outside <data>/uploads ------------------------------
  ['raw backslashes in the target', () => `HEAD /files/..\\..\\vidup.db HTTP/1.1\r\n${H}${TUS}\r\n`, [r(400, null, { head: true })], { closes: true }],
  ['%5c backslashes', () => `HEAD /files/..%5c..%5cvidup.db HTTP/1.1\r\n${H}${TUS}\r\n`, [r(404, null, { head: true })]],
  ['a valid id followed by %2F..%2F', (u) => `HEAD ${u.path}%2F..%2F..%2Fvidup.db HTTP/1.1\r\n${H}${TUS}\r\n`, [r(404, null, { head: true })]],
  ['a valid id with a /../ dot segment', (u) => `PATCH ${u.path}/../${u.id} HTTP/1.1\r\n${H}${TUS}${OOS}Upload-Offset: 0\r\nContent-Length: 1\r\n\r\nx`, [r(404, 'ERR_UPLOAD_NOT_FOUND')], { stored: 0 }],
  ['DELETE /files/..%2Fuploads', () => `DELETE /files/..%2Fuploads HTTP/1.1\r\n${H}${TUS}\r\n`, [r(404, 'ERR_UPLOAD_NOT_FOUND')]],
  ['Upload-Concat final naming ../ paths', () => post('Upload-Concat: final;/files/../../etc/passwd /files/%2e%2e%2fvidup.db\r\n'), [r(400, 'ERR_PARTIAL_NOT_FOUND')], { creates: false }],
  ['/static/ with encoded ../', () => get('/static/..%2f..%2fvidup.db'), [r(404, 'ERR_NOT_FOUND')]],
  ['/%2e%2e/%2e%2e/etc/passwd', () => get('/%2e%2e/%2e%2e/etc/passwd'), [r(404, 'ERR_NOT_FOUND')]],
  ['an id over the header limit', () => get(`/files/${'a'.repeat(kHeaderLimit + 100)}`), [r(431, 'ERR_HEADER_TOO_LARGE')], { closes: true }],

  // --- header sizes and values --------------------------------------------------------------------
  ['request line over --header-limit', () => `GET /healthz?${'q'.repeat(kHeaderLimit)} HTTP/1.1\r\n${H}\r\n`, [r(431, 'ERR_HEADER_TOO_LARGE')], { closes: true }],
  ['3000 small headers (over the limit)', () => createWith(headers(3000)), [r(431, 'ERR_HEADER_TOO_LARGE')], { closes: true, creates: false }],
  ['500 small headers (under the limit) are served', () => createWith(headers(500)), [r(201)]],
  ['Upload-Metadata over --header-limit', () => createWith(`Upload-Metadata: a ${'YWFh'.repeat(2100)}\r\n`), [r(431, 'ERR_HEADER_TOO_LARGE')], { closes: true, creates: false }],
  ['Upload-Metadata over its own 4 KiB limit', () => createWith(`Upload-Metadata: a ${'YWFh'.repeat(1100)}\r\n`), [r(400, 'ERR_INVALID_METADATA')], { creates: false }],
  ['Upload-Metadata with a control character', () => createWith('Upload-Metadata: a YQ==\x01\r\n'), [BAD], { closes: true, creates: false }],
  ['Upload-Metadata with a non-ASCII key', () => createWith('Upload-Metadata: \xe9 YQ==\r\n'), [r(400, 'ERR_INVALID_METADATA')], { creates: false }],
  ...['+5', '5 5', '1e3', '-0', '0x10'].map((v) => [`Upload-Length: ${v}`, () => post(`Upload-Length: ${v}\r\n`), [r(400, 'ERR_INVALID_UPLOAD_LENGTH')], { creates: false }]),
  ...['+0', '99999999999999999999', '0 0', '1e0'].map((v) => [`Upload-Offset: ${v}`, (u) => patch(u, `Upload-Offset: ${v}\r\nContent-Length: 1\r\n`, 'x'), [r(400, 'ERR_INVALID_OFFSET')], { stored: 0 }]),
  ['Upload-Offset padded with spaces and tabs (OWS, accepted)', (u) => patch(u, 'Upload-Offset: \t 0 \t\r\nContent-Length: 1\r\n', 'x'), [r(204)], { stored: 1 }],

  // --- methods, versions, Host ----------------------------------------------------------------------
  ['HEAD with a body on a GET-only path, then a pipelined GET', () => `HEAD /healthz HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` + get('/healthz'), [r(200, null, { head: true }), r(200)]],
  ['PATCH with a body on a GET-only path, then a pipelined GET', () => `PATCH /healthz HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` + get('/healthz'), [r(404, 'ERR_NOT_FOUND'), r(200)]],
  ['GET with a chunked body: answered, then closed (never parsed as requests)', () => get('/healthz', 'Transfer-Encoding: chunked\r\n') + `5\r\nhello\r\n0\r\n\r\n${get('/healthz')}`, [r(200)], { closes: true }],
  ['GET with a 2 MiB body (over the drain limit): answered, then closed', () => get('/healthz', `Content-Length: ${2 * MiB}\r\n`) + 'z'.repeat(2 * MiB), [r(200)], { closes: true }],
  ['an unknown method FOO', () => `FOO /files/ HTTP/1.1\r\n${H}${TUS}\r\n`, [r(405, 'ERR_METHOD_NOT_ALLOWED')]],
  ['TRACE does not echo the request', () => `TRACE /files/ HTTP/1.1\r\n${H}${TUS}X-Secret: s3cr3t\r\n\r\n`, [r(405, 'ERR_METHOD_NOT_ALLOWED')], {
    check: (u, [res]) => assert.ok(!res.text.includes('s3cr3t'), res.text),
  }],
  ['lower-case method get (methods are case-sensitive)', () => `get /healthz HTTP/1.1\r\n${H}\r\n`, [r(404, 'ERR_NOT_FOUND')]],
  ['a 5000-byte method', () => `${'A'.repeat(5000)} /files/ HTTP/1.1\r\n${H}${TUS}\r\n`, [r(405, 'ERR_METHOD_NOT_ALLOWED')]],
  ['a method with a separator in it', () => `GE(T /healthz HTTP/1.1\r\n${H}\r\n`, [BAD], { closes: true }],
  ['CONNECT (authority-form)', () => `CONNECT 127.0.0.1:80 HTTP/1.1\r\n${H}\r\n`, [BAD], { closes: true }],
  ['OPTIONS * (asterisk-form)', () => `OPTIONS * HTTP/1.1\r\n${H}\r\n`, [BAD], { closes: true }],
  ['absolute-form target', () => `GET http://evil.example/healthz HTTP/1.1\r\n${H}\r\n`, [BAD], { closes: true }],
  ['HTTP/0.9 request line', () => 'GET /\r\n\r\n', [BAD], { closes: true }],
  ['HTTP/1.2', () => `GET /healthz HTTP/1.2\r\n${H}\r\n`, [BAD], { closes: true }],
  ['the HTTP/2 connection preface', () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [BAD], { closes: true }],
  ['HTTP/1.0 without Host: OPTIONS', () => 'OPTIONS /files/ HTTP/1.0\r\n\r\n', [r(204)], { closes: true }],
  ['HTTP/1.0 without Host: POST gets a Location on the listening address', () => `POST /files/ HTTP/1.0\r\n${TUS}Upload-Length: 1\r\n\r\n`, [r(201)], {
    closes: true,
    check: (u, [res], server) => assert.match(res.headers.location, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/files/[0-9a-f]{32}$`)),
  }],
  ['HTTP/1.1 without Host (RFC 9112 §3.2)', () => `POST /files/ HTTP/1.1\r\n${TUS}Upload-Length: 1\r\n\r\n`, [BAD], { closes: true, creates: false }],
  ['HTTP/1.1 with two Host fields', () => `POST /files/ HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n${TUS}Upload-Length: 1\r\n\r\n`, [BAD], { closes: true, creates: false }],
]

let server
let root
let outside
let outsideBefore
let errorLines = []
let baseline
before(async () => {
  root = await makeTempDir('vidup-hostile-')
  const dataDir = path.join(root, 'data')
  outside = path.join(root, 'outside')
  await mkdir(outside)
  await writeFile(path.join(outside, 'secret'), 'not for uploads\n')
  outsideBefore = await listTree(outside)
  server = await startServer({
    dataDir,
    // Under ASan, freed memory waits in a quarantine (256 MiB by default) before reuse, which
    // would look like growth below; a small one keeps the RSS check meaningful there too.
    env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4'].filter(Boolean).join(':') },
    args: ['--header-limit', String(kHeaderLimit), '--read-timeout', String(kTimeoutS), '--idle-timeout', String(kTimeoutS)],
  })
  // The whole stderr, not just the tail server.output() keeps: an internal error anywhere fails.
  server.proc.stderr.on('data', (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) if (/"level":"error"/.test(line)) errorLines.push(line)
  })
  await canaryUpload(server)
  baseline = await procSample(server.proc.pid)
})
after(async () => {
  if (server) await server.stop()
  if (root) await removeDir(root)
})

async function uploadCount() {
  return (await readdir(path.join(server.dataDir, 'uploads'))).length
}

for (const [name, bytes, expect, opts = {}] of rows) {
  test(name, async () => {
    const created = await rawRequest(server.port, 'POST', '/files/', { ...tusHeaders, 'Upload-Length': String(kLength) })
    assert.equal(created.status, 201)
    const id = created.headers.location.split('/').pop()
    const u = { id, path: `/files/${id}` }
    const uploadsBefore = await uploadCount()

    const client = await RawClient.connect(server.port)
    const responses = []
    try {
      const data = bytes(u)
      for (const piece of Array.isArray(data) ? data : [data]) {
        if (client.closed || client.text().length > 0) break // answered early: stop feeding an endless body
        await client.write(Buffer.from(piece, 'latin1'))
      }
      for (const want of expect) {
        const res = await client.response({ head: want.head ?? false, timeoutMs: (kTimeoutS + 3) * 1000 })
        responses.push(res)
        assert.equal(res.status, want.status, `response ${responses.length}: ${res.rawHead}\n${res.text}`)
        if (want.code) assert.match(res.text, new RegExp(`^${want.code}: [^\\n]+\\n$`), `response ${responses.length} body`)
      }
      if (opts.closes) {
        assert.ok(await client.closedWithin((kTimeoutS + 2) * 1000), `the connection is still open; got ${JSON.stringify(client.text().slice(0, 300))}`)
      }
      if (expect.length === 0) {
        assert.ok(!/^HTTP\/1\.[01] [2-5]/m.test(client.text()), `no answer expected: ${JSON.stringify(client.text().slice(0, 300))}`)
      }
    } finally {
      client.destroy()
    }

    if (opts.stored !== undefined) {
      const head = await rawRequest(server.port, 'HEAD', u.path, tusHeaders)
      assert.equal(head.status, 200)
      assert.equal(head.headers['upload-offset'], String(opts.stored), 'Upload-Offset after the row')
      assert.equal(await fileSize(storedFile(server.dataDir, id)), opts.stored, 'bytes on disk after the row')
    }
    if (opts.creates === false) assert.equal(await uploadCount(), uploadsBefore, 'no upload was created')
    if (opts.check) await opts.check(u, responses, server)
    await canaryUpload(server, { seed: name })
  })
}

test('afterwards: nothing outside <data>/uploads, memory flat, no internal error logged', async () => {
  await assertConfined(server.dataDir, outside, outsideBefore)
  const now = await procSample(server.proc.pid)
  const grewKiB = now.rssKiB - baseline.rssKiB
  console.log(`rss: ${baseline.rssKiB} KiB before the rows, ${now.rssKiB} KiB after (${grewKiB} KiB); fds ${baseline.fds} → ${now.fds}`)
  // The rows sent megabytes of headers, chunk extensions, trailers and bodies: none may stay.
  assert.ok(grewKiB < 8 * 1024, `the server's RSS grew by ${grewKiB} KiB over the rows`)
  assert.ok(now.fds <= baseline.fds + 8, `fds ${baseline.fds} → ${now.fds}: a connection leaked`)
  assert.deepEqual(errorLines, [], 'error lines in the server log')
})
