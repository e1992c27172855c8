// The crash loop on the scale-out backends (issue 7.1 on issue 5's stores): the same clients,
// server kills and `vidup upload` kills as crash_loop.test.mjs, with the bytes in S3 (radosgw)
// and the records and locks in PostgreSQL, both started by the CTest fixtures. What differs in
// the checks is in crash_loop.mjs (`backend`). VIDUP_CRASH_* variables as in crash_loop.test.mjs.
import { test } from 'node:test'

import { crashLoop, optionsFromEnv } from './crash_loop.mjs'

const { timeoutMs, ...options } = optionsFromEnv({ serverKills: 8, clientKills: 4, timeoutS: 240 })

test(`crash loop on S3 + PostgreSQL: seed ${options.seed}, ${options.serverKills} server kills, ${options.clientKills} client kills`, { timeout: timeoutMs }, async () => {
  await crashLoop({ ...options, backend: 's3+postgres' })
})
