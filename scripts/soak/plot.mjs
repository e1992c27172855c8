// Renders a soak CSV (t_s,rss_kib,fds,threads,...) to a PNG: three stacked line charts (RSS in
// MiB, open fds, threads) over minutes, as a hand-written SVG screenshotted by headless Chromium
// (playwright-core driving Debian's /usr/bin/chromium, as the browser tests do).
//
//   node scripts/soak/plot.mjs soak.csv docs/soak.png
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const kWidth = 900
const kPanel = 200
const kMargin = { left: 70, right: 20, top: 30, bottom: 40 }

// The smallest of 1, 2, 5 × 10^k that is at least v.
function niceStep(v) {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function panel(rows, y0, key, label, scale, color) {
  const w = kWidth - kMargin.left - kMargin.right
  const tMax = Math.max(...rows.map((r) => r.t)) || 1
  const values = rows.map((r) => r[key] * scale)
  const vStep = niceStep((Math.max(...values) * 1.1) / 4)
  const vMax = vStep * Math.max(1, Math.ceil((Math.max(...values) * 1.1) / vStep))
  const x = (t) => kMargin.left + (t / tMax) * w
  const y = (v) => y0 + kPanel - (v / vMax) * kPanel
  const points = rows.map((r, i) => `${x(r.t).toFixed(1)},${y(values[i]).toFixed(1)}`).join(' ')
  const parts = [`<text x="${kMargin.left}" y="${y0 - 8}" class="title">${label}</text>`]
  for (let v = 0; v <= vMax + 1e-9; v += vStep) {
    parts.push(`<line x1="${kMargin.left}" x2="${kMargin.left + w}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`)
    parts.push(`<text x="${kMargin.left - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${+v.toFixed(1)}</text>`)
  }
  const minutes = tMax / 60
  const step = niceStep(minutes / 6)
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    parts.push(`<text x="${x(m * 60)}" y="${y0 + kPanel + 16}" class="tick" text-anchor="middle">${+m.toFixed(1)}</text>`)
  }
  parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.8"/>`)
  parts.push(`<rect x="${kMargin.left}" y="${y0}" width="${w}" height="${kPanel}" class="frame"/>`)
  return parts.join('\n')
}

export function svgOf(rows, caption) {
  const height = kMargin.top + 3 * (kPanel + 60) + 20
  const panels = [
    panel(rows, kMargin.top + 20, 'rss', 'server RSS (MiB)', 1 / 1024, '#1f77b4'),
    panel(rows, kMargin.top + 20 + (kPanel + 60), 'fds', 'open file descriptors', 1, '#d62728'),
    panel(rows, kMargin.top + 20 + 2 * (kPanel + 60), 'threads', 'threads', 1, '#2ca02c'),
  ]
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${kWidth}" height="${height}" viewBox="0 0 ${kWidth} ${height}">
<style>
  .title { font: bold 14px sans-serif; } .tick { font: 11px sans-serif; fill: #444; }
  .grid { stroke: #ddd; stroke-width: 1; } .frame { fill: none; stroke: #888; }
  .caption { font: 12px sans-serif; fill: #222; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="${kMargin.left}" y="18" class="caption">${caption}</text>
${panels.join('\n')}
<text x="${kWidth / 2}" y="${height - 8}" class="tick" text-anchor="middle">minutes</text>
</svg>`
}

export async function readRows(csvFile) {
  const [header, ...lines] = (await readFile(csvFile, 'utf8')).trim().split('\n')
  const names = header.split(',')
  return lines.map((line) => {
    const cells = line.split(',').map(Number)
    const row = Object.fromEntries(names.map((n, i) => [n, cells[i]]))
    return { t: row.t_s, rss: row.rss_kib, fds: row.fds, threads: row.threads, ops: row.ops, mib: row.mib_received }
  })
}

export async function plot(csvFile, pngFile, summary = null) {
  const rows = await readRows(csvFile)
  const last = rows[rows.length - 1]
  const caption = `vidup soak: ${(last.t / 60).toFixed(1)} min, ${last.ops} operations, ` +
    `${(last.mib / 1024).toFixed(1)} GiB received${summary ? `, ${summary.workers} clients` : ''}`
  const svg = svgOf(rows, caption)
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
  try {
    const page = await browser.newPage({ viewport: { width: kWidth, height: 10 } })
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`)
    await page.locator('svg').screenshot({ path: pngFile })
  } finally {
    await browser.close()
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [csvFile, pngFile] = process.argv.slice(2)
  if (!csvFile || !pngFile) {
    console.error('usage: node scripts/soak/plot.mjs soak.csv out.png')
    process.exit(2)
  }
  await plot(path.resolve(csvFile), path.resolve(pngFile))
  console.log(pngFile)
}
