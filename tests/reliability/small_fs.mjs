// A small filesystem for the disk-full test, made without touching the host's mounts: the test
// file runs itself again inside a new mount namespace where a size-limited filesystem is mounted
// on a temporary directory; the namespace (and the mount) ends with that process.
//
//   if (!smallFsDir()) test('...', () => runInSmallFs(file, size))  // outside: re-run inside
//   else { ...the real tests, on smallFsDir()... }
//
// Tried in order, the first that can mount wins (VIDUP_SMALL_FS_HOW says which inside):
//   1. userns-tmpfs  unshare --user --map-root-user --mount: no privileges needed where
//                    unprivileged user namespaces are allowed;
//   2. mountns-tmpfs unshare --mount (root, e.g. CI's container);
//   3. mountns-loop  unshare --mount and an ext4 image on a loop device (root, no tmpfs).
// None working is an error: the test fails, it does not skip.
import { spawn } from 'node:child_process'
import { statfs } from 'node:fs/promises'
import assert from 'node:assert/strict'

import { makeTempDir, removeDir } from '../support/server.mjs'

const kCannotMount = 97

export const smallFsDir = () => process.env.VIDUP_SMALL_FS_DIR || null
export const smallFsHow = () => process.env.VIDUP_SMALL_FS_HOW || null

export async function freeBytes(dir) {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

export async function totalBytes(dir) {
  const s = await statfs(dir)
  return s.blocks * s.bsize
}

function attempts(size) {
  const run = ` || exit ${kCannotMount}; shift; exec "$@"`
  const tmpfs = `mount -t tmpfs -o size=${size},mode=0777 tmpfs "$0"${run}`
  const loop = `img="$1/fs.img"; { truncate -s ${size} "$img" && mkfs.ext4 -q -F -m 0 "$img" && ` +
    `mount -o loop "$img" "$0" && chmod 0777 "$0"; }${run}`
  const ns = ['--mount', '--propagation', 'private']
  return [
    { how: 'userns-tmpfs', argv: ['unshare', '--user', '--map-root-user', ...ns, 'sh', '-c', tmpfs] },
    { how: 'mountns-tmpfs', argv: ['unshare', ...ns, 'sh', '-c', tmpfs] },
    { how: 'mountns-loop', argv: ['unshare', ...ns, 'sh', '-c', loop] },
  ]
}

function run(argv, env) {
  return new Promise((resolve) => {
    const proc = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    proc.stdout.on('data', (c) => {
      output += c
      process.stdout.write(c)
    })
    proc.stderr.on('data', (c) => {
      output += c
      process.stderr.write(c)
    })
    proc.once('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}` }))
    proc.once('close', (code, signal) => resolve({ code: code ?? signal, output }))
  })
}

// Runs `node --test file` (spec reporter: its lines show as the outer test's output) inside a namespace with a `size`-byte filesystem at
// $VIDUP_SMALL_FS_DIR; asserts that it passed.
export async function runInSmallFs(file, size) {
  const mountpoint = await makeTempDir('vidup-smallfs-')
  const scratch = await makeTempDir('vidup-smallfs-img-')
  const failures = []
  try {
    for (const { how, argv } of attempts(size)) {
      // Without NODE_TEST_CONTEXT, or node --test in here would refuse to run (recursion guard).
      const { NODE_TEST_CONTEXT, ...outer } = process.env
      const env = { ...outer, VIDUP_SMALL_FS_DIR: mountpoint, VIDUP_SMALL_FS_HOW: how }
      const { code, output } = await run([...argv, mountpoint, scratch, process.execPath, '--test', '--test-reporter=spec', file], env)
      if (code === kCannotMount || code === -1) {
        failures.push(`${how}: ${output.trim().split('\n').slice(-3).join(' | ')}`)
        continue
      }
      assert.equal(code, 0, `the test inside the namespace (${how}) failed; its output is above`)
      const passed = Number(/^\S* ?pass (\d+)$/m.exec(output)?.[1] ?? 0)
      assert.ok(passed > 0 && /^\S* ?fail 0$/m.test(output), `the run inside the namespace (${how}) passed no test`)
      return how
    }
  } finally {
    await removeDir(mountpoint)
    await removeDir(scratch)
  }
  assert.fail(`cannot make a ${size}-byte filesystem in a private mount namespace:\n${failures.join('\n')}`)
}
