// The scale-out backends for Node tests: S3 (radosgw) and PostgreSQL started by the CTest
// fixtures service_s3 / service_pg (scripts/test-services/*), found through
// $VIDUP_TEST_S3_DIR/env and $VIDUP_TEST_PG_DIR/env.
//
//   const b = await backendArgs('s3+postgres')   // or 's3', 'postgres', 'file'
//   b.args  extra `vidup serve` flags: --store s3://BUCKET/<fresh prefix> --s3-endpoint ...
//           --db postgres://.../<fresh database>
//   b.env   AWS_* credentials for the server's environment
//
// Each call gets a fresh key prefix and a fresh database, so tests never see each other's
// uploads. A missing service is an error, never a skip.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export async function serviceEnv(name) {
  const dir = process.env[`VIDUP_TEST_${name.toUpperCase()}_DIR`]
  if (!dir) {
    throw new Error(`VIDUP_TEST_${name.toUpperCase()}_DIR is not set: run through CTest (the service_${name} fixture)`)
  }
  const text = await readFile(path.join(dir, 'env'), 'utf8').catch((err) => {
    throw new Error(`the ${name} test service is not running (${dir}/env: ${err.code}); see service_${name}_start`)
  })
  const env = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m) env[m[1]] = m[2]
  }
  return env
}

// A fresh, empty database on the test PostgreSQL server; returns its URL.
export async function freshDatabase(tag = 'vidup') {
  const { VIDUP_TEST_PG_URL: url } = await serviceEnv('pg')
  if (!url) throw new Error('the pg service env has no VIDUP_TEST_PG_URL')
  const name = `${tag}_${randomBytes(6).toString('hex')}`
  await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`])
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

export async function s3Settings(tag = 'vidup') {
  const env = await serviceEnv('s3')
  for (const k of ['VIDUP_TEST_S3_ENDPOINT', 'VIDUP_TEST_S3_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (!env[k]) throw new Error(`the s3 service env has no ${k}`)
  }
  return {
    endpoint: env.VIDUP_TEST_S3_ENDPOINT,
    bucket: env.VIDUP_TEST_S3_BUCKET,
    prefix: `${tag}-${randomBytes(6).toString('hex')}`,
    env: {
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      AWS_REGION: env.AWS_REGION ?? 'us-east-1',
    },
  }
}

// `backend`: 'file' (nothing added), 's3', 'postgres' or 's3+postgres'.
export async function backendArgs(backend = 'file', { tag = 'vidup', lockLease = null } = {}) {
  const args = []
  let env = {}
  let s3 = null
  let db = null
  if (backend.includes('s3')) {
    s3 = await s3Settings(tag)
    args.push('--store', `s3://${s3.bucket}/${s3.prefix}`, '--s3-endpoint', s3.endpoint)
    env = { ...env, ...s3.env }
  }
  if (backend.includes('postgres')) {
    db = await freshDatabase(tag)
    args.push('--db', db)
    if (lockLease !== null) args.push('--lock-lease', String(lockLease))
  }
  return { backend, args, env, s3, db }
}

// What the test S3 server holds for one upload: the keys under `<prefix>/<id>` and the multipart
// uploads still open on them, listed with curl (SigV4 by --aws-sigv4) as an operator would.
// `s3` is backendArgs(...).s3.
export async function s3Leftovers(s3, uploadId) {
  const keyPrefix = `${s3.prefix}/${uploadId}`
  const prefix = `prefix=${encodeURIComponent(keyPrefix)}`
  // curl signs the query as written: parameters in name order, as SigV4 wants them.
  const get = async (query) => {
    const url = `${s3.endpoint}/${s3.bucket}?${query}`
    const { stdout } = await run('curl', ['-sS', '--fail-with-body', '--aws-sigv4', `aws:amz:${s3.env.AWS_REGION}:s3`,
      '--user', `${s3.env.AWS_ACCESS_KEY_ID}:${s3.env.AWS_SECRET_ACCESS_KEY}`,
      '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', url])
    return stdout
  }
  const keysOf = (xml) => [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1])
  return {
    objects: keysOf(await get(`list-type=2&${prefix}`)),
    multipartUploads: keysOf(await get(`${prefix}&uploads=`)),
  }
}
