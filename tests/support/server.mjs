// Starts a real `vidup serve` for the Node tests (interop/, e2e/), on a free loopback port and a
// temporary data directory.
//
//   const server = await startServer({ args, env, dataDir, auth, backend })
//   server.url       http://127.0.0.1:PORT
//   server.backend   'file' (bytes under dataDir/uploads), or 's3+postgres' etc. (backends.mjs);
//                    the default is $VIDUP_TEST_BACKEND, else 'file', so one test file can be
//                    registered once per backend
//   server.endpoint  http://127.0.0.1:PORT/files/
//   server.dataDir   the data directory (a new temporary one unless `dataDir` was given)
//   server.proc      the ChildProcess (server.proc.pid is the server's pid)
//   await server.stop({ expectCode = 0 })  SIGTERM, wait for the exit, assert its code
//   await server.kill()                    SIGKILL, wait for the exit
//   server.output()  what the server printed so far (stdout + stderr), for failure messages
//
// The binary is $VIDUP_BIN (CTest sets it to the vidup target's file). Variables VIDUP_* other
// than those in `env` are not passed on, so the test's own VIDUP_BIN never reaches the server.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import assert from 'node:assert/strict'

import { backendArgs } from './backends.mjs'

const kStartTimeoutMs = 10_000
const kStopTimeoutMs = 30_000
const kOutputLimit = 64 * 1024

export function vidupBin() {
  const bin = process.env.VIDUP_BIN
  if (!bin) {
    throw new Error('VIDUP_BIN is not set: run through CTest, or set it to the path of build/vidup')
  }
  return bin
}

// A fresh temporary directory; VIDUP_TEST_TMPDIR overrides the parent (default: os.tmpdir()).
export function makeTempDir(prefix) {
  return mkdtemp(path.join(process.env.VIDUP_TEST_TMPDIR || tmpdir(), prefix))
}

export function removeDir(dir) {
  return rm(dir, { recursive: true, force: true })
}

function serverEnv(extra) {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VIDUP_')) env[name] = value
  }
  return { ...env, ...extra }
}

function exitOf(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode })
  }
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function readPort(portFile) {
  try {
    const text = await readFile(portFile, 'utf8')
    if (!/^\d+\s*$/.test(text)) return null
    const port = Number.parseInt(text, 10)
    return port > 0 && port < 65536 ? port : null
  } catch (err) {
    if (err.code === 'ENOENT') return null
    throw err
  }
}

// `auth: false` (the default) adds --no-auth: the protocol tests create anonymous uploads.
// Platform tests pass `auth: true` and bring their own keys.
export async function startServer({
  args = [],
  env = {},
  dataDir = null,
  auth = false,
  backend = process.env.VIDUP_TEST_BACKEND || 'file',
} = {}) {
  const runDir = await makeTempDir('vidup-run-')
  const portFile = path.join(runDir, 'port')
  const data = dataDir ?? (await makeTempDir('vidup-data-'))
  const stores = await backendArgs(backend)
  const argv = ['serve', '--listen', '127.0.0.1:0', '--data', data, '--port-file', portFile,
    ...(auth ? [] : ['--no-auth']), ...stores.args, ...args]
  const proc = spawn(vidupBin(), argv, { env: serverEnv({ ...stores.env, ...env }), stdio: ['ignore', 'pipe', 'pipe'] })

  let output = ''
  const collect = (chunk) => {
    output += chunk.toString('utf8')
    if (output.length > kOutputLimit) output = output.slice(-kOutputLimit)
  }
  proc.stdout.on('data', collect)
  proc.stderr.on('data', collect)
  let spawnError = null
  proc.once('error', (err) => {
    spawnError = err
  })
  const exited = exitOf(proc)

  const deadline = Date.now() + kStartTimeoutMs
  let port = null
  while (port === null) {
    if (spawnError) throw new Error(`cannot start ${vidupBin()}: ${spawnError.message}`)
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const { code, signal } = await exited
      throw new Error(`vidup exited (code ${code}, signal ${signal}) before listening:\n${output}`)
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`vidup wrote no port to ${portFile} within ${kStartTimeoutMs} ms:\n${output}`)
    }
    port = await readPort(portFile)
    if (port === null) await sleep(20)
  }

  const url = `http://127.0.0.1:${port}`
  return {
    url,
    endpoint: `${url}/files/`,
    port,
    dataDir: data,
    backend,
    stores,
    proc,
    output: () => output,
    exited,
    async stop({ expectCode = 0, timeoutMs = kStopTimeoutMs } = {}) {
      proc.kill('SIGTERM')
      const result = await withTimeout(exited, timeoutMs, 'vidup after SIGTERM')
      await removeDir(runDir)
      if (expectCode !== null) {
        assert.deepEqual(result, { code: expectCode, signal: null }, `vidup exit after SIGTERM; output:\n${output}`)
      }
      return result
    },
    async kill() {
      proc.kill('SIGKILL')
      const result = await withTimeout(exited, kStopTimeoutMs, 'vidup after SIGKILL')
      await removeDir(runDir)
      return result
    },
  }
}
