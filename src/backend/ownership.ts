/**
 * Who owns which upload, persisted as an append-only JSON-lines file (uploads.jsonl in the data
 * dir). Append-only because each change is then one small write that is either fully on disk or
 * (after a crash mid-write) a torn last line that the next start ignores; nothing already
 * recorded can be lost by a later write. Each append is fsynced before the request is answered,
 * so an upload the client heard about survives a power cut. One backend process per data dir.
 *
 * Finished (completed or cancelled) records are kept for a retention window, so a retried
 * complete still gets its first answer and a thumbnail can still be added to a video; at start
 * the file is rewritten without those past the window (atomically: a crash leaves either file
 * whole). Open uploads are never dropped, however old: only their owner may finish or cancel them.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export type UploadRecordState = 'open' | 'completed' | 'aborted'

export interface UploadRecord {
  uploadId: string
  key: string
  bucket: string
  userId: string
  contentType: string
  /** Size the client declared at create, when it did. */
  declaredSize?: number
  /** Bytes this upload may hold: the declared size, else the backend's maximum. */
  sizeLimit: number
  /** Key of the video a thumbnail belongs to. */
  thumbnailFor?: string
  createdAt: number
  state: UploadRecordState
  finishedAt?: number
  /** Kept after complete so a retried complete gets the same answer. */
  location?: string
  etag?: string
}

type Line =
  | ({ op: 'create' } & UploadRecord)
  | { op: 'complete'; uploadId: string; at: number; location?: string; etag?: string }
  | { op: 'abort'; uploadId: string; at: number }

const FILE_NAME = 'uploads.jsonl'
/** Compact at start when the file holds this many lines more than live records (startup cost). */
const COMPACT_SLACK_LINES = 1000

export class OwnershipStore {
  private readonly byId = new Map<string, UploadRecord>()
  private readonly byKey = new Map<string, UploadRecord>()
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
  ) {}

  /**
   * Loads the file (ignoring torn or unreadable lines, counted in `skipped`) and forgets
   * finished records older than `retainFinishedMs` (counted in `pruned`).
   */
  static async open(
    dir: string,
    opts: { retainFinishedMs?: number; now?: number } = {},
  ): Promise<{ store: OwnershipStore; skipped: number; pruned: number }> {
    await mkdir(dir, { recursive: true })
    const path = join(dir, FILE_NAME)
    let text = ''
    try {
      text = await readFile(path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    const lines = text.split('\n').filter((l) => l.trim())
    const records = new Map<string, UploadRecord>()
    let skipped = 0
    for (const raw of lines) {
      let line: Line
      try {
        line = JSON.parse(raw) as Line
      } catch {
        skipped++
        continue
      }
      applyLine(records, line)
    }
    let pruned = 0
    if (opts.retainFinishedMs !== undefined) {
      const cutoff = (opts.now ?? Date.now()) - opts.retainFinishedMs
      for (const [id, r] of records) {
        if (r.state !== 'open' && r.finishedAt !== undefined && r.finishedAt < cutoff) {
          records.delete(id)
          pruned++
        }
      }
    }
    if (
      pruned > 0 ||
      lines.length - records.size > COMPACT_SLACK_LINES ||
      (text && !text.endsWith('\n'))
    ) {
      await writeAtomically(
        path,
        [...records.values()].map((r) => lineOf({ op: 'create', ...r })),
      )
    }
    const handle = await open(path, 'a')
    const store = new OwnershipStore(path, handle)
    for (const r of records.values()) store.index(r)
    return { store, skipped, pruned }
  }

  get(uploadId: string): UploadRecord | undefined {
    return this.byId.get(uploadId)
  }

  /** The latest upload recorded under a key. */
  findByKey(key: string): UploadRecord | undefined {
    return this.byKey.get(key)
  }

  get size(): number {
    return this.byId.size
  }

  async add(record: UploadRecord): Promise<void> {
    await this.append({ op: 'create', ...record })
    this.index({ ...record })
  }

  async markCompleted(uploadId: string, info: { location?: string; etag?: string }) {
    const at = Date.now()
    await this.append({ op: 'complete', uploadId, at, ...info })
    const r = this.byId.get(uploadId)
    if (r) Object.assign(r, { state: 'completed', finishedAt: at, ...info })
  }

  async markAborted(uploadId: string) {
    const at = Date.now()
    await this.append({ op: 'abort', uploadId, at })
    const r = this.byId.get(uploadId)
    if (r) Object.assign(r, { state: 'aborted', finishedAt: at })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writing.catch(() => undefined)
    await this.handle.close()
  }

  private index(r: UploadRecord) {
    this.byId.set(r.uploadId, r)
    this.byKey.set(r.key, r)
  }

  /** Writes are chained so lines never interleave, and each is durable before it resolves. */
  private append(line: Line): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ownership store is closed'))
    const next = this.writing.then(async () => {
      await this.handle.write(lineOf(line))
      await this.handle.datasync()
    })
    // A failed write must not wedge later ones; the caller of this one still sees its error.
    this.writing = next.catch(() => undefined)
    return next
  }

  /** For tests and diagnostics. */
  get file(): string {
    return this.path
  }
}

function applyLine(records: Map<string, UploadRecord>, line: Line) {
  if (line.op === 'create') {
    if (typeof line.uploadId !== 'string' || typeof line.userId !== 'string') return
    const { op: _op, ...rec } = line
    records.set(line.uploadId, rec)
  } else if (line.op === 'complete' || line.op === 'abort') {
    const r = records.get(line.uploadId)
    if (!r) return
    r.state = line.op === 'complete' ? 'completed' : 'aborted'
    r.finishedAt = line.at
    if (line.op === 'complete') {
      r.location = line.location
      r.etag = line.etag
    }
  }
}

function lineOf(line: Line): string {
  return JSON.stringify(line) + '\n'
}

/** Whole new file, or the old one untouched: write aside, fsync, rename, fsync the folder. */
async function writeAtomically(path: string, lines: string[]) {
  const tmp = `${path}.${process.pid}.tmp`
  const h = await open(tmp, 'w')
  try {
    await h.write(lines.join(''))
    await h.sync()
  } finally {
    await h.close()
  }
  await rename(tmp, path)
  // The rename itself is durable only once the directory is (Linux; elsewhere best effort).
  const d = await open(dirname(path), 'r').catch(() => undefined)
  if (d) {
    await d.sync().catch(() => undefined)
    await d.close()
  }
}
