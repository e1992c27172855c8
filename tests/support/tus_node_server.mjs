// @tus/server + @tus/file-store (the reference Node tus server, from npm) in a child Node
// process, for testing clients against a tus server that is not vidup.
//
//   const tus = await startTusNodeServer()      // or ({ dir }) to reuse a directory
//   tus.endpoint   http://127.0.0.1:PORT/files  (the creation URL; uploads are /files/<id>)
//   tus.dir        the directory of uploads: tus.fileOf(id) holds an upload's bytes
//   tus.output()   what the server printed so far
//   await tus.stop()   SIGTERM, wait for the exit, remove the directory (unless keepDir)
//
// Plain tus: creation, creation-with-upload, creation-defer-length, termination, expiration.
// No concatenation and no checksum extension.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { makeTempDir, removeDir } from './server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const kMain = path.join(here, 'tus_node_server_main.mjs')
const kStartTimeoutMs = 15_000
const kStopTimeoutMs = 10_000
const kOutputLimit = 64 * 1024

export async function startTusNodeServer({ dir = null, port = 0, keepDir = false } = {}) {
  const uploads = dir ?? (await makeTempDir('vidup-tusnode-'))
  const proc = spawn(process.execPath, [kMain, uploads, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBUG: '' },
  })
  let output = ''
  const collect = (chunk) => {
    output += chunk.toString('utf8')
    if (output.length > kOutputLimit) output = output.slice(-kOutputLimit)
  }
  proc.stdout.on('data', collect)
  proc.stderr.on('data', collect)
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))

  const boundPort = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`@tus/server printed no port within ${kStartTimeoutMs} ms:\n${output}`))
    }, kStartTimeoutMs)
    const check = () => {
      const match = output.match(/listening on (\d+)/)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    proc.stdout.on('data', check)
    proc.once('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot start ${kMain}: ${err.message}`))
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`@tus/server exited (code ${code}, signal ${signal}) before listening:\n${output}`))
    })
  })

  const url = `http://127.0.0.1:${boundPort}`
  return {
    url,
    port: boundPort,
    endpoint: `${url}/files`,
    dir: uploads,
    proc,
    output: () => output,
    fileOf: (id) => path.join(uploads, id),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      let timer
      const result = await Promise.race([
        exited,
        new Promise((resolve) => {
          timer = setTimeout(() => {
            proc.kill('SIGKILL')
            resolve(exited)
          }, kStopTimeoutMs)
        }),
      ]).finally(() => clearTimeout(timer))
      if (!keepDir && !dir) await removeDir(uploads)
      return result
    },
  }
}
