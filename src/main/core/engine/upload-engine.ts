import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { resolve } from 'node:path'
import { isUploadError, UploadError } from '../errors'
import { FileJournal } from '../journal/file-journal'
import { replayPendingHooks } from '../journal/pending-hooks'
import type { JournalRecord, ObjectOptions } from '../journal/types'
import { DEFAULT_KEY_TEMPLATE, DEFAULT_THUMBNAIL_KEY_TEMPLATE } from '../key-template'
import { nodeFileSource, systemClock } from '../node-adapters'
import { DEFAULT_PART_SIZE } from '../part-plan'
import type { Clock, FileSource, MediaPort, ObjectStore } from '../ports'
import { DEFAULT_RETRY, type RetryOptions } from '../retry'
import { fingerprintWith } from '../util/fingerprint'
import type { CleanupReport, EngineApi, HistoryEntry, InterruptedUpload } from './api'
import { FileUpload, STRAY_CLOCK_SKEW_MS, type UploadContext } from './file-upload'
import { Pacer } from './speed'
import type { AddFileInput, EngineEvents, UploadSnapshot } from './types'
import { basename } from 'node:path'

/** Part slots shared by all files: 8 keeps a typical uplink full without starving the disk. */
export const DEFAULT_CONCURRENCY = 8
/** Files being prepared (stat, fingerprint, probe, CreateMultipartUpload) at once. */
const MAX_PREPARING = 2

export interface EngineOptions {
  store: ObjectStore
  /** Journal, locks and history live here; the CLI and the app share the app's by default. */
  stateDir: string
  files?: FileSource
  clock?: Clock
  media?: MediaPort
  concurrency?: number
  preferredPartSize?: number
  keyTemplate?: string
  thumbnailKeyTemplate?: string
  objectOptions?: ObjectOptions
  retry?: Partial<RetryOptions>
  /** Bytes per second for all transfers together; 0 = unlimited. */
  bandwidthLimit?: number
  /** Largest file accepted, in bytes; larger ones fail up front with a plain message. */
  maxFileSize?: number
  /** Refuse files that probing says are not videos (needs `media`). Default true. */
  requireVideo?: boolean
  /** Runs after each completed upload (processing hook); its failure is a notice, not a failure. */
  afterComplete?: (s: UploadSnapshot) => Promise<{ notice?: string } | void>
  log?: (msg: string) => void
}

/**
 * The upload engine: a queue of FileUploads sharing one pool of part slots. Files start in queue
 * order; a file's parts fill free slots before the next file's. Memory is bounded by the buffer
 * pool: one part-size buffer per slot (plus one for MD5 checks while resuming).
 */
export class UploadEngine extends EventEmitter implements EngineApi {
  private readonly queue: FileUpload[] = []
  private readonly ctx: UploadContext
  private readonly journal: FileJournal
  private slots: number
  private busySlots = 0
  private preparing = 0
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAt = Infinity
  private readonly pacer: Pacer
  private readonly freeBuffers: Buffer[] = []
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly inflight = new Set<Promise<void>>()
  private pumping = false
  private pumpAgain = false
  private hooksReplayed = false
  /** Aborted by close: background work (a cancel's server side) stops retrying. */
  private readonly closer = new AbortController()
  /** Cancels still being carried out on the server (whenIdle waits for them). */
  private settling = 0
  /** The pass over cancelled records in progress, and whether another was asked for meanwhile. */
  private sweep: Promise<void> | undefined
  private sweepAgain = false

  constructor(readonly options: EngineOptions) {
    super()
    const clock = options.clock ?? systemClock
    this.journal = new FileJournal(options.stateDir)
    this.slots = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY)
    this.pacer = new Pacer(options.bandwidthLimit ?? 0, clock.now, clock.sleep)
    this.ctx = {
      store: options.store,
      files: options.files ?? nodeFileSource,
      clock,
      journal: this.journal,
      media: options.media,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      preferredPartSize: options.preferredPartSize ?? DEFAULT_PART_SIZE,
      keyTemplate: options.keyTemplate ?? DEFAULT_KEY_TEMPLATE,
      thumbnailKeyTemplate: options.thumbnailKeyTemplate ?? DEFAULT_THUMBNAIL_KEY_TEMPLATE,
      objectOptions: options.objectOptions ?? {},
      requireVideo: options.requireVideo ?? true,
      maxFileSize: options.maxFileSize,
      afterComplete: options.afterComplete,
      takeBuffer: (size) => this.takeBuffer(size),
      // Keep at most one buffer per slot: anything beyond (a resume check, a slot count lowered)
      // goes back to the allocator, so memory stays at about slots x part size.
      giveBuffer: (buf) => this.freeBuffers.length < this.slots && this.freeBuffers.push(buf),
      pace: (bytes, signal) =>
        this.pacer.limited ? this.pacer.take(bytes, signal) : Promise.resolve(),
      wake: (at) => this.wake(at),
      emit: (u, kind) => this.emitFor(u, kind),
      log: options.log ?? (() => undefined),
      track: (work) => this.trackSettling(work),
      closing: this.closer.signal,
      claimed: (recordId, by) =>
        this.queue.some((u) => u !== by && u.journalId === recordId && u.status !== 'cancelled'),
    }
  }

  // ------------------------------------------------------------------ queue API

  async add(files: AddFileInput[]): Promise<UploadSnapshot[]> {
    this.assertOpen()
    this.replayPendingHooks()
    this.settleCancelled()
    const out: UploadSnapshot[] = []
    // Maps, not scans: a dropped folder can hold 10,000 files.
    const active = new Map<string, FileUpload>()
    for (const u of this.queue) {
      if (!['done', 'cancelled', 'failed'].includes(u.status)) active.set(u.path, u)
    }
    const queued = new Set(this.queue.map((u) => u.journalId))
    const earlierByPath = new Map<string, JournalRecord>()
    // An unusable state folder (read-only, full, not a folder) fails each file with that reason
    // when it prepares, instead of refusing the whole drop here.
    const records = await this.journal.list().catch((e: unknown) => {
      if (isUploadError(e)) return []
      throw e
    })
    for (const r of records) {
      if (
        r.destination.id === this.ctx.store.destinationId &&
        !queued.has(r.id) &&
        r.status !== 'cancelled'
      ) {
        earlierByPath.set(r.source.path, r)
      }
    }
    for (const input of files) {
      const path = resolve(input.path)
      const existing = active.get(path)
      if (existing) {
        out.push(existing.snapshot())
        continue
      }
      // The same file left interrupted by an earlier run (a crash, the CLI): continue it. If
      // another live process is uploading it right now, this row fails on its lock with that
      // reason (and Retry continues it once the other is done), rather than uploading a copy.
      const earlier = earlierByPath.get(path)
      earlierByPath.delete(path)
      const upload = new FileUpload(this.ctx, {
        id: earlier ? earlier.id : randomUUID(),
        path,
        relativeDir: input.relativeDir,
        metadata: input.metadata,
        record: earlier,
      })
      active.set(path, upload)
      this.queue.push(upload)
      this.emitFor(upload)
      out.push(upload.snapshot())
    }
    this.wake()
    return out
  }

  list(): UploadSnapshot[] {
    return this.queue.map((u) => u.snapshot())
  }

  get(id: string): UploadSnapshot | undefined {
    return this.find(id)?.snapshot()
  }

  async pause(id: string): Promise<void> {
    await this.find(id)?.pause()
    this.wake()
  }

  resume(id: string): void {
    this.find(id)?.requeue()
  }

  retry(id: string): void {
    this.find(id)?.requeue()
  }

  async cancel(id: string): Promise<void> {
    const u = this.find(id)
    if (!u) return
    try {
      await u.cancel()
    } finally {
      this.wake()
    }
  }

  async remove(id: string): Promise<void> {
    const u = this.find(id)
    if (!u) return
    if (u.status !== 'done' && u.status !== 'cancelled') await u.cancel()
    this.queue.splice(this.queue.indexOf(u), 1)
    this.emit('removed', id)
    this.wake()
  }

  reorder(ids: string[]): void {
    const rank = new Map(ids.map((id, i) => [id, i]))
    const indexed = this.queue.map((u, i) => ({ u, key: rank.get(u.id) ?? ids.length + i }))
    indexed.sort((a, b) => a.key - b.key)
    this.queue.splice(0, this.queue.length, ...indexed.map((x) => x.u))
    for (const u of this.queue) this.emitFor(u)
    this.wake()
  }

  async pauseAll(): Promise<void> {
    await Promise.all(this.queue.map((u) => u.pause()))
    this.wake()
  }

  resumeAll(): void {
    for (const u of this.queue) if (u.status === 'paused') u.requeue()
  }

  /** The network is back: parts waiting out a retry delay go now, and unfinished cancels. */
  retryNow(): void {
    for (const u of this.queue) u.retryNow()
    this.settleCancelled()
    this.wake()
  }

  setConcurrency(slots: number): void {
    this.slots = Math.max(1, Math.min(64, Math.floor(slots)))
    this.wake()
  }

  setBandwidthLimit(bytesPerSecond: number): void {
    this.pacer.setRate(bytesPerSecond)
  }

  // ------------------------------------------------------------------ journal API

  async interrupted(): Promise<InterruptedUpload[]> {
    this.settleCancelled()
    const records = await this.journal.list()
    const out: InterruptedUpload[] = []
    for (const r of records) {
      if (r.status === 'cancelled' || this.inQueue(r.id)) continue
      out.push({
        id: r.id,
        path: r.source.path,
        name: basename(r.source.path),
        size: r.source.size,
        bytesDone: r.parts.reduce((s, p) => s + p.size, 0),
        key: r.key,
        bucket: r.bucket,
        destinationLabel: r.destination.label,
        updatedAt: r.updatedAt,
        lockedBy: await this.journal.lockedBy(r.id),
      })
    }
    return out
  }

  async resumeInterrupted(ids?: string[]): Promise<UploadSnapshot[]> {
    this.assertOpen()
    this.replayPendingHooks()
    this.settleCancelled()
    const records = await this.journal.list()
    const out: UploadSnapshot[] = []
    for (const r of records) {
      if (ids && !ids.includes(r.id)) continue
      if (r.status === 'cancelled' || this.inQueue(r.id)) continue
      if (await this.journal.lockedBy(r.id)) continue
      const u = new FileUpload(this.ctx, { id: r.id, path: r.source.path, record: r })
      this.queue.push(u)
      this.emitFor(u)
      out.push(u.snapshot())
    }
    this.wake()
    return out
  }

  /**
   * Aborts an interrupted upload on the server and forgets its record (CLI `abort`, the app's
   * Discard). Unlike a row's Cancel this waits for the server; if it cannot be reached (retried,
   * but not waiting for the network) the record stays marked cancelled and this throws: the next
   * engine of this destination to start finishes it (settleCancelled).
   */
  async abortInterrupted(id: string): Promise<void> {
    const r = (await this.journal.list()).find((x) => x.id === id)
    if (!r) return
    const u = new FileUpload(this.ctx, { id: r.id, path: r.source.path, record: r })
    // Refuses a record of another destination, or one another process drives.
    await u.cancel()
    if (!(await u.cancelOutcome)) {
      throw new UploadError({
        code: 'CancelPending',
        message:
          u.snapshot().notice ?? 'Another Upreel process took this upload over; cancel it there.',
      })
    }
  }

  async history(): Promise<HistoryEntry[]> {
    const entries = await this.journal.history()
    return entries
      .map((h) => ({ ...h, name: basename(h.path) }))
      .sort((a, b) => b.completedAt - a.completedAt)
  }

  async findDuplicates(path: string): Promise<HistoryEntry[]> {
    const files = this.ctx.files
    let stat
    try {
      stat = await files.stat(path)
    } catch {
      return []
    }
    const candidates = (await this.history()).filter(
      (h) => h.size === stat.size && h.destinationId === this.ctx.store.destinationId,
    )
    if (candidates.length === 0) return []
    const fp = await fingerprintWith(files, path, stat.size)
    return candidates.filter((h) => h.fingerprint === fp)
  }

  /**
   * Aborts what is left behind: journal records not touched for `olderThanMs` (and not held by a
   * live process), and with `server`, multipart uploads under the prefix that no record here
   * knows and that were started before the threshold. A record whose upload could not be
   * aborted (or lives at another destination) is kept and reported: it is the only pointer to
   * what is left on the server.
   */
  async cleanup(opts: {
    olderThanMs: number
    server?: boolean
    prefix?: string
  }): Promise<CleanupReport> {
    const now = this.ctx.clock.now()
    const report: CleanupReport = { journalRecords: [], serverUploads: [], kept: [] }
    const store = this.ctx.store
    for (const r of await this.journal.list()) {
      // A cancelled one is owed to the server whatever its age (settleCancelled).
      const cancelled = r.status === 'cancelled'
      const stale = cancelled || now - r.updatedAt >= opts.olderThanMs
      if (!stale || this.inQueue(r.id) || (await this.journal.lockedBy(r.id))) continue
      const kept = (reason: string) =>
        report.kept.push({ id: r.id, path: r.source.path, key: r.key, reason })
      const onServer = !!r.uploadId || r.partCount > 1
      if (onServer && r.destination.id !== store.destinationId) {
        kept(`started to ${r.destination.label}; clean up with that destination to abort it`)
        continue
      }
      if (cancelled) {
        // Under its lock, as a pass of settleCancelled may be doing the same meanwhile.
        const left = await this.settleRecord(r)
        if (left) kept(`could not abort its upload: ${left}`)
        else {
          const aborted = onServer
          report.journalRecords.push({ id: r.id, path: r.source.path, key: r.key, aborted })
        }
        continue
      }
      let aborted = false
      try {
        if (r.uploadId) {
          await store.abort({ key: r.key, uploadId: r.uploadId })
          aborted = true
        } else if (r.partCount > 1) {
          // Its CreateMultipartUpload never answered: what it opened is under its key.
          aborted = (await this.abortStraysOf(r)) > 0
        }
      } catch (e) {
        kept(`could not abort its upload: ${e instanceof Error ? e.message : String(e)}`)
        continue
      }
      await this.journal.remove(r.id)
      report.journalRecords.push({ id: r.id, path: r.source.path, key: r.key, aborted })
    }
    if (opts.server) {
      if (!store.listMultipartUploads) {
        throw new Error('This destination cannot list incomplete uploads (backend mode).')
      }
      const prefix = opts.prefix ?? staticPrefix(this.ctx.keyTemplate)
      if (opts.prefix === undefined && prefix === '') {
        // No static start to the key template: the listing would take in every other tool's
        // uploads in the bucket. Only an explicit prefix (the CLI's --prefix) may ask for that.
        report.serverSkipped = `Incomplete uploads on the server were not checked: the key template "${this.ctx.keyTemplate}" starts with a variable, so Upreel cannot tell its uploads from other tools' in this bucket. A bucket lifecycle rule (AbortIncompleteMultipartUpload) cleans them up instead.`
        return report
      }
      const listed = await store.listMultipartUploads(prefix)
      // What is ours, gathered after the listing: an upload created meanwhile (its record is
      // written before CreateMultipartUpload, its uploadId right after the answer) is known.
      const knownIds = new Set<string>()
      const pendingKeys = new Set<string>()
      const know = (t: { key: string; uploadId?: string } | undefined) => {
        if (t?.uploadId) knownIds.add(t.uploadId)
        else if (t) pendingKeys.add(t.key)
      }
      for (const r of await this.journal.list()) know(r)
      for (const u of this.queue) know(u.serverTarget)
      for (const up of listed) {
        if (knownIds.has(up.uploadId) || pendingKeys.has(up.key)) continue
        // Server clocks run a little ahead or behind ours: 0 means "all", whatever they say.
        if (
          opts.olderThanMs > 0 &&
          up.initiated &&
          now - up.initiated.getTime() < opts.olderThanMs
        ) {
          continue
        }
        try {
          await store.abort({ key: up.key, uploadId: up.uploadId })
          report.serverUploads.push({ key: up.key, uploadId: up.uploadId, aborted: true })
        } catch (e) {
          report.serverUploads.push({
            key: up.key,
            uploadId: up.uploadId,
            aborted: false,
            error: e instanceof Error ? e.message : String(e),
          })
        }
      }
    }
    return report
  }

  /**
   * Processing hooks an earlier run owed when it crashed: sent once, when this engine first gets
   * work (close() waits for them). Not at construction: `list` and `abort` must not post.
   */
  private replayPendingHooks() {
    if (this.hooksReplayed || !this.ctx.afterComplete) return
    this.hooksReplayed = true
    this.track(
      replayPendingHooks(this.journal, {
        destinationId: this.ctx.store.destinationId,
        afterComplete: this.ctx.afterComplete,
        log: this.ctx.log,
      }),
    )
  }

  /**
   * Cancels whose server side is still owed (the network was down, the app quit): records marked
   * cancelled, of this destination, that no live process holds. Done once when this engine first
   * gets work or is asked for interrupted uploads (the app's start), and each time the network
   * comes back (retryNow); one pass at a time. A row of the queue tries its own again; a record
   * of an earlier run, through a FileUpload no one sees.
   */
  private settleCancelled() {
    if (this.closed) return
    if (this.sweep) {
      this.sweepAgain = true
      return
    }
    const pass = async () => {
      const records = await this.journal.list().catch(() => [])
      for (const r of records) {
        if (this.closed) return
        if (r.status !== 'cancelled' || r.destination.id !== this.ctx.store.destinationId) continue
        const row = this.queue.find((u) => u.journalId === r.id)
        if (row) await row.retryCancel()
        else if (!(await this.journal.lockedBy(r.id).catch(() => undefined))) {
          const left = await this.settleRecord(r)
          if (left) this.ctx.log(`cancelled upload ${r.id} left for later: ${left}`)
        }
      }
    }
    const sweep = pass().finally(() => {
      this.sweep = undefined
      if (this.sweepAgain) {
        this.sweepAgain = false
        this.settleCancelled()
      }
    })
    this.sweep = sweep
    this.trackSettling(sweep)
  }

  /**
   * Carries out the cancel of a record marked cancelled, through a FileUpload no one sees (under
   * the record's lock, as a row's cancel). Undefined when nothing is left; else why not.
   */
  private async settleRecord(r: JournalRecord): Promise<string | undefined> {
    const quiet: UploadContext = { ...this.ctx, emit: () => undefined }
    const u = new FileUpload(quiet, { id: r.id, path: r.source.path, record: r })
    try {
      await u.cancel()
      if (await u.cancelOutcome) return undefined
      return u.snapshot().notice ?? 'another Upreel process holds it'
    } catch (e) {
      return e instanceof Error ? e.message : String(e)
    }
  }

  /** Whether a row of the queue drives the journal record `id`. */
  private inQueue(id: string): boolean {
    return this.queue.some((u) => u.id === id || u.journalId === id)
  }

  /** Background work close() waits for and whenIdle() counts (see settling). */
  private trackSettling(work: Promise<unknown>) {
    this.settling++
    const done = work.then(
      () => undefined,
      () => undefined,
    )
    this.track(
      done.finally(() => {
        this.settling--
        queueMicrotask(() => this.checkIdleSoon())
      }),
    )
  }

  /** Aborts the uploads a record without uploadId may have opened (see FileUpload.abortStrays). */
  private async abortStraysOf(r: JournalRecord): Promise<number> {
    const store = this.ctx.store
    if (!store.listMultipartUploads) return 0
    let n = 0
    for (const u of await store.listMultipartUploads(r.key)) {
      if (u.key !== r.key || !u.initiated) continue
      if (u.initiated.getTime() < r.createdAt - STRAY_CLOCK_SKEW_MS) continue
      await store.abort({ key: u.key, uploadId: u.uploadId })
      n++
    }
    return n
  }

  // ------------------------------------------------------------------ lifecycle

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((res) => this.idleWaiters.push(res))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.wakeTimer)
    await Promise.all(this.queue.map((u) => u.detach()))
    // Cancels still owed to the server stop retrying; their records stay marked for next time.
    this.closer.abort()
    await Promise.allSettled([...this.inflight])
    this.freeBuffers.length = 0
    for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Journal records of this state dir (tests, the CLI's list). */
  records(): Promise<JournalRecord[]> {
    return this.journal.list()
  }

  // ------------------------------------------------------------------ scheduling

  private wake(at?: number) {
    if (this.closed) return
    if (at !== undefined && at > this.ctx.clock.now()) {
      if (at < this.wakeAt) {
        clearTimeout(this.wakeTimer)
        this.wakeAt = at
        this.wakeTimer = setTimeout(
          () => {
            this.wakeAt = Infinity
            this.pump()
          },
          Math.max(0, at - this.ctx.clock.now()),
        )
      }
      return
    }
    queueMicrotask(() => this.pump())
  }

  /** Fills free slots from the queue in order, and prepares the next files when slots would idle. */
  private pump() {
    if (this.closed) return
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        const now = this.ctx.clock.now()
        for (const u of this.queue) {
          while (this.busySlots < this.slots) {
            const p = u.startNextPart(now)
            if (!p) break
            this.busySlots++
            this.track(
              p.finally(() => {
                this.busySlots--
                this.wake()
              }),
            )
          }
          if (this.busySlots >= this.slots) break
        }
        // Prepare upcoming files only when the ready parts can't fill the free slots.
        let ready = 0
        for (const u of this.queue) ready += u.readyParts(now)
        for (const u of this.queue) {
          if (this.preparing >= MAX_PREPARING || this.busySlots + ready >= this.slots) break
          if (u.status !== 'queued') continue
          this.preparing++
          ready += 1
          this.track(
            u.prepare().finally(() => {
              this.preparing--
              this.wake()
            }),
          )
        }
        let next: number | undefined
        for (const u of this.queue) {
          const w = u.nextWake()
          if (w !== undefined && w > now && (next === undefined || w < next)) next = w
        }
        if (next !== undefined) this.wake(next)
      } while (this.pumpAgain)
    } finally {
      this.pumping = false
    }
    this.checkIdle()
  }

  private track(p: Promise<void>) {
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }

  private isIdle() {
    return this.settling === 0 && this.queue.every((u) => !u.isActive && u.status !== 'queued')
  }

  private idleEmitted = true

  private checkIdle() {
    if (!this.isIdle()) {
      this.idleEmitted = false
      return
    }
    for (const w of this.idleWaiters.splice(0)) w()
    if (!this.idleEmitted) {
      this.idleEmitted = true
      this.emit('idle')
    }
  }

  private emitFor(u: FileUpload, kind?: 'completed' | 'failed' | 'cancelled') {
    const snap = u.snapshot()
    this.emit('changed', snap)
    if (kind) this.emit(kind, snap)
    if (kind || !u.isActive) queueMicrotask(() => this.checkIdleSoon())
  }

  private checkIdleSoon() {
    if (!this.pumping) this.checkIdle()
  }

  private takeBuffer(size: number): Buffer {
    const i = this.freeBuffers.findIndex((b) => b.length >= size)
    if (i >= 0) return this.freeBuffers.splice(i, 1)[0]!
    return Buffer.allocUnsafe(size)
  }

  private find(id: string) {
    return this.queue.find((u) => u.id === id)
  }

  private assertOpen() {
    if (this.closed) throw new Error('the engine is closed')
  }

  override on<E extends keyof EngineEvents>(
    event: E,
    listener: (...args: EngineEvents[E]) => void,
  ): this {
    return super.on(event, listener as (...args: unknown[]) => void)
  }

  override off<E extends keyof EngineEvents>(
    event: E,
    listener: (...args: EngineEvents[E]) => void,
  ): this {
    return super.off(event, listener as (...args: unknown[]) => void)
  }
}

/** The literal start of a key template ('videos/' for 'videos/{uuid}/{filename}'). */
export function staticPrefix(template: string): string {
  const i = template.indexOf('{')
  return i < 0 ? template : template.slice(0, i)
}
