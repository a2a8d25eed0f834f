/**
 * The journal on a disk that fails: full (ENOSPC), read-only (EROFS), not ours (EACCES). The real
 * thing is tested where `mount` works (bad-inputs.test.ts); here a file system that fails on cue
 * (an injected JournalFs over the real one) runs everywhere. Each failure reads as plain words
 * naming the state folder, and the journal still loads afterwards with what it held before.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import { FileJournal, stateError } from '../../src/main/core/journal/file-journal'
import { nodeJournalFs, type JournalFs } from '../../src/main/core/journal/journal-fs'
import { journalRecord } from '../support/journal'

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code })

describe('stateError: the state folder’s failures in words', () => {
  it.each([
    [
      'ENOSPC',
      'DiskFull',
      /\(\/st\) is full\. Free some space, then retry: what was already uploaded is kept\./,
    ],
    ['EDQUOT', 'DiskFull', /is full\. Free some space/],
    ['EROFS', 'StateReadOnly', /cannot save upload progress in \/st: that disk is read-only/],
    ['EACCES', 'StateReadOnly', /not allowed to save upload progress in \/st\. Fix that folder/],
    ['EPERM', 'StateReadOnly', /not allowed to save upload progress/],
    ['ENOTDIR', 'StateNotAFolder', /something other than a folder is in the way/],
    ['EEXIST', 'StateNotAFolder', /something other than a folder is in the way/],
  ])('%s → %s', (code, ours, message) => {
    const cause = errno(code)
    const e = stateError(cause, '/st') as UploadError
    expect(e).toBeInstanceOf(UploadError)
    expect(e).toMatchObject({ code: ours, retryable: false, operation: 'journal', cause })
    expect(e.message).toMatch(message)
  })

  it('anything else is passed on as it is (a bug, not the disk)', () => {
    const e = errno('EIO')
    expect(stateError(e, '/st')).toBe(e)
    const plain = new Error('x')
    expect(stateError(plain, '/st')).toBe(plain)
  })
})

type Op = 'mkdir' | 'open' | 'write' | 'sync' | 'rename' | 'link' | 'readdir' | 'unlink'

/**
 * The real file system, except that the next calls of `op` on a path matching `match` fail with
 * `code`. A failing write first writes half its data, as a disk filling up mid-write does.
 */
function failingFs() {
  let rule: { op: Op; code: string; match: RegExp } | undefined
  const check = (op: Op, path: string) => {
    if (rule && rule.op === op && rule.match.test(path)) throw errno(rule.code)
  }
  const fs: JournalFs = {
    ...nodeJournalFs,
    mkdir: async (path, opts) => {
      check('mkdir', path)
      return nodeJournalFs.mkdir(path, opts)
    },
    readdir: async (path) => {
      check('readdir', path)
      return nodeJournalFs.readdir(path)
    },
    rename: async (from, to) => {
      check('rename', to)
      return nodeJournalFs.rename(from, to)
    },
    link: async (from, to) => {
      check('link', to)
      return nodeJournalFs.link(from, to)
    },
    unlink: async (path) => {
      check('unlink', path)
      return nodeJournalFs.unlink(path)
    },
    open: async (path, flags) => {
      check('open', path)
      const fh = await nodeJournalFs.open(path, flags)
      return {
        write: async (data: string) => {
          if (rule?.op === 'write' && rule.match.test(path)) {
            await fh.write(data.slice(0, Math.floor(data.length / 2)))
            throw errno(rule.code)
          }
          return fh.write(data)
        },
        sync: async () => {
          check('sync', path)
          return fh.sync()
        },
        datasync: async () => {
          check('sync', path)
          return fh.datasync()
        },
        close: () => fh.close(),
      }
    },
  }
  return {
    fs,
    failNext: (op: Op, code: string, match = /./) => (rule = { op, code, match }),
    heal: () => (rule = undefined),
  }
}

const record = (id: string) => journalRecord(id)

const CODES: [string, string, RegExp][] = [
  ['ENOSPC', 'DiskFull', /is full/],
  ['EROFS', 'StateReadOnly', /read-only/],
  ['EACCES', 'StateReadOnly', /not allowed/],
]

describe.each(CODES)('a journal write failing with %s', (code, ours, words) => {
  let dir: string
  let disk: ReturnType<typeof failingFs>
  let journal: FileJournal
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-errors-'))
    disk = failingFs()
    journal = new FileJournal(dir, { fs: disk.fs })
    await journal.write(record('a'))
    await journal.appendPart('a', { n: 1, etag: 'e1', md5: 'e1', size: 10 })
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  /** The failure as the engine reports it: our code, plain words, the folder named. */
  async function refused(p: Promise<unknown>) {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(e).toBeInstanceOf(UploadError)
    expect(e).toMatchObject({ code: ours, retryable: false })
    expect((e as Error).message).toMatch(words)
    expect((e as Error).message).toContain(dir)
  }

  /** What any later run sees: the record with the parts journaled before the failure. */
  async function stillLoads(parts: number[]) {
    const fresh = new FileJournal(dir)
    const loaded = await fresh.load('a')
    expect(loaded?.record.id).toBe('a')
    expect(loaded!.record.parts.map((p) => p.n)).toEqual(parts)
    expect((await fresh.list()).map((r) => r.id)).toEqual(['a'])
  }

  it('a part append torn halfway: refused in words; the journal loads with the parts before it', async () => {
    disk.failNext('write', code, /a\.jsonl$/)
    await refused(journal.appendPart('a', { n: 2, etag: 'e2', md5: 'e2', size: 10 }))
    await stillLoads([1])
    // Space freed: the rewrite a resume does compacts the torn tail, and appends count again.
    disk.heal()
    const { record: r } = (await journal.load('a'))!
    await journal.write(r)
    await journal.appendPart('a', { n: 2, etag: 'e2', md5: 'e2', size: 10 })
    await stillLoads([1, 2])
  })

  it('an append that cannot even open the log: refused in words; nothing changed', async () => {
    disk.failNext('open', code, /a\.jsonl$/)
    await refused(journal.setStatus('a', { status: 'paused' }))
    await stillLoads([1])
  })

  it('a rewrite failing mid-write or at its fsync: the old record stands, no temp file is left', async () => {
    for (const op of ['write', 'sync'] as const) {
      disk.failNext(op, code, /\.tmp$/)
      await refused(journal.write({ ...record('a'), parts: [] }))
      disk.heal()
      await stillLoads([1])
      expect((await readdir(join(dir, 'uploads'))).filter((n) => n.endsWith('.tmp'))).toEqual([])
    }
  })

  it('a rewrite failing at its rename: the old record stands, no temp file is left', async () => {
    disk.failNext('rename', code)
    await refused(journal.write({ ...record('a'), parts: [] }))
    disk.heal()
    await stillLoads([1])
    expect(await readdir(join(dir, 'uploads'))).toEqual(['a.jsonl'])
  })

  it('a lock that cannot be written: refused in words, nothing left behind, and it works once healed', async () => {
    disk.failNext('open', code, /\.tmp$/)
    await refused(journal.lock('a'))
    disk.failNext('link', code)
    await refused(journal.lock('a'))
    disk.heal()
    expect(await readdir(join(dir, 'uploads'))).toEqual(['a.jsonl'])
    const release = await journal.lock('a')
    await release()
    await stillLoads([1])
  })

  it('the history: refused in words; the entries before it still read', async () => {
    const entry = {
      id: 'h1',
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
    disk.failNext('write', code, /history\.jsonl$/)
    await refused(journal.addHistory({ ...entry, id: 'h2' }))
    disk.heal()
    expect((await new FileJournal(dir).history()).map((h) => h.id)).toEqual(['h1'])
  })

  it('the state folder cannot be made: refused in words, and tried again once healed', async () => {
    const elsewhere = new FileJournal(join(dir, 'new-state'), { fs: disk.fs })
    disk.failNext('mkdir', code)
    await refused(elsewhere.list())
    disk.heal()
    expect(await elsewhere.list()).toEqual([])
  })
})
