// Seekable pseudo-random sources for the reliability tests: AES-128-CTR over zeros with a key from
// the seed, so any byte range of a file of any size is regenerated on demand (the counter block
// of byte b is b / 16) and a test compares what a server stored with what the client read,
// without keeping gigabytes in memory.
//
//   const src = await makeSource(dir, 'name.bin', 'seed', size)   // writes the file
//   src.file, src.size, src.sha256
//   src.range(start, length)            Buffer of the source's bytes [start, start + length)
//   await src.matchesFile(file, start, length)   true when file[0, length) == source[start, ...)
import { createCipheriv, createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { once } from 'node:events'

const kMiB = 1024 * 1024
const kZeros = Buffer.alloc(kMiB + 16)

function cipherAt(key, start) {
  const iv = Buffer.alloc(16)
  let block = BigInt(Math.floor(start / 16))
  for (let i = 15; i >= 0 && block > 0n; i--) {
    iv[i] = Number(block & 0xffn)
    block >>= 8n
  }
  const c = createCipheriv('aes-128-ctr', key, iv)
  const skip = start % 16
  if (skip) c.update(kZeros.subarray(0, skip))
  return c
}

export function keyOf(seed) {
  return createHash('sha256').update(`reliability:${seed}`).digest().subarray(0, 16)
}

// The bytes [start, start + length) in pieces of at most 1 MiB.
function* pieces(key, start, length) {
  const c = cipherAt(key, start)
  for (let at = 0; at < length; at += kMiB) {
    yield c.update(kZeros.subarray(0, Math.min(kMiB, length - at)))
  }
}

export function sourceRange(seed, start, length) {
  const out = Buffer.allocUnsafe(length)
  let at = 0
  for (const piece of pieces(keyOf(seed), start, length)) {
    piece.copy(out, at)
    at += piece.length
  }
  return out
}

export async function makeSource(dir, name, seed, size) {
  const key = keyOf(seed)
  const file = path.join(dir, name)
  const hash = createHash('sha256')
  const out = createWriteStream(file)
  for (const p of pieces(key, 0, size)) {
    hash.update(p)
    if (!out.write(p)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return {
    seed,
    file,
    size,
    sha256: hash.digest('hex'),
    range: (start, length) => sourceRange(seed, start, length),
    // file[0, length) equals source[start, start + length)? Reads 1 MiB at a time.
    async matchesFile(stored, start, length) {
      if (length === 0) return true
      const fh = await open(stored, 'r')
      try {
        const buf = Buffer.allocUnsafe(kMiB)
        const c = cipherAt(key, start)
        for (let at = 0; at < length; at += kMiB) {
          const n = Math.min(kMiB, length - at)
          const { bytesRead } = await fh.read(buf, 0, n, at)
          if (bytesRead !== n) return false
          if (!buf.subarray(0, n).equals(c.update(kZeros.subarray(0, n)))) return false
        }
        return true
      } finally {
        await fh.close()
      }
    },
  }
}
