// The S3 peer for bench/s3: @tus/server with @tus/s3-store (npm) on 127.0.0.1, against the same
// S3 endpoint and bucket as vidup.
//
//   node bench/tus_s3_server_main.mjs ENDPOINT BUCKET PREFIX [PORT]
//
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, region from AWS_REGION. Prints
// `listening on PORT` once it accepts connections; SIGTERM/SIGINT stop it.
import { Server } from '@tus/server'
import { S3Store } from '@tus/s3-store'

const [endpoint, bucket, prefix, portArg = '0'] = process.argv.slice(2)
if (!endpoint || !bucket || prefix === undefined) {
  process.stderr.write('usage: node bench/tus_s3_server_main.mjs ENDPOINT BUCKET PREFIX [PORT]\n')
  process.exit(2)
}

const store = new S3Store({
  // The same part size as vidup's default.
  partSize: 8 * 1024 * 1024,
  s3ClientConfig: {
    bucket,
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    // The SDK's default CRC32 trailers (aws-chunked uploads) are newer than Ceph 16's RGW.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    },
  },
})
// The loadgen DELETEs each upload after timing it (untimed). @tus/s3-store 2.0.7 answers 404
// when the upload is already complete (its AbortMultipartUpload fails): delete the objects
// anyway and answer 204, so the untimed clean-up does not fail the run.
const remove = store.remove.bind(store)
store.remove = async (id) => {
  try {
    await remove(id)
  } catch {
    await store.client.deleteObjects({
      Bucket: bucket,
      Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }] },
    })
  }
}

const tus = new Server({
  path: '/files',
  relativeLocation: false,
  // Keys under PREFIX/, as vidup's --store s3://BUCKET/PREFIX.
  namingFunction: () => `${prefix}/${crypto.randomUUID().replaceAll('-', '')}`,
  generateUrl: (req, { proto, host, path, id }) => `${proto}://${host}${path}/${Buffer.from(id).toString('base64url')}`,
  getFileIdFromRequest: (req, lastPath) => (lastPath ? Buffer.from(lastPath, 'base64url').toString() : undefined),
  datastore: store,
})

const server = tus.listen({ host: '127.0.0.1', port: Number(portArg) }, () => {
  process.stdout.write(`listening on ${server.address().port}\n`)
})
server.on('error', (err) => {
  process.stderr.write(`tus_s3_server_main: ${err.message}\n`)
  process.exit(1)
})
const shutdown = () => {
  server.close(() => process.exit(0))
  server.closeAllConnections?.()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
