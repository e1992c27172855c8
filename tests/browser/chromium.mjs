// Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by playwright-core
// (never a browser download). Playwright gives every launch a new empty profile directory.
//
//   const browser = await launchChromium()
//   const log = recordRequests(page)       // log.requests: [{phase, method, url, headers, status}]; set log.phase
//   await delayPatches(page, prefix, ms)   // hold each PATCH under `prefix` for `ms` before sending it
import { access } from 'node:fs/promises'
import { chromium } from 'playwright-core'

export const kChromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

// Without the background-networking flags Chromium keeps dialling out, which this closed
// network refuses; --no-sandbox because the tests may run as root.
export const kChromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export async function launchChromium() {
  try {
    await access(kChromiumPath)
  } catch {
    throw new Error(`${kChromiumPath} not found: install Debian's chromium (scripts/setup does), or set CHROMIUM_PATH`)
  }
  return chromium.launch({ executablePath: kChromiumPath, headless: true, args: kChromiumArgs })
}

export function recordRequests(page) {
  const log = { phase: 1, requests: [] }
  const records = new Map()
  page.on('request', (request) => {
    const record = { phase: log.phase, method: request.method(), url: request.url(), headers: request.headers(), status: null }
    records.set(request, record)
    log.requests.push(record)
  })
  page.on('response', (response) => {
    const record = records.get(response.request())
    if (record) record.status = response.status()
  })
  page.on('requestfailed', (request) => {
    const record = records.get(request)
    if (record) record.status = `failed: ${request.failure()?.errorText}`
  })
  return log
}

// Collects what the page printed and threw, for failure messages.
export function collectConsole(page) {
  const lines = []
  page.on('console', (msg) => lines.push(`console.${msg.type()}: ${msg.text()}`))
  page.on('pageerror', (err) => lines.push(`pageerror: ${err.stack || err}`))
  return () => lines.join('\n')
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Slows uploads down so that a reload lands mid-upload: each PATCH to a URL under `prefix`
// waits `delayMs` before it is sent. A PATCH cancelled meanwhile (the page reloaded) is dropped.
export async function delayPatches(page, prefix, delayMs) {
  await page.route(
    (url) => url.href.startsWith(prefix),
    async (route) => {
      if (route.request().method() === 'PATCH') await sleep(delayMs)
      try {
        await route.continue()
      } catch {
        // the request went away with the page it belonged to
      }
    },
  )
}

export const patchesOf = (log, phase) => log.requests.filter((r) => r.phase === phase && r.method === 'PATCH')
