// The crash loop, short version for CI (issue 7.1): 10 server kills and 5 `vidup upload` kills
// while tus-js-client and `vidup upload` send files of 0 B to 24 MiB (plain, chunked, checksummed,
// concatenated); what is checked is in crash_loop.mjs. The seed is random unless
// VIDUP_CRASH_SEED is set, and printed first; a failure keeps the data directory and says where.
// The long version (>= 50 server kills, files up to 64 MiB) is scripts/crash-loop, which sets the
// VIDUP_CRASH_* variables (crash_loop.mjs optionsFromEnv); results in docs/reliability.md.
import { test } from 'node:test'

import { crashLoop, optionsFromEnv } from './crash_loop.mjs'

const { timeoutMs, ...options } = optionsFromEnv({ serverKills: 10, clientKills: 5 })

test(`crash loop: seed ${options.seed}, ${options.serverKills} server kills, ${options.clientKills} client kills`, { timeout: timeoutMs }, async () => {
  await crashLoop(options)
})
