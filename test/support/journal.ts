import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { parseLog } from '../../src/main/core/journal/file-journal'
import type { JournalRecord } from '../../src/main/core/journal/types'

/**
 * The parts each journal record in `stateDir` holds, by uploadId. Every record must load: a kill
 * at any instant may tear a journal's tail but never make it unreadable.
 */
export async function journalParts(stateDir: string): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>()
  const dir = join(stateDir, 'uploads')
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.jsonl')) continue
    const parsed = parseLog(await readFile(join(dir, name), 'utf8'))
    expect(parsed, name).toBeDefined()
    out.set(parsed!.record.uploadId ?? '', new Set(parsed!.record.parts.map((p) => p.n)))
  }
  return out
}

/** Polls the journal (bounded) until at least `n` parts are recorded in it. */
export async function untilJournaled(stateDir: string, n: number, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs
  for (;;) {
    const parts = [...(await journalParts(stateDir).catch(() => new Map())).values()]
    if (parts.reduce((sum, p) => sum + p.size, 0) >= n) return
    if (Date.now() > end) throw new Error(`journal never reached ${n} parts`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A small journal record for unit tests of the journal itself (three 10-byte parts, none done). */
export function journalRecord(id: string, over: Partial<JournalRecord> = {}): JournalRecord {
  return {
    v: 1,
    id,
    source: { path: '/v/a.mp4', size: 30, mtimeMs: 1, fingerprint: 'f' },
    relativeDir: '',
    destination: { id: 's3:x/b', label: 'b' },
    bucket: 'b',
    key: 'videos/u/a.mp4',
    uploadId: 'up-1',
    partSize: 10,
    partCount: 3,
    contentType: 'video/mp4',
    metadata: {},
    options: {},
    status: 'active',
    parts: [],
    createdAt: 1,
    updatedAt: 1,
    ...over,
  }
}
