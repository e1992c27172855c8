// The crash loop on the scale-out backends (issue 7.1 on issue 5's stores): the same clients,
// server kills and `vidup upload` kills as crash_loop.test.mjs, with the bytes in S3 (radosgw)
// and the records and locks in PostgreSQL, both started by the CTest fixtures. What differs in
// the checks is in crash_loop.mjs (`backend`). VIDUP_CRASH_* variables as in crash_loop.test.mjs.
import { test } from 'node:test'

import { KiB, MiB } from '../support/bytes.mjs'
import { crashLoop } from './crash_loop.mjs'

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const seed = env('VIDUP_CRASH_SEED', Math.floor(Math.random() * 2 ** 31))
const serverKills = env('VIDUP_CRASH_SERVER_KILLS', 8)
const clientKills = env('VIDUP_CRASH_CLIENT_KILLS', 4)
const maxSize = env('VIDUP_CRASH_MAX_MIB', 24) * MiB
const throttle = env('VIDUP_CRASH_THROTTLE_MIB', 16) * MiB
const sizes = [0, 1, 4 * KiB + 3, 300 * KiB, 3 * MiB + 5, 9 * MiB, 24 * MiB, 64 * MiB].filter((s) => s <= maxSize)
const timeoutMs = env('VIDUP_CRASH_TIMEOUT_S', 240) * 1000

test(`crash loop on S3 + PostgreSQL: seed ${seed}, ${serverKills} server kills, ${clientKills} client kills`, { timeout: timeoutMs }, async () => {
  await crashLoop({
    seed,
    serverKills,
    clientKills,
    sizes,
    gapMs: [env('VIDUP_CRASH_GAP_MIN_MS', 1500), env('VIDUP_CRASH_GAP_MAX_MS', 4500)],
    throttleBytesPerSec: throttle,
    jsSlots: env('VIDUP_CRASH_JS', 3),
    cliSlots: env('VIDUP_CRASH_CLI', 3),
    backend: 's3+postgres',
  })
})
