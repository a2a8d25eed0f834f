import { randomBytes } from 'node:crypto'
import { constants as FS } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { UploadError } from '../errors'
import type { HistoryRecord, JournalPart, JournalRecord } from './types'

/**
 * The journal: one append-only log per upload in `<stateDir>/uploads/<id>.jsonl`.
 *
 * Line 1 is the record; each finished part appends `{"t":"part",…}` and each status change
 * `{"t":"set",…}`, every append fsync'ed before the engine counts the part as done. A kill -9 can
 * only tear the last line, which `load` ignores. Rewrites (restart from zero, compaction of a torn
 * tail) go to a temp file, fsync, rename, fsync the directory: the old or the new, never half.
 *
 * `<id>.lock` holds the pid of the process driving the upload, so two processes (the app and the
 * CLI) never drive the same upload. A lock whose process is gone is taken over.
 */
export class FileJournal {
  readonly dir: string
  private readonly historyPath: string
  private ready: Promise<void> | undefined

  constructor(readonly stateDir: string) {
    this.dir = join(stateDir, 'uploads')
    this.historyPath = join(stateDir, 'history.jsonl')
  }

  private ensureDir(): Promise<void> {
    // A failure is not kept: the disk may have been fixed (space freed) before the next call.
    this.ready ??= mkdir(this.dir, { recursive: true }).then(
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
      await readdir(this.dir).catch((e: unknown) => {
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
      text = await readFile(this.path(id), 'utf8')
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
    await atomicWrite(this.path(record.id), lines.join('\n') + '\n', this.dir).catch(
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
    await unlink(this.path(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e
    })
  }

  async addHistory(entry: HistoryRecord): Promise<void> {
    await this.ensureDir()
    try {
      const fh = await open(this.historyPath, 'a')
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
      text = await readFile(this.historyPath, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw e
    }
    const out: HistoryRecord[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        out.push(JSON.parse(line) as HistoryRecord)
      } catch {
        // a torn last line from a crash: the entry it would have been is simply absent
      }
    }
    return out
  }

  /**
   * Takes the upload's lock. Throws UploadError 'Locked' when another live process holds it.
   * Returns the release function.
   */
  async lock(id: string): Promise<() => Promise<void>> {
    await this.ensureDir()
    const lockPath = join(this.dir, `${safeId(id)}.lock`)
    const key = `${this.dir}/${id}`
    if (heldHere.has(key)) throw lockedError(process.pid)
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(lockPath, FS.O_CREAT | FS.O_EXCL | FS.O_WRONLY)
        await fh.write(JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }))
        await fh.close()
        heldHere.add(key)
        return async () => {
          heldHere.delete(key)
          await unlink(lockPath).catch(() => undefined)
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(e, this.stateDir)
        const holder = await lockHolder(lockPath)
        // Our own pid without an in-process holder: an engine of this process that was dropped
        // without close() (a test's simulated crash). Otherwise only a dead process is stale.
        const stale =
          !holder ||
          holder.host !== hostname() ||
          holder.pid === process.pid ||
          !processAlive(holder.pid)
        if (!stale) throw lockedError(holder.pid)
        await unlink(lockPath).catch(() => undefined)
      }
    }
    throw lockedError(undefined)
  }

  /** The pid holding a record's lock, if that process is alive and not us. */
  async lockedBy(id: string): Promise<number | undefined> {
    const holder = await lockHolder(join(this.dir, `${safeId(id)}.lock`))
    if (!holder || holder.host !== hostname() || holder.pid === process.pid) return undefined
    return processAlive(holder.pid) ? holder.pid : undefined
  }

  private async append(id: string, entry: object): Promise<void> {
    try {
      const fh = await open(this.path(id), 'a')
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

/** Lock keys held by engines of this process (a file lock can't tell two engines apart). */
const heldHere = new Set<string>()

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

async function atomicWrite(path: string, data: string, dir: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.write(data)
    await fh.sync()
  } catch (e) {
    // A disk that filled up mid-write must not keep half a temp file (it holds space too).
    await fh.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    throw e
  }
  await fh.close()
  await rename(tmp, path)
  // fsync the directory so the rename itself survives a power cut
  const d = await open(dir, 'r').catch(() => undefined)
  if (d) {
    await d.sync().catch(() => undefined)
    await d.close()
  }
}

async function lockHolder(path: string): Promise<{ pid: number; host: string } | undefined> {
  try {
    const j = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown }
    if (typeof j.pid === 'number' && typeof j.host === 'string') return { pid: j.pid, host: j.host }
  } catch {
    // unreadable or half-written lock: treated as stale
  }
  return undefined
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
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

function lockedError(pid: number | undefined): UploadError {
  return new UploadError({
    code: 'Locked',
    message: `Another Upreel process${pid ? ` (pid ${pid})` : ''} is already uploading this file. It continues there; close that one to take it over here.`,
  })
}

function safeId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`)
  return id
}
