// Runs @tus/server with @tus/file-store (the reference Node tus server) on 127.0.0.1, for the
// client tests (tests/client_e2e). Spawned by tus_node_server.mjs:
//
//   node tus_node_server_main.mjs DIR [PORT]
//
// Stores uploads in DIR (each upload's bytes in DIR/<id>, its info in DIR/<id>.json), serves
// the tus path /files, listens on PORT (default 0: any free port) and prints one line
// `listening on PORT` once it accepts connections. SIGTERM/SIGINT close it and exit 0.
// Extensions: creation, creation-with-upload, creation-defer-length, termination, expiration
// (no concatenation, no checksum).
import { Server } from '@tus/server'
import { FileStore } from '@tus/file-store'
import { mkdirSync } from 'node:fs'

const [dir, portArg = '0'] = process.argv.slice(2)
if (!dir) {
  process.stderr.write('usage: node tus_node_server_main.mjs DIR [PORT]\n')
  process.exit(2)
}
mkdirSync(dir, { recursive: true })

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: dir }),
  // Absolute Location on 127.0.0.1 (the Host the client used), never a guessed host.
  relativeLocation: false,
})

const server = tus.listen({ host: '127.0.0.1', port: Number(portArg) }, () => {
  process.stdout.write(`listening on ${server.address().port}\n`)
})
server.on('error', (err) => {
  process.stderr.write(`tus_node_server_main: ${err.message}\n`)
  process.exit(1)
})

function shutdown() {
  server.close(() => process.exit(0))
  server.closeAllConnections?.()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
