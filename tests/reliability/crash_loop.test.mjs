// The crash loop, short version for CI (issue 7.1): 10 server kills and 5 `vidup upload` kills
// while tus-js-client and `vidup upload` send files of 0 B to 24 MiB (plain, chunked, checksummed,
// concatenated); what is checked is in crash_loop.mjs. The seed is random unless
// VIDUP_CRASH_SEED is set, and printed first; a failure keeps the data directory and says where.
// The long version (>= 50 server kills, files up to 64 MiB) is scripts/crash-loop, which sets the
// VIDUP_CRASH_* variables below; results in docs/reliability.md.
import { test } from 'node:test'

import { KiB, MiB } from '../support/bytes.mjs'
import { crashLoop } from './crash_loop.mjs'

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const seed = env('VIDUP_CRASH_SEED', Math.floor(Math.random() * 2 ** 31))
const serverKills = env('VIDUP_CRASH_SERVER_KILLS', 10)
const clientKills = env('VIDUP_CRASH_CLIENT_KILLS', 5)
const maxSize = env('VIDUP_CRASH_MAX_MIB', 24) * MiB
const throttle = env('VIDUP_CRASH_THROTTLE_MIB', 16) * MiB
const sizes = [0, 1, 4 * KiB + 3, 300 * KiB, 3 * MiB + 5, 9 * MiB, 24 * MiB, 64 * MiB].filter((s) => s <= maxSize)
const timeoutMs = env('VIDUP_CRASH_TIMEOUT_S', 170) * 1000

test(`crash loop: seed ${seed}, ${serverKills} server kills, ${clientKills} client kills`, { timeout: timeoutMs }, async () => {
  await crashLoop({
    seed,
    serverKills,
    clientKills,
    sizes,
    gapMs: [env('VIDUP_CRASH_GAP_MIN_MS', 1500), env('VIDUP_CRASH_GAP_MAX_MS', 4500)],
    throttleBytesPerSec: throttle,
    jsSlots: env('VIDUP_CRASH_JS', 3),
    cliSlots: env('VIDUP_CRASH_CLI', 3),
  })
})
