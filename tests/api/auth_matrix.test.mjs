// The auth matrix (issue 7.6): every way a presigned signature (seed 000: POST /tusupload with
// Signature, Expiration, Video-Id) or a Bearer key (POST /files/, /v1/*, POST /v2/init of seed
// 004) can be wrong, reused or replayed, each row with its status and ERR_ code. Requests go
// over raw sockets so header bytes are exact (fetch would trim and merge them). The server logs
// every request (no --quiet) and its whole stderr is kept: no key and no signature, valid or
// not, may appear in it, nor in any response.
//
// Rows api_presign and api_rest/api_init already assert are not repeated (docs/security.md lists
// the whole matrix with the test of each row): each header missing, bad hex, 63/65 digits,
// `tomorrow` and `-5` as Expiration, a non-UUID Video-Id, unknown video, tampered signature,
// Expiration extended by a day, expired by 10 s, revoked key, key of another project, a string
// that is no key, the signature of video A with Video-Id B, a second creation with one
// signature (409) and 12 concurrent ones, upper-case hex; no Authorization, `Basic`, an unknown
// key and a key revoked while the server runs on /v1 and /v2/init.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import path from 'node:path'

import { rawRequest } from '../http/raw.mjs'
import { call, cli, createKey, createVideo, metadata, nowSeconds, presign, revokeKey, startPlatform } from './platform.mjs'

let p
let stderr = ''
let keyA2 // a second active key of project A
let revoked // a key of project A, revoked before the rows run
const secrets = new Set() // every key and signature any row sent

before(async () => {
  p = await startPlatform({ args: [] }) // request logging on: the log must not leak
  p.server.proc.stderr.on('data', (chunk) => {
    stderr += chunk.toString('utf8')
  })
  keyA2 = await createKey(p.dataDir, p.projectA)
  revoked = await createKey(p.dataDir, p.projectA)
  await revokeKey(p.dataDir, revoked)
  for (const k of [p.globalKey, p.keyA, p.keyB, keyA2, revoked]) secrets.add(k)
})
after(async () => {
  if (p) await p.stop()
})

// A tus or platform error: text/plain `ERR_X: msg` or JSON {"error":{"code"}}.
function errorCode(res) {
  if ((res.headers['content-type'] ?? '').startsWith('application/json')) return JSON.parse(res.text).error?.code ?? null
  const m = /^(ERR_[A-Z_]+):/.exec(res.text)
  return m ? m[1] : null
}

function assertAnswer(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${res.rawHead}\n${res.text}`)
  if (code) assert.equal(errorCode(res), code, `${what}: ${res.text}`)
  for (const s of secrets) assert.ok(!res.text.includes(s) && !res.rawHead.includes(s), `${what}: the response echoes a secret`)
}

const kTus = [['Tus-Resumable', '1.0.0'], ['Upload-Length', '10']]

// --- presigned creation ----------------------------------------------------------------------------
// Each row gets a fresh video V of project A; `headers(c)` returns the header pairs, where c has
// v (V's id), e (an Expiration an hour ahead), sig(key, exp, id) and the keys.
const sig = (key, exp, id) => {
  const s = presign(key, exp, id)
  secrets.add(s)
  return s
}
const three = (s, e, v) => [['Signature', s], ['Expiration', String(e)], ['Video-Id', v]]
const ok = (c) => three(sig(p.keyA, c.e, c.v), c.e, c.v)
const presignRows = [
  ['empty Signature', (c) => three('', c.e, c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['empty Expiration', (c) => three(sig(p.keyA, c.e, c.v), '', c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['empty Video-Id', (c) => three(sig(p.keyA, c.e, c.v), c.e, ''), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['mixed-case hex', (c) => three(sig(p.keyA, c.e, c.v).replace(/[a-f]/g, (x, i) => (i % 2 ? x.toUpperCase() : x)), c.e, c.v), 201],
  ['Signature padded with spaces (OWS is not part of a field value)', (c) => three(`  ${sig(p.keyA, c.e, c.v)}  `, c.e, c.v), 201],
  ['Signature with a character appended after a space', (c) => three(`${sig(p.keyA, c.e, c.v)} 0`, c.e, c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Signature as base64 of the digest', (c) => three(Buffer.from(sig(p.keyA, c.e, c.v), 'hex').toString('base64'), c.e, c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Signature sent twice (same value)', (c) => [...ok(c), ['Signature', sig(p.keyA, c.e, c.v)]], 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Video-Id sent twice (two videos)', (c) => [...ok(c), ['Video-Id', c.other]], 400, 'ERR_SIGNATURE_MALFORMED'],
  ['signed over apiKey + videoId + expiration (wrong order)', (c) => three(sig(p.keyA, c.v, c.e), c.e, c.v), 403, 'ERR_SIGNATURE_MISMATCH'],
  ['signed with the key id (key_...) instead of the key', (c) => three(sig(c.keyIdA, c.e, c.v), c.e, c.v), 403, 'ERR_SIGNATURE_MISMATCH'],
  ['signed with the key in upper case', (c) => three(sig(p.keyA.toUpperCase(), c.e, c.v), c.e, c.v), 403, 'ERR_SIGNATURE_MISMATCH'],
  ['signed by another active key of the same project', (c) => three(sig(keyA2, c.e, c.v), c.e, c.v), 201],
  ['Expiration shortened by 1 s (not what was signed)', (c) => three(sig(p.keyA, c.e, c.v), c.e - 1, c.v), 403, 'ERR_SIGNATURE_MISMATCH'],
  // The signature covers the number (std::to_string of the parsed value), not its spelling.
  ['Expiration with a leading zero (the same number)', (c) => three(sig(p.keyA, c.e, c.v), `0${c.e}`, c.v), 201],
  ['expired 1 s ago', (c) => three(sig(p.keyA, nowSeconds() - 1, c.v), nowSeconds() - 1, c.v), 403, 'ERR_SIGNATURE_EXPIRED'],
  ['Expiration 0 (1970)', (c) => three(sig(p.keyA, 0, c.v), 0, c.v), 403, 'ERR_SIGNATURE_EXPIRED'],
  // Policy: the key holder chooses the lifetime, the signature covers it, and it creates one
  // upload once (409 afterwards); Vidup sets no upper bound below 18 digits.
  ['Expiration far in the future (10^17, 18 digits): accepted', (c) => three(sig(p.keyA, 1e17, c.v), '100000000000000000', c.v), 201],
  ['Expiration of 19 digits (past int64 parsing)', (c) => three(sig(p.keyA, '9999999999999999999', c.v), '9999999999999999999', c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Expiration +3600 (a sign)', (c) => three(sig(p.keyA, `+${c.e}`, c.v), `+${c.e}`, c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Expiration 1.7e9 (exponent)', (c) => three(sig(p.keyA, '1.7e9', c.v), '1.7e9', c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Expiration in hex', (c) => three(sig(p.keyA, `0x${c.e.toString(16)}`, c.v), `0x${c.e.toString(16)}`, c.v), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Video-Id in upper case, signed over the lower-case id (ids are case-insensitive)', (c) => three(sig(p.keyA, c.e, c.v), c.e, c.v.toUpperCase()), 201],
  ['Video-Id in upper case, signed over that spelling', (c) => three(sig(p.keyA, c.e, c.v.toUpperCase()), c.e, c.v.toUpperCase()), 403, 'ERR_SIGNATURE_MISMATCH'],
  ['Video-Id with SQL in it', (c) => three(sig(p.keyA, c.e, `${c.v}' OR '1'='1`), c.e, `${c.v}' OR '1'='1`), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['Video-Id with ../ in it', (c) => three(sig(p.keyA, c.e, `../${c.v}`), c.e, `../${c.v}`), 400, 'ERR_SIGNATURE_MALFORMED'],
  ['revoked key and expired: the signature is judged first', (c) => three(sig(revoked, nowSeconds() - 60, c.v), nowSeconds() - 60, c.v), 403, 'ERR_SIGNATURE_KEY_REVOKED'],
  ['another project\'s key and expired: only "mismatch" is learned', (c) => three(sig(p.keyB, nowSeconds() - 60, c.v), nowSeconds() - 60, c.v), 403, 'ERR_SIGNATURE_MISMATCH'],
  ['a valid Bearer key does not rescue a bad signature', (c) => [...three(sig(p.keyB, c.e, c.v), c.e, c.v), ['Authorization', `Bearer ${p.globalKey}`]], 403, 'ERR_SIGNATURE_MISMATCH'],
  ['a valid signature at /files/ (the same creation endpoint)', (c) => ok(c), 201, null, '/files/'],
]

describe('presigned creation: POST /tusupload', () => {
  let keyIdA
  before(async () => {
    const listed = await cli(p.dataDir, 'keys', 'list')
    const line = listed.split('\n').find((l) => l.includes(p.keyA.slice(0, 7)) && l.includes(p.keyA.slice(-4)))
    keyIdA = /key_[0-9a-f]{16}/.exec(line ?? '')?.[0]
    assert.ok(keyIdA, `the id of key A in: ${listed}`)
  })

  for (const [name, headers, status, code = null, target = '/tusupload'] of presignRows) {
    test(`${name} → ${status}${code ? ` ${code}` : ''}`, async () => {
      const v = (await createVideo(p.server, p.keyA, p.projectA)).id
      const other = (await createVideo(p.server, p.keyA, p.projectA)).id
      const c = { v, other, e: nowSeconds() + 3600, keyIdA }
      const res = await rawRequest(p.server.port, 'POST', target, [...kTus, ...headers(c)])
      assertAnswer(res, status, code, name)
      const video = await call(p.server, 'GET', `/v1/videos/${v}`, { key: p.keyA })
      const idOf = (url) => new URL(url).pathname.split('/').pop()
      if (status === 201) assert.equal(idOf(video.json.data.upload_url), idOf(res.headers.location), 'the upload belongs to the video')
      else assert.equal(video.json.data.upload_url, null, 'a refused creation attaches nothing')
    })
  }

  test('replay of a used signature on another path (/files/) → 409 ERR_VIDEO_HAS_UPLOAD', async () => {
    const v = (await createVideo(p.server, p.keyA, p.projectA)).id
    const h = three(sig(p.keyA, nowSeconds() + 3600, v), nowSeconds() + 3600, v)
    assertAnswer(await rawRequest(p.server.port, 'POST', '/tusupload', [...kTus, ...h]), 201, null, 'first')
    assertAnswer(await rawRequest(p.server.port, 'POST', '/files/', [...kTus, ...h]), 409, 'ERR_VIDEO_HAS_UPLOAD', 'replay')
  })

  test('replay after the video was deleted → 404 ERR_VIDEO_NOT_FOUND', async () => {
    const v = (await createVideo(p.server, p.keyA, p.projectA)).id
    const h = three(sig(p.keyA, nowSeconds() + 3600, v), nowSeconds() + 3600, v)
    assertAnswer(await rawRequest(p.server.port, 'POST', '/tusupload', [...kTus, ...h]), 201, null, 'first')
    assert.equal((await call(p.server, 'DELETE', `/v1/videos/${v}`, { key: p.keyA })).status, 204)
    assertAnswer(await rawRequest(p.server.port, 'POST', '/tusupload', [...kTus, ...h]), 404, 'ERR_VIDEO_NOT_FOUND', 'replay')
  })

  test('a key revoked between signing and use → 403 ERR_SIGNATURE_KEY_REVOKED at once', async () => {
    const key = await createKey(p.dataDir, p.projectA)
    secrets.add(key)
    const v = (await createVideo(p.server, key, p.projectA)).id
    const h = three(sig(key, nowSeconds() + 3600, v), nowSeconds() + 3600, v)
    await revokeKey(p.dataDir, key)
    assertAnswer(await rawRequest(p.server.port, 'POST', '/tusupload', [...kTus, ...h]), 403, 'ERR_SIGNATURE_KEY_REVOKED', 'revoked')
  })
})

// --- Bearer keys -------------------------------------------------------------------------------------
// Each Authorization variant against the three Bearer endpoints. `ok` is the status a valid key
// gets; `scoped` is what project A's key gets on project B.
const endpoints = {
  'GET /v1/projects': { method: 'GET', target: () => '/v1/projects', body: () => null, ok: 200 },
  'POST /v2/init': {
    method: 'POST',
    target: () => '/v2/init',
    body: () => JSON.stringify({ parent_id: p.projectA, type: 'video', filename: 'm.mp4', filesize: 10 }),
    ok: 201,
  },
  'POST /files/ (tus, Bearer)': {
    method: 'POST',
    target: () => '/files/',
    extra: () => [...kTus, ['Upload-Metadata', metadata({ parent_id: p.projectA })]],
    body: () => null,
    ok: 201,
  },
}
const bearerRows = [
  ['"bearer" in lower case (schemes are case-insensitive)', () => [['Authorization', `bearer ${p.globalKey}`]], 'ok'],
  ['"BEARER" in upper case', () => [['Authorization', `BEARER ${p.globalKey}`]], 'ok'],
  ['trailing spaces (OWS, not part of the value)', () => [['Authorization', `Bearer ${p.globalKey}   `]], 'ok'],
  ['two spaces after Bearer', () => [['Authorization', `Bearer  ${p.globalKey}`]], 401, 'ERR_MISSING_CREDENTIALS'],
  ['a tab after Bearer', () => [['Authorization', `Bearer\t${p.globalKey}`]], 401, 'ERR_MISSING_CREDENTIALS'],
  ['"Bearer" and no token', () => [['Authorization', 'Bearer']], 401, 'ERR_MISSING_CREDENTIALS'],
  ['"Bearer " and no token', () => [['Authorization', 'Bearer ']], 401, 'ERR_MISSING_CREDENTIALS'],
  ['empty Authorization', () => [['Authorization', '']], 401, 'ERR_MISSING_CREDENTIALS'],
  ['the key without a scheme', () => [['Authorization', p.globalKey]], 401, 'ERR_MISSING_CREDENTIALS'],
  ['"Token <key>"', () => [['Authorization', `Token ${p.globalKey}`]], 401, 'ERR_MISSING_CREDENTIALS'],
  ['the key followed by another word', () => [['Authorization', `Bearer ${p.globalKey} extra`]], 401, 'ERR_MISSING_CREDENTIALS'],
  ['two Authorization fields, a bad one first', () => [['Authorization', 'Bearer ky_00000000000000000000'], ['Authorization', `Bearer ${p.globalKey}`]], 401, 'ERR_INVALID_API_KEY'],
  ['the key in upper case', () => [['Authorization', `Bearer ${p.globalKey.toUpperCase()}`]], 401, 'ERR_INVALID_API_KEY'],
  ['the key truncated by one', () => [['Authorization', `Bearer ${p.globalKey.slice(0, -1)}`]], 401, 'ERR_INVALID_API_KEY'],
  ['the key with a character appended', () => [['Authorization', `Bearer ${p.globalKey}0`]], 401, 'ERR_INVALID_API_KEY'],
  ['a revoked key', () => [['Authorization', `Bearer ${revoked}`]], 401, 'ERR_INVALID_API_KEY'],
  ['the key in the query string instead', () => [], 401, 'ERR_MISSING_CREDENTIALS', `?api_key=`],
  ['another project\'s key (scoped to B, acting on A)', () => [['Authorization', `Bearer ${p.keyB}`]], 'scoped'],
]
// What project B's key gets when it names project A (existence does not leak).
const scopedAnswer = {
  'GET /v1/projects': [200], // the list holds only B: checked below
  'POST /v2/init': [404, 'ERR_PARENT_NOT_FOUND'],
  'POST /files/ (tus, Bearer)': [404, 'ERR_PARENT_NOT_FOUND'],
}

for (const [endpoint, e] of Object.entries(endpoints)) {
  describe(`Bearer: ${endpoint}`, () => {
    for (const [name, auth, want, code = null, query = ''] of bearerRows) {
      const [status, wantCode] = want === 'ok' ? [e.ok, null] : want === 'scoped' ? scopedAnswer[endpoint] : [want, code]
      test(`${name} → ${status}${wantCode ? ` ${wantCode}` : ''}`, async () => {
        const target = e.target() + (query ? `${query}${p.globalKey}` : '')
        const res = await rawRequest(p.server.port, e.method, target, [...(e.extra?.() ?? []), ...auth()], e.body())
        assertAnswer(res, status, wantCode ?? null, `${endpoint} ${name}`)
        if (want === 'scoped' && endpoint === 'GET /v1/projects') {
          assert.deepEqual(JSON.parse(res.text).data.map((x) => x.id), [p.projectB], 'B\'s key sees only B')
        }
      })
    }
  })
}

test('keys at rest: vidup.db (keys in the clear), uploads/ and an upload are not readable by other users', async () => {
  const res = await rawRequest(p.server.port, 'POST', '/files/', [...kTus, ['Authorization', `Bearer ${p.keyA}`]])
  assert.equal(res.status, 201, res.text)
  const upload = path.join(p.dataDir, 'uploads', res.headers.location.split('/').pop())
  for (const file of [path.join(p.dataDir, 'vidup.db'), path.join(p.dataDir, 'uploads'), upload]) {
    const mode = (await stat(file)).mode & 0o777
    assert.equal(mode & 0o007, 0, `${path.basename(file)} has mode ${mode.toString(8)}`)
  }
})

test('no key and no signature appears in the server\'s log', async () => {
  await new Promise((resolve) => setTimeout(resolve, 200)) // the last lines reach the pipe
  const log = stderr + p.server.output()
  assert.ok(/"msg":"request"/.test(log), 'request logging was on')
  const requestLines = log.split('\n').filter((l) => l.includes('"msg":"request"')).length
  assert.ok(requestLines > 100, `only ${requestLines} request lines logged`)
  assert.ok(secrets.size > 30, `only ${secrets.size} secrets were sent`)
  for (const s of secrets) {
    assert.ok(!log.includes(s), `the log holds ${s.slice(0, 6)}…`)
    // Nor a recognisable part of it: the hex of a key, or any 16 digits of a signature.
    const core = s.startsWith('ky_') ? s.slice(3) : s.slice(8, 24)
    assert.ok(!log.toLowerCase().includes(core.toLowerCase()), `the log holds part of ${s.slice(0, 6)}…`)
  }
  console.log(`${requestLines} request lines, ${log.length} bytes of log, ${secrets.size} secrets: none found`)
})
