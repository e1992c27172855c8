// What a vidup data directory holds, read from outside the server: the upload records in
// <data>/vidup.db (through the sqlite3 command-line shell, Debian package `sqlite3`) and the files
// in <data>/uploads/. A test reads them while the server runs (WAL lets a second reader in).
//
//   await uploadRecords(dataDir)  [{id, size, offset, concat, state}]  concat: 0 none, 1 partial, 2 final
//   await concatParts(dataDir)    Map final id -> [partial ids in order]
//   await integrityCheck(dataDir) 'ok' or SQLite's complaint
//   await uploadFiles(dataDir)    names in <data>/uploads/
//   storageFindings(records, files)  human-readable problems: a live record without its data
//                                 file, a data file without a live record, a stage marker left
//
//   recordsOf({dataDir, db})      the same three readers over SQLite (db null) or PostgreSQL (db a
//                                 postgres:// URL, through psql): {uploadRecords(), concatParts(),
//                                 integrityCheck()} without arguments
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import path from 'node:path'

export const kLiveStates = new Set(['active', 'finished'])

function sqlite(dataDir, sql) {
  const db = path.join(dataDir, 'vidup.db')
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-json', '-bail', '-cmd', '.timeout 5000', db, sql], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`sqlite3 ${db} "${sql}": ${err.message}\n${stderr}`))
        return
      }
      resolve(stdout.trim() === '' ? [] : JSON.parse(stdout))
    })
  })
}

// The same queries for both databases (one schema); `query(sql)` returns the rows as objects.
const kRecordsSql = 'SELECT id, size, "offset", concat, state FROM uploads'
const kPartsSql = 'SELECT final_id, idx, partial_id FROM concat_parts ORDER BY final_id, idx'

async function recordsFrom(query) {
  const rows = await query(kRecordsSql)
  return rows.map((r) => ({ ...r, size: r.size === null ? null : Number(r.size), offset: Number(r.offset) }))
}

async function partsFrom(query) {
  const out = new Map()
  for (const r of await query(kPartsSql)) {
    if (!out.has(r.final_id)) out.set(r.final_id, [])
    out.get(r.final_id).push(r.partial_id)
  }
  return out
}

export const uploadRecords = (dataDir) => recordsFrom((sql) => sqlite(dataDir, sql))
export const concatParts = (dataDir) => partsFrom((sql) => sqlite(dataDir, sql))

export async function integrityCheck(dataDir) {
  const rows = await sqlite(dataDir, 'PRAGMA integrity_check')
  return rows.map((r) => Object.values(r)[0]).join('; ')
}

export async function uploadFiles(dataDir) {
  try {
    return await readdir(path.join(dataDir, 'uploads'))
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
}

export function storageFindings(records, files) {
  const findings = []
  const present = new Set(files)
  const live = new Set()
  for (const r of records) {
    if (kLiveStates.has(r.state)) {
      live.add(r.id)
      if (!present.has(r.id)) findings.push(`record ${r.id} (${r.state}) has no data file`)
    } else if (present.has(r.id)) {
      findings.push(`record ${r.id} is ${r.state} but its data file is still there`)
    }
  }
  for (const f of files) {
    if (f.endsWith('.stage')) findings.push(`stage marker ${f} left after recovery`)
    else if (!live.has(f)) findings.push(`data file ${f} has no live record`)
  }
  return findings
}

function psql(db, sql) {
  const wrapped = `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql}) t`
  return new Promise((resolve, reject) => {
    execFile('psql', [db, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', wrapped], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`psql "${sql}": ${err.message}\n${stderr}`))
        return
      }
      resolve(JSON.parse(stdout))
    })
  })
}

export function recordsOf({ dataDir, db = null }) {
  if (!db) {
    return {
      uploadRecords: () => uploadRecords(dataDir),
      concatParts: () => concatParts(dataDir),
      integrityCheck: () => integrityCheck(dataDir),
    }
  }
  const query = (sql) => psql(db, sql)
  return {
    uploadRecords: () => recordsFrom(query),
    concatParts: () => partsFrom(query),
    integrityCheck: async () => 'ok', // PostgreSQL checks its own pages; nothing to ask here
  }
}
