import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileJournal, parseLog } from '../../src/main/core/journal/file-journal'
import { journalRecord } from '../support/journal'

const record = (id: string) => journalRecord(id)

describe('FileJournal', () => {
  let dir: string
  let journal: FileJournal
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'))
    journal = new FileJournal(dir)
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('appends parts and status changes and reads them back', async () => {
    await journal.write(record('a'))
    await journal.appendPart('a', { n: 2, etag: 'e2', md5: 'e2', size: 10 })
    await journal.appendPart('a', { n: 1, etag: 'e1', md5: 'e1', size: 10 })
    await journal.setStatus('a', { status: 'paused' })
    const loaded = await journal.load('a')
    expect(loaded!.torn).toBe(false)
    expect(loaded!.record.parts.map((p) => p.n)).toEqual([1, 2])
    expect(loaded!.record.status).toBe('paused')
  })

  it('ignores a torn tail left by a kill in the middle of an append', async () => {
    await journal.write(record('a'))
    await journal.appendPart('a', { n: 1, etag: 'e1', md5: 'e1', size: 10 })
    const path = join(dir, 'uploads', 'a.jsonl')
    const full = JSON.stringify({ t: 'part', n: 2, etag: 'e2', md5: 'e2', size: 10 })
    // Every prefix of the next line is what a kill -9 can leave behind.
    for (let cut = 1; cut < full.length; cut++) {
      const base = (await readFile(path, 'utf8')).split('\n').slice(0, 2).join('\n') + '\n'
      await writeFile(path, base + full.slice(0, cut))
      const loaded = await journal.load('a')
      expect(loaded, `cut at ${cut}`).toBeDefined()
      expect(loaded!.record.parts.map((p) => p.n)).toEqual([1])
      expect(loaded!.torn).toBe(true)
    }
  })

  it('a rewrite compacts the torn tail so later appends are read again', async () => {
    await journal.write(record('a'))
    await appendFile(join(dir, 'uploads', 'a.jsonl'), '{"t":"part","n":1,"et')
    const { record: r } = (await journal.load('a'))!
    await journal.write(r)
    await journal.appendPart('a', { n: 3, etag: 'e3', md5: 'e3', size: 10 })
    expect((await journal.load('a'))!.record.parts.map((p) => p.n)).toEqual([3])
  })

  it('refuses a log without its record line', () => {
    expect(parseLog('{"t":"part","n":1,"etag":"x","md5":"x","size":1}\n')).toBeUndefined()
    expect(parseLog('')).toBeUndefined()
  })

  it('locks: a second holder in this process is refused until the first releases', async () => {
    const release = await journal.lock('a')
    await expect(journal.lock('a')).rejects.toMatchObject({ code: 'Locked' })
    await release()
    const again = await journal.lock('a')
    await again()
  })

  it('locks: a live other process holds the lock; a dead one leaves a stale lock that is taken over', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    await new Promise((r) => child.once('spawn', r))
    const lockPath = join(dir, 'uploads', 'b.lock')
    await journal.write(record('b'))
    const { hostname } = await import('node:os')
    await writeFile(lockPath, JSON.stringify({ pid: child.pid, host: hostname(), at: Date.now() }))
    await expect(journal.lock('b')).rejects.toThrow(new RegExp(`pid ${child.pid}`))
    expect(await journal.lockedBy('b')).toBe(child.pid)
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    const release = await journal.lock('b')
    expect(await journal.lockedBy('b')).toBeUndefined()
    await release()
  })

  it('keeps history entries and skips a torn last line', async () => {
    const entry = {
      id: 'a',
      path: '/v/a.mp4',
      size: 1,
      fingerprint: 'f',
      destinationId: 'd',
      destinationLabel: 'l',
      bucket: 'b',
      key: 'k',
      completedAt: 5,
    }
    await journal.addHistory(entry)
    await appendFile(join(dir, 'history.jsonl'), '{"id":"b","pa')
    expect(await journal.history()).toEqual([entry])
  })

  it('a later history line for the same upload completes it (the poster comes after)', async () => {
    const base = {
      path: '/v/a.mp4',
      size: 1,
      fingerprint: 'f',
      destinationId: 'd',
      destinationLabel: 'l',
      bucket: 'b',
      completedAt: 5,
    }
    await journal.addHistory({ ...base, id: 'a', key: 'videos/a.mp4' })
    await journal.addHistory({ ...base, id: 'b', key: 'videos/b.mp4' })
    await journal.addHistory({
      ...base,
      id: 'a',
      key: 'videos/a.mp4',
      thumbnailKey: 'videos/a.jpg',
    })
    const h = await journal.history()
    expect(h.map((x) => x.id)).toEqual(['a', 'b'])
    expect(h[0]!.thumbnailKey).toBe('videos/a.jpg')
  })
})
