import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { isUploadError, UploadError } from '../errors'
import { nodeJournalFs, type JournalFs } from './journal-fs'
import { LockDir } from './lock-file'
import type { HistoryRecord, JournalPart, JournalRecord, PendingHook } from './types'

/**
 * The journal: one append-only log per upload in `<stateDir>/uploads/<id>.jsonl`.
 *
 * Line 1 is the record; each finished part appends `{"t":"part",…}` and each status change
 * `{"t":"set",…}`, every append fsync'ed before the engine counts the part as done. A kill -9 can
 * only tear the last line, which `load` ignores. Rewrites (restart from zero, compaction of a torn
 * tail) go to a temp file, fsync, rename, fsync the directory: the old or the new, never half.
 *
 * `<id>.lock` names the process driving the upload, and `src-<hash>.lock` the one sending that
 * file to that destination, so two processes (the app and the CLI) never drive the same upload
 * nor start two uploads of one file (lock-file.ts). A lock whose process is gone is taken over.
 */
export class FileJournal {
  readonly dir: string
  private readonly historyPath: string
  private ready: Promise<void> | undefined
  private readonly fs: JournalFs
  private readonly locks: LockDir

  constructor(
    readonly stateDir: string,
    opts: { fs?: JournalFs } = {},
  ) {
    this.dir = join(stateDir, 'uploads')
    this.historyPath = join(stateDir, 'history.jsonl')
    this.fs = opts.fs ?? nodeJournalFs
    this.locks = new LockDir(this.fs, this.dir)
  }

  private ensureDir(): Promise<void> {
    // A failure is not kept: the disk may have been fixed (space freed) before the next call.
    this.ready ??= this.fs.mkdir(this.dir, { recursive: true }).then(
      () => undefined,
      (e: unknown) => {
        this.ready = undefined
        throw stateError(e, this.stateDir)
      },
    )
    return this.ready
  }

  private path(id: string) {
    return join(this.dir, `${safeId(id)}.jsonl`)
  }

  async list(): Promise<JournalRecord[]> {
    await this.ensureDir()
    const names = (
      await this.fs.readdir(this.dir).catch((e: unknown) => {
        throw stateError(e, this.stateDir)
      })
    ).filter((n) => n.endsWith('.jsonl'))
    const out: JournalRecord[] = []
    for (const name of names) {
      const rec = await this.load(name.slice(0, -'.jsonl'.length)).catch(() => undefined)
      if (rec) out.push(rec.record)
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  /** The record, or undefined when there is none (or its first line is unreadable). */
  async load(id: string): Promise<{ record: JournalRecord; torn: boolean } | undefined> {
    let text: string
    try {
      text = await this.fs.readFile(this.path(id), 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw stateError(e, this.stateDir)
    }
    return parseLog(text)
  }

  /** Writes the whole record atomically (new upload, restart from zero, compaction). */
  async write(record: JournalRecord): Promise<void> {
    await this.ensureDir()
    const lines = [JSON.stringify({ t: 'record', ...record, parts: undefined })]
    for (const p of record.parts) lines.push(JSON.stringify({ t: 'part', ...p }))
    await atomicWrite(this.fs, this.path(record.id), lines.join('\n') + '\n', this.dir).catch(
      (e: unknown) => {
        throw stateError(e, this.stateDir)
      },
    )
  }

  async appendPart(id: string, part: JournalPart): Promise<void> {
    await this.append(id, { t: 'part', ...part })
  }

  async setStatus(
    id: string,
    patch: Pick<JournalRecord, 'status'> & Partial<Pick<JournalRecord, 'error' | 'media'>>,
  ): Promise<void> {
    await this.append(id, { t: 'set', ...patch, updatedAt: Date.now() })
  }

  async remove(id: string): Promise<void> {
    await this.fs.unlink(this.path(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw stateError(e, this.stateDir)
    })
  }

  async addHistory(entry: HistoryRecord): Promise<void> {
    await this.ensureDir()
    try {
      const fh = await this.fs.open(this.historyPath, 'a')
      try {
        await fh.write(JSON.stringify(entry) + '\n')
        await fh.datasync()
      } finally {
        await fh.close()
      }
    } catch (e) {
      throw stateError(e, this.stateDir)
    }
  }

  async history(): Promise<HistoryRecord[]> {
    let text: string
    try {
      text = await this.fs.readFile(this.historyPath, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw stateError(e, this.stateDir)
    }
    // One entry per upload: a later line for the same id completes it (the poster's key is
    // known only after the entry is first written), in the order uploads finished.
    const byId = new Map<string, HistoryRecord>()
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const entry = JSON.parse(line) as HistoryRecord
        byId.set(entry.id, { ...byId.get(entry.id), ...entry })
      } catch {
        // a torn last line from a crash: the entry it would have been is simply absent
      }
    }
    return [...byId.values()]
  }

  /** Journals a processing hook owed for a completed upload (see PendingHook). */
  async savePendingHook(hook: PendingHook): Promise<void> {
    const dir = this.hooksDir
    try {
      await this.fs.mkdir(dir, { recursive: true })
      await atomicWrite(this.fs, join(dir, `${safeId(hook.id)}.json`), JSON.stringify(hook), dir)
    } catch (e) {
      throw stateError(e, this.stateDir)
    }
  }

  /** Processing hooks owed (unreadable entries are skipped). */
  async pendingHooks(): Promise<PendingHook[]> {
    let names: string[]
    try {
      names = await this.fs.readdir(this.hooksDir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw stateError(e, this.stateDir)
    }
    const out: PendingHook[] = []
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const hook = await this.pendingHook(name.slice(0, -'.json'.length)).catch(() => undefined)
      if (hook) out.push(hook)
    }
    return out.sort((a, b) => a.savedAt - b.savedAt)
  }

  async pendingHook(id: string): Promise<PendingHook | undefined> {
    try {
      const j = JSON.parse(
        await this.fs.readFile(join(this.hooksDir, `${safeId(id)}.json`), 'utf8'),
      ) as PendingHook
      return j.v === 1 && j.id === id && j.snapshot ? j : undefined
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError)
        return undefined
      throw stateError(e, this.stateDir)
    }
  }

  async removePendingHook(id: string): Promise<void> {
    await this.fs.unlink(join(this.hooksDir, `${safeId(id)}.json`)).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(e, this.stateDir)
    })
  }

  private get hooksDir() {
    return join(this.stateDir, 'pending-hooks')
  }

  /**
   * Takes the upload's lock. Throws UploadError 'Locked' when another live process holds it.
   * Returns the release function.
   */
  async lock(id: string): Promise<() => Promise<void>> {
    return this.takeLock(safeId(id))
  }

  /**
   * The locks for driving an upload: the file sent to its destination first, then the record.
   * The first is what keeps two processes given the same file at the same moment (before either
   * has a record the other could see) from starting two uploads of it.
   */
  async lockUpload(
    id: string,
    source: { path: string; destinationId: string },
  ): Promise<() => Promise<void>> {
    const releaseSource = await this.takeLock(sourceLockName(source))
    try {
      const releaseRecord = await this.lock(id)
      return async () => {
        await releaseRecord()
        await releaseSource()
      }
    } catch (e) {
      await releaseSource()
      throw e
    }
  }

  /** The pid holding a record's lock, if that process is alive and not us. */
  async lockedBy(id: string): Promise<number | undefined> {
    return this.locks.holder(safeId(id))
  }

  private async takeLock(name: string): Promise<() => Promise<void>> {
    await this.ensureDir()
    try {
      return await this.locks.acquire(name)
    } catch (e) {
      throw isUploadError(e) ? e : stateError(e, this.stateDir)
    }
  }

  private async append(id: string, entry: object): Promise<void> {
    try {
      const fh = await this.fs.open(this.path(id), 'a')
      try {
        await fh.write(JSON.stringify(entry) + '\n')
        await fh.datasync()
      } finally {
        await fh.close()
      }
    } catch (e) {
      throw stateError(e, this.stateDir)
    }
  }
}

export function parseLog(text: string): { record: JournalRecord; torn: boolean } | undefined {
  const lines = text.split('\n')
  let record: JournalRecord | undefined
  let torn = false
  const parts = new Map<number, JournalPart>()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    let entry: { t?: string } & Record<string, unknown>
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      // Only the tail can be torn (appends are sequential); anything after it is not trusted.
      torn = true
      break
    }
    const { t, ...rest } = entry
    if (t === 'record') {
      record = { ...(rest as unknown as JournalRecord), parts: [] }
      parts.clear()
    } else if (!record) {
      return undefined
    } else if (t === 'part') {
      const p = rest as unknown as JournalPart
      if (Number.isInteger(p.n) && typeof p.etag === 'string') parts.set(p.n, p)
    } else if (t === 'set') {
      Object.assign(record, rest)
    }
  }
  if (!record) return undefined
  record.parts = [...parts.values()].sort((a, b) => a.n - b.n)
  return { record, torn }
}

async function atomicWrite(fs: JournalFs, path: string, data: string, dir: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const fh = await fs.open(tmp, 'w')
  try {
    await fh.write(data)
    await fh.sync()
  } catch (e) {
    // A disk that filled up mid-write must not keep half a temp file (it holds space too).
    await fh.close().catch(() => undefined)
    await fs.unlink(tmp).catch(() => undefined)
    throw e
  }
  await fh.close()
  try {
    await fs.rename(tmp, path)
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined)
    throw e
  }
  // fsync the directory so the rename itself survives a power cut
  const d = await fs.open(dir, 'r').catch(() => undefined)
  if (d) {
    await d.sync().catch(() => undefined)
    await d.close()
  }
}

/** `src-<hash>`: the lock name for one file sent to one destination. */
function sourceLockName(source: { path: string; destinationId: string }): string {
  const h = createHash('sha256').update(`${source.destinationId}\n${source.path}`).digest('hex')
  return `src-${h.slice(0, 40)}`
}

/**
 * The state folder's own failures in words: a read-only or full disk is not a bug, and the
 * creator can fix it. What was uploaded is kept (failed files keep their upload and record).
 */
export function stateError(e: unknown, stateDir: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code
  const make = (c: string, message: string) =>
    new UploadError({ code: c, message, operation: 'journal', cause: e })
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return make(
        'DiskFull',
        `The disk holding Upreel's upload progress (${stateDir}) is full. Free some space, then retry: what was already uploaded is kept.`,
      )
    case 'EROFS':
      return make(
        'StateReadOnly',
        `Upreel cannot save upload progress in ${stateDir}: that disk is read-only. Choose a writable folder for Upreel's data, then retry.`,
      )
    case 'EACCES':
    case 'EPERM':
      return make(
        'StateReadOnly',
        `Upreel is not allowed to save upload progress in ${stateDir}. Fix that folder's permissions (or choose another), then retry.`,
      )
    case 'ENOTDIR':
    case 'EEXIST':
      return make(
        'StateNotAFolder',
        `Upreel keeps upload progress in ${stateDir}, but something other than a folder is in the way there. Move it aside, then retry.`,
      )
    default:
      return e
  }
}

function safeId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`)
  return id
}
