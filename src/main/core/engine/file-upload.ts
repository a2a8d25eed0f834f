import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { contentTypeFor, encodeMetadataValue } from '../content-type'
import { isAbortError, isUploadError, UploadError } from '../errors'
import type { FileJournal } from '../journal/file-journal'
import type { HistoryRecord, JournalRecord, ObjectOptions } from '../journal/types'
import { renderKey } from '../key-template'
import { formatBytes, partRange, planParts, type PartPlan } from '../part-plan'
import type {
  Clock,
  CompletedObject,
  FileSource,
  ListedUpload,
  MediaPort,
  MultipartTarget,
  ObjectStore,
  RemotePart,
} from '../ports'
import { classify, countFailure, retryDelay, type RetryOptions } from '../retry'
import { fingerprintWith } from '../util/fingerprint'
import { etaSeconds, SpeedMeter } from './speed'
import type { MediaInfo, UploadErrorInfo, UploadSnapshot, UploadState } from './types'
import { etagIsContentMd5, putPart } from '../http/put-part'
import { mediaMetadata } from '../media/metadata'
import { posterKey } from '../media/poster-key'

/** What a FileUpload needs from its engine: ports, settings and the shared slot machinery. */
export interface UploadContext {
  store: ObjectStore
  files: FileSource
  clock: Clock
  journal: FileJournal
  media?: MediaPort
  retry: RetryOptions
  preferredPartSize: number
  keyTemplate: string
  thumbnailKeyTemplate: string
  objectOptions: ObjectOptions
  /** Refuse files that probing says are not videos (off = "upload all file types"). */
  requireVideo: boolean
  /** Largest file accepted, in bytes (undefined: only S3's own limit). */
  maxFileSize?: number
  afterComplete?: (s: UploadSnapshot) => Promise<{ notice?: string } | void>
  takeBuffer(size: number): Buffer
  giveBuffer(buf: Buffer): void
  pace(bytes: number, signal: AbortSignal): Promise<void>
  /** Something changed that the scheduler should look at (a part freed, a state moved). */
  wake(at?: number): void
  emit(u: FileUpload, kind?: 'completed' | 'failed' | 'cancelled'): void
  log(msg: string): void
  /** Work that outlives the call that started it (a cancel's server side): close waits for it. */
  track(work: Promise<unknown>): void
  /** Aborted when the engine closes: background work stops retrying (what it owes stays journaled). */
  closing: AbortSignal
  /** Whether another row of this engine drives (or keeps, failed) the journal record `recordId`. */
  claimed(recordId: string, by: FileUpload): boolean
}

/** One start of a file: prepare, then its parts and Complete. */
interface Run {
  controller: AbortController
  /** The file's and the record's locks, once taken (FileJournal.lockUpload). */
  release?: () => Promise<void>
  /**
   * Still preparing. A run stopped then (pause, cancel, close) keeps its locks until its
   * preparation has ended, a CreateMultipartUpload in flight included, and the next run of the
   * file waits for that: two runs of one file never overlap (see prepare).
   */
  preparing: boolean
}

type PartStatus = 'pending' | 'sending' | 'done'
interface PartState {
  n: number
  size: number
  status: PartStatus
  /** Bytes of this part handed to the socket in the current attempt. */
  sent: number
  /** Failed attempts counted against the retry budget (reset when bytes move: countFailure). */
  attempts: number
  /** Most bytes a counted failed attempt got through. */
  best: number
  notBefore: number
  etag?: string
  md5?: string
}

/** A failure reading or checking the source file: never worth retrying by itself. */
function sourceError(code: string, message: string, cause?: unknown): UploadError {
  return new UploadError({ code, message, operation: 'read', cause })
}

/** Probe verdicts that mean "this is not a video you want to upload" (media/media-errors.ts). */
const REFUSING_PROBE_CODES = new Set(['NotVideo', 'Truncated', 'Unreadable'])

/** Progress events per file at most every 100 ms: the UI relay throttles again before IPC. */
const PROGRESS_EMIT_MS = 100
/**
 * Uploads under a record's key that the server says were initiated this long before the record
 * was written are not ours (a CreateMultipartUpload cannot start before its record): another
 * machine's live upload of the same key, with a key template lacking {uuid}. The margin covers
 * clocks a few minutes apart; a stray of ours missed by a clock further off is left to
 * "Clean up incomplete uploads" (and the bucket's lifecycle rule).
 */
export const STRAY_CLOCK_SKEW_MS = 5 * 60_000

/**
 * One file's upload (Uppy's S3Uploader shape): its state is private, each start gets a fresh
 * AbortController, resume goes through the journal and ListParts, and progress is derived from
 * per-part state, never accumulated by hand.
 */
export class FileUpload {
  readonly id: string
  readonly path: string
  readonly relativeDir: string
  private readonly extraMetadata: Record<string, string>
  private state: UploadState = 'queued'
  private record: JournalRecord | undefined
  private plan: PartPlan | undefined
  private parts: PartState[] = []
  private run: Run | undefined
  /**
   * The journal record this row drives: its own id, or the record another process left for the
   * same file and destination when both were given it at once (taken over in latestRecord).
   */
  private recordId: string
  private error: UploadErrorInfo | undefined
  private notice: string | undefined
  /** Why a request is being retried right now; gone once a request succeeds again. */
  private retryNotice: string | undefined
  private retryAttempt = 0
  private readonly speed = new SpeedMeter()
  private lastEmit = 0
  private media: MediaInfo | undefined
  private thumbnail: Promise<string | undefined> | undefined
  /** The run the thumbnail was started for: a pause or a failure aborts it (startThumbnail). */
  private thumbnailSignal: AbortSignal | undefined
  /** Why the poster could not be made (shown on the row once the video is up). */
  private thumbnailFailure: string | undefined
  private thumbnailPath: string | undefined
  private thumbnailKey: string | undefined
  private done: { key: string; bucket: string; etag?: string; location?: string } | undefined
  private completing = false
  /** The latest preparation, settled once it has ended and given back the locks it took. */
  private preparation: Promise<void> = Promise.resolve()
  /** A run of this row found the file locked by another process (see doneElsewhere). */
  private contended = false
  /** The server side of a cancel (settleCancel), while it runs. */
  private cancelling: Promise<boolean> | undefined
  /** Set by resume when the object turned out to be complete already. */
  private completedEarlier:
    { key: string; bucket: string; etag?: string; location?: string } | undefined
  private singleSent = 0
  private readonly createdAt: number
  private updatedAt: number
  private completedAt: number | undefined
  private size = 0
  resumed: boolean

  constructor(
    private readonly ctx: UploadContext,
    init: {
      id: string
      path: string
      relativeDir?: string
      metadata?: Record<string, string>
      record?: JournalRecord
    },
  ) {
    this.id = init.id
    this.recordId = init.record?.id ?? init.id
    this.path = init.path
    this.relativeDir = init.relativeDir ?? init.record?.relativeDir ?? ''
    this.extraMetadata = init.metadata ?? {}
    this.record = init.record
    this.resumed = !!init.record
    this.size = init.record?.source.size ?? 0
    this.media = init.record?.media
    this.createdAt = init.record?.createdAt ?? ctx.clock.now()
    this.updatedAt = this.createdAt
    if (init.record) this.restorePartsFromRecord(init.record)
  }

  get status(): UploadState {
    return this.state
  }

  /** Where this row's upload lives on the server (uploadId once CreateMultipartUpload answered). */
  get serverTarget(): { key: string; uploadId?: string } | undefined {
    return this.record && { key: this.record.key, uploadId: this.record.uploadId }
  }

  get isActive(): boolean {
    return ['preparing', 'uploading', 'retrying', 'completing'].includes(this.state)
  }

  /** The id of the journal record this row drives (its own id unless it took one over). */
  get journalId(): string {
    return this.recordId
  }

  /** A cancel is still being carried out on the server (whenIdle waits for it). */
  get settling(): boolean {
    return !!this.cancelling
  }

  // ------------------------------------------------------------------ snapshot

  snapshot(): UploadSnapshot {
    const bytesSent = this.bytesSent()
    const speed = this.isActive ? this.speed.bytesPerSecond : 0
    const left = this.size - bytesSent
    return {
      id: this.id,
      path: this.path,
      name: basename(this.path),
      relativeDir: this.relativeDir,
      size: this.size,
      bytesSent,
      state: this.state,
      speed: Math.round(speed),
      etaSeconds: this.isActive ? etaSeconds(left, speed) : null,
      partSize: this.plan?.partSize ?? this.record?.partSize ?? 0,
      partsTotal: this.plan?.partCount ?? this.record?.partCount ?? 0,
      partsDone: this.parts.filter((p) => p.status === 'done').length,
      bucket: this.done?.bucket ?? this.record?.bucket,
      key: this.done?.key ?? this.record?.key,
      etag: this.done?.etag,
      location: this.done?.location,
      notice: this.retryNotice ?? this.notice,
      error: this.state === 'failed' ? this.error : undefined,
      retryAttempt: this.state === 'retrying' ? this.retryAttempt : undefined,
      media: this.media,
      thumbnailPath: this.thumbnailPath,
      thumbnailKey: this.thumbnailKey,
      resumed: this.resumed,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      completedAt: this.completedAt,
    }
  }

  private bytesSent(): number {
    if (this.state === 'done') return this.size
    if (this.plan?.single) return this.singleSent
    let sum = 0
    for (const p of this.parts) sum += p.status === 'done' ? p.size : p.sent
    return sum
  }

  private setState(state: UploadState, kind?: 'completed' | 'failed' | 'cancelled') {
    this.state = state
    if (state !== 'retrying' && state !== 'preparing' && state !== 'completing') {
      this.retryNotice = undefined
    }
    this.updatedAt = this.ctx.clock.now()
    this.lastEmit = this.updatedAt
    this.ctx.emit(this, kind)
  }

  private progressed() {
    const now = this.ctx.clock.now()
    this.speed.sample(this.bytesSent(), now)
    if (now - this.lastEmit >= PROGRESS_EMIT_MS) {
      this.lastEmit = now
      this.updatedAt = now
      this.ctx.emit(this)
    }
  }

  // ------------------------------------------------------------------ scheduling (engine side)

  /** Parts that could start now (pending and not waiting out a retry delay). */
  readyParts(now: number): number {
    if (this.state !== 'uploading' && this.state !== 'retrying') return 0
    if (this.plan?.single)
      return this.parts[0]?.status === 'pending' && this.parts[0].notBefore <= now ? 1 : 0
    let n = 0
    for (const p of this.parts) if (p.status === 'pending' && p.notBefore <= now) n++
    return n
  }

  /** Starts the next ready part, if any; resolves when that part settles. */
  startNextPart(now: number): Promise<void> | undefined {
    if (this.state !== 'uploading' && this.state !== 'retrying') return undefined
    const part = this.parts.find((p) => p.status === 'pending' && p.notBefore <= now)
    if (!part || !this.run) return undefined
    part.status = 'sending'
    part.sent = 0
    return this.plan!.single ? this.sendSingle(part, this.run) : this.sendPart(part, this.run)
  }

  /** Earliest time a waiting part becomes ready (for the scheduler's timer). */
  nextWake(): number | undefined {
    let min: number | undefined
    for (const p of this.parts) {
      if (p.status === 'pending' && (min === undefined || p.notBefore < min)) min = p.notBefore
    }
    return min
  }

  // ------------------------------------------------------------------ controls

  /** Back to the queue (resume after pause, retry after failure). */
  requeue(): void {
    if (this.state !== 'paused' && this.state !== 'failed') return
    this.error = undefined
    this.retryAttempt = 0
    for (const p of this.parts) {
      p.attempts = 0
      p.best = 0
      p.notBefore = 0
    }
    this.setState('queued')
    this.ctx.wake()
  }

  /** Stops scheduling, aborts in-flight requests, keeps everything (journal, server parts). */
  async pause(): Promise<void> {
    if (!['queued', 'preparing', 'uploading', 'retrying'].includes(this.state)) return
    // Only a run holding the record's locks writes to it.
    const held = !!this.run?.release
    await this.stopRun()
    this.speed.reset()
    this.setState('paused')
    if (held && this.record) {
      await this.ctx.journal.setStatus(this.recordId, { status: 'paused' }).catch(() => undefined)
    }
  }

  /**
   * Cancelled at once, the server told after: the row turns 'cancelled' and its record is marked
   * so (journaled, so a quit or crash cannot lose it) before this returns; aborting the multipart
   * upload, confirming the server no longer has it and forgetting the record follow in the
   * background (settleCancel), where a dead network cannot hold the creator up. If that cannot be
   * done now, the marked record stays and the next engine of this destination to start, or the
   * network coming back (retryNow), finishes it. Throws when the upload lives at another
   * destination or another process drives it (nothing is changed then).
   */
  async cancel(): Promise<void> {
    if (this.state === 'done' || this.state === 'cancelled') return
    if (this.state === 'completing') {
      throw new UploadError({
        code: 'Completing',
        message: 'This upload is finishing and can no longer be cancelled.',
      })
    }
    const foreign = this.record && this.record.destination.id !== this.ctx.store.destinationId
    if (foreign && (this.record!.uploadId || this.record!.partCount > 1)) {
      // Its upload lives at the other destination, which this store cannot reach: forgetting
      // the record would orphan it there.
      throw new UploadError({
        code: 'DestinationChanged',
        message: `This upload was started to ${this.record!.destination.label}, not the destination set now. Switch back to that destination to cancel or remove it; its record is kept so nothing is left behind there.`,
      })
    }
    const run = this.run
    let release: (() => Promise<void>) | undefined
    if (run && !run.preparing) {
      // Its locks go to the cancel, not back to the folder: no one can take the record between.
      release = run.release
      run.release = undefined
    } else if (!run && this.record) {
      // Not running: the record may be another process's right now (this row failed on its
      // lock). Only its holder may cancel it.
      try {
        release = await this.ctx.journal.lock(this.recordId)
      } catch (e) {
        this.error = errorInfo(e, 'Could not cancel the upload')
        this.setState('failed', 'failed')
        throw e
      }
    }
    await this.stopRun()
    // A run stopped while preparing keeps the locks until its preparation ends (a
    // CreateMultipartUpload on its way runs to its answer, and is journaled): the server side
    // waits for it, and marks the record then if it cannot now.
    const held = release ?? (run?.preparing ? run.release : undefined)
    const hadRecord = !!this.record
    this.record = undefined
    this.speed.reset()
    // Before the mark: a preparation journaling its upload meanwhile marks it too (journalStopped).
    this.setState('cancelled', 'cancelled')
    if (hadRecord && held) await this.markCancelled()
    this.startSettling(run?.preparing ? this.preparation : undefined, release)
  }

  /**
   * A cancel whose server side could not be done (offline, a refusal): tried again now (the
   * network is back). Resolves with whether the server holds nothing of it any more.
   */
  retryCancel(): Promise<boolean> | undefined {
    if (this.state !== 'cancelled' || this.cancelling || !this.cancelPending) return undefined
    return this.startSettling(undefined, undefined)
  }

  /** The cancel's server side did not finish: the record stays marked for a later try. */
  private cancelPending = false

  /** Resolves once the cancel's server side has been tried: true when nothing is left. */
  get cancelOutcome(): Promise<boolean> {
    return this.cancelling ?? Promise.resolve(!this.cancelPending)
  }

  private startSettling(
    after: Promise<void> | undefined,
    release: (() => Promise<void>) | undefined,
  ): Promise<boolean> {
    const settling = this.settleCancel(after, release).then((ok) => {
      this.cancelPending = !ok
      this.cancelling = undefined
      this.ctx.emit(this)
      return ok
    })
    this.cancelling = settling
    this.ctx.track(settling)
    return settling
  }

  /** Marks the record cancelled (a local append), if it is on disk. Best effort. */
  private async markCancelled(): Promise<void> {
    const journal = this.ctx.journal
    try {
      const on = await journal.load(this.recordId)
      if (on && on.record.status !== 'cancelled') {
        await journal.setStatus(this.recordId, { status: 'cancelled' })
      }
    } catch (e) {
      this.ctx.log(`upload ${this.id}: could not mark the record cancelled: ${String(e)}`)
    }
  }

  /**
   * The server side of a cancel, under the record's lock: abort the multipart upload (or, when
   * its CreateMultipartUpload never answered, what it opened under the key), confirm it is gone,
   * forget the record. Retried like any request but not waiting for the network, and stopped by
   * close: what cannot be done now stays in the marked record (UploadEngine.settleCancelled).
   */
  private async settleCancel(
    after: Promise<void> | undefined,
    release: (() => Promise<void>) | undefined,
  ): Promise<boolean> {
    const journal = this.ctx.journal
    try {
      await after
      release ??= await journal.lock(this.recordId)
    } catch (e) {
      // Another process took the record over meanwhile: it is that one's to drive or cancel.
      this.ctx.log(`upload ${this.id}: cancel left to the process holding it: ${String(e)}`)
      return false
    }
    try {
      const record = (await journal.load(this.recordId))?.record
      if (!record) return true
      if (record.destination.id !== this.ctx.store.destinationId) return false
      if (record.status !== 'cancelled') {
        await journal.setStatus(this.recordId, { status: 'cancelled' })
      }
      const signal = this.ctx.closing
      if (record.uploadId) {
        const target = { key: record.key, uploadId: record.uploadId }
        await this.withRetries(
          'AbortMultipartUpload',
          signal,
          () => this.ctx.store.abort(target, signal),
          { background: true },
        )
        await this.confirmGone(target)
      } else if (record.partCount > 1) {
        // Cancelled while CreateMultipartUpload was on its way: the server may have opened one.
        await this.abortStrays(record.key, undefined, record.createdAt, signal, true)
      }
      await journal.remove(this.recordId)
      this.notice = undefined
      return true
    } catch (e) {
      const why = isAbortError(e) ? 'Upreel was closing' : errorInfo(e).message
      this.ctx.log(`upload ${this.id}: cancel on the server not done: ${why}`)
      this.notice = `Cancelled, but what was already sent could not be deleted from the storage yet (${clause(why)}). Upreel tries again when the network is back and each time it starts.`
      return false
    } finally {
      await release().catch(() => undefined)
    }
  }

  /** ListParts must now answer NoSuchUpload: nothing of this upload is left on the server. */
  private async confirmGone(target: MultipartTarget): Promise<void> {
    try {
      const parts = await this.ctx.store.listParts(target)
      // Swift answers ListParts of a *completed* upload with 200; an aborted one is gone.
      throw new UploadError({
        code: 'AbortNotConfirmed',
        message: `The storage still lists ${parts.length} part(s) of the cancelled upload; it will be cleaned up by "Clean up incomplete uploads".`,
      })
    } catch (e) {
      if (isUploadError(e) && (e.code === 'NoSuchUpload' || e.code === 'ListPartsFailed')) return
      throw e
    }
  }

  /** Called when the engine closes: like pause, but the journal keeps 'active' → shows as interrupted. */
  async detach(): Promise<void> {
    if (this.isActive || this.state === 'queued') {
      await this.stopRun()
      if (this.state !== 'completing') this.setState('paused')
    }
  }

  private async stopRun() {
    const run = this.run
    this.run = undefined
    if (!run) return
    run.controller.abort()
    for (const p of this.parts) {
      if (p.status === 'sending') {
        p.status = 'pending'
        p.sent = 0
      }
    }
    if (this.plan?.single) this.singleSent = 0
    // A preparation gives its locks back itself when it ends (see Run.preparing).
    if (!run.preparing) await giveBack(run)
  }

  private async fail(e: unknown) {
    const run = this.run
    this.run = undefined
    run?.controller.abort()
    for (const p of this.parts) {
      if (p.status === 'sending') {
        p.status = 'pending'
        p.sent = 0
      }
    }
    this.error = errorInfo(e)
    this.ctx.log(`upload ${this.id} failed: ${this.error.code}: ${this.error.detail ?? ''}`)
    this.speed.reset()
    // Only the lock holder writes the record (a row that failed on another process's lock must
    // not mark that process's upload as failed).
    if (this.record && run?.release) {
      await this.ctx.journal
        .setStatus(this.recordId, {
          status: 'failed',
          error: { code: this.error.code, message: this.error.message },
        })
        .catch(() => undefined)
    }
    if (run) await giveBack(run)
    this.setState('failed', 'failed')
  }

  // ------------------------------------------------------------------ prepare

  /**
   * Locks, checks the source, resumes or creates the upload. Leaves state 'uploading' or failed.
   *
   * Runs of one file never overlap. A run paused, cancelled or closed while preparing cannot be
   * cut short everywhere (a CreateMultipartUpload in flight runs to its answer: an upload opened
   * on the server must be known), so it keeps the locks until its preparation ends, and this
   * one waits for it. Otherwise a Resume right after a Pause would start beside the old run, take
   * the upload it is creating for a stray, and upload the file twice.
   */
  async prepare(): Promise<void> {
    if (this.state !== 'queued') return
    const run: Run = { controller: new AbortController(), preparing: true }
    this.run = run
    this.notice = undefined
    this.setState('preparing')
    const previous = this.preparation
    const current = this.doPrepare(run, previous)
    this.preparation = current.catch(() => undefined)
    await current
  }

  private async doPrepare(run: Run, previous: Promise<void>): Promise<void> {
    try {
      await previous
      if (this.run !== run) return
      // The file's lock too, before any record exists: two processes given this file at once
      // (neither seeing the other's record yet) must not start two uploads of it.
      run.release = await this.ctx.journal.lockUpload(this.recordId, {
        path: this.path,
        destinationId: this.ctx.store.destinationId,
      })
      if (this.run !== run) return
      const hadRecord = !!this.record
      let record = await this.latestRecord(run)
      const stat = await this.statSource()
      if (this.run !== run) return
      this.size = stat.size
      if (!record && (hadRecord || this.contended)) {
        // Its record is gone, or another process was sending this file: that one may have
        // finished it meanwhile. Then the file is where it should be; don't send it again.
        const earlier = await this.completedElsewhere(stat)
        if (this.run !== run) return
        if (earlier) {
          this.doneElsewhere(earlier)
          return
        }
        if (hadRecord) {
          this.notice =
            'The earlier upload of this file was cancelled or cleaned up by another Upreel process, so it is uploading from the beginning.'
        }
      }
      this.record = record
      if (!record) this.parts = []
      const plan = this.planFor(stat.size, record?.partSize ?? this.ctx.preferredPartSize)
      if (record) record = await this.resumeRecord(record, stat, run.controller.signal)
      if (this.run !== run) return
      if (!record) record = await this.freshRecord(stat, plan, run.controller.signal)
      if (this.run !== run) return
      this.record = record
      this.plan =
        record.partSize === plan.partSize ? plan : this.planFor(stat.size, record.partSize)
      if (this.parts.length !== this.plan.partCount) this.restorePartsFromRecord(record)
      await this.ctx.journal.setStatus(this.recordId, { status: 'active' })
      this.startThumbnail()
      this.setState('uploading')
      if (this.completedEarlier) {
        await this.finish(run, this.completedEarlier)
        return
      }
      this.maybeComplete()
    } catch (e) {
      if (this.run !== run || isAbortError(e)) return
      if (isUploadError(e) && e.code === 'Locked') this.contended = true
      await this.fail(e)
    } finally {
      run.preparing = false
      // Stopped meanwhile (or done, failed): nothing of this run goes on, its locks go back.
      if (this.run !== run) await giveBack(run).catch(() => undefined)
      this.ctx.wake()
    }
  }

  /**
   * The journal's word on this file, read under its locks: another process may have driven the
   * record until now, finished it (the record is gone), or, given the file at the same moment as
   * this row, recorded it under its own id. That record is taken over (its process has stopped:
   * this one holds the file's lock), so Retry continues its upload instead of sending a copy.
   */
  private async latestRecord(run: Run): Promise<JournalRecord | undefined> {
    const journal = this.ctx.journal
    const own = await journal.load(this.recordId)
    if (own) return own.record
    const destinationId = this.ctx.store.destinationId
    const other = (await journal.list()).find(
      (r) =>
        r.source.path === this.path &&
        r.destination.id === destinationId &&
        r.status !== 'cancelled' &&
        !this.ctx.claimed(r.id, this),
    )
    if (!other) return undefined
    const releaseOther = await journal.lock(other.id)
    const releaseOwn = run.release
    run.release = async () => {
      await releaseOther()
      await releaseOwn?.()
    }
    this.recordId = other.id
    this.resumed = true
    this.ctx.log(`upload ${this.id}: continuing upload ${other.id} another process left`)
    return (await journal.load(other.id))?.record
  }

  /**
   * This file, as it is now, uploaded to this destination by another process (or row) since this
   * row was added, or as the record this row was driving.
   */
  private async completedElsewhere(stat: { size: number }): Promise<HistoryRecord | undefined> {
    const destinationId = this.ctx.store.destinationId
    const candidates = (await this.ctx.journal.history().catch(() => [])).filter(
      (h) =>
        h.path === this.path &&
        h.destinationId === destinationId &&
        h.size === stat.size &&
        (h.id === this.recordId || h.completedAt >= this.createdAt),
    )
    if (candidates.length === 0) return undefined
    const fingerprint = await this.fingerprint(stat.size)
    return candidates.reverse().find((h) => h.fingerprint === fingerprint)
  }

  /** Shown as done: the video is stored already (completedElsewhere). */
  private doneElsewhere(h: HistoryRecord) {
    this.record = undefined
    this.plan = undefined
    this.parts = []
    this.done = { key: h.key, bucket: h.bucket, etag: h.etag, location: h.location }
    this.thumbnailKey = h.thumbnailKey
    this.notice = 'Another Upreel process uploaded this file meanwhile, so it was not sent again.'
    this.run = undefined
    this.completedAt = h.completedAt
    this.speed.reset()
    this.setState('done', 'completed')
  }

  private async statSource() {
    let stat
    try {
      stat = await this.ctx.files.stat(this.path)
    } catch (e) {
      throw fsError(e)
    }
    if (!stat.isFile) {
      throw sourceError(
        'NotAFile',
        'This is not a regular file (a folder, device or link), so it cannot be uploaded.',
      )
    }
    if (stat.size === 0) {
      throw sourceError(
        'FileEmpty',
        'This file is empty (0 bytes). It may still be exporting, or the export failed; re-export it and add it again.',
      )
    }
    const limit = this.ctx.maxFileSize
    if (limit !== undefined && stat.size > limit) {
      throw sourceError(
        'OverSizeLimit',
        `This file is ${formatBytes(stat.size)}, over the ${formatBytes(limit)} limit set for uploads. Raise the limit in Settings (or --max-file-size), or export a smaller file.`,
      )
    }
    try {
      const f = await this.ctx.files.open(this.path)
      await f.close()
    } catch (e) {
      throw fsError(e)
    }
    return stat
  }

  /** The journal's record checked against the file and the server; undefined = start over. */
  private async resumeRecord(
    record: JournalRecord,
    stat: { size: number; mtimeMs: number },
    signal: AbortSignal,
  ): Promise<JournalRecord | undefined> {
    const store = this.ctx.store
    if (record.destination.id !== store.destinationId) {
      throw new UploadError({
        code: 'DestinationChanged',
        message: `This upload was started to ${record.destination.label}, not the destination set now. Switch back to resume it, or remove it and add the file again.`,
      })
    }
    const target = record.uploadId ? { key: record.key, uploadId: record.uploadId } : undefined
    let restart: string | undefined
    if (record.status === 'cancelled') {
      // Cancelled by another process (`upreel abort`) that could not reach the storage: Retry
      // here finishes that cancel, then uploads the file afresh.
      restart =
        'The earlier upload of this file was cancelled in another Upreel process, so it is uploading again from the beginning.'
    } else {
      let changed: string | undefined
      if (stat.size !== record.source.size) changed = 'its size changed'
      else if (stat.mtimeMs !== record.source.mtimeMs) changed = 'it was modified'
      else if ((await this.fingerprint(stat.size)) !== record.source.fingerprint) {
        changed = 'its content changed'
      }
      if (changed) {
        restart = `The file changed since the upload started (${changed}), so it is uploading again from the beginning.`
      }
    }
    if (restart) {
      this.notice = restart
      // Aborted by a pause or close while it waits for the network: the record stays, so the
      // next run tries the abort again.
      if (target) await this.abortQuietly(target, signal)
      else if (record.partCount > 1) {
        await this.abortStrays(record.key, undefined, record.createdAt, signal)
      }
      await this.ctx.journal.remove(this.recordId)
      this.record = undefined
      this.parts = []
      return undefined
    }
    if (record.partCount > 1 && !target) {
      // Crashed (or paused) between journaling the record and CreateMultipartUpload's answer:
      // abort any upload the server opened under this key since, then start over.
      await this.abortStrays(record.key, undefined, record.createdAt, signal)
      return undefined
    }
    if (!target) return undefined // single request: nothing on the server to continue
    // Every part journaled: the process may have died right after CompleteMultipartUpload. A
    // backend cannot be asked for the object (no headObject) and answers a listing of a
    // completed upload with 404, which would start a duplicate: complete first (a repeated
    // complete gets its first answer again from the reference backend; S3 just completes).
    const completed = await this.completeFromJournal(record, target, signal)
    if (completed) {
      this.completedEarlier = completed
      return record
    }
    let remote: RemotePart[] | undefined
    let gone: 'missing' | 'unlisted' = 'missing'
    const listingSince = this.ctx.clock.now()
    try {
      // Retried like every request, waiting while the network is down (a reboot before Wi-Fi).
      remote = await this.withRetries('ListParts', signal, () => store.listParts(target, signal))
    } catch (e) {
      if (isAbortError(e) || signal.aborted) throw e
      if (!isUploadError(e)) throw e
      if (e.code === 'ListPartsFailed') {
        // Companion answers every S3 error with one generic 500. Still failing after the whole
        // retry budget, the old upload is most likely gone (expired, cleaned up): abort it as
        // best we can so nothing is left behind, then start over.
        gone = 'unlisted'
        await this.abortQuietly(target, signal)
      } else if (e.code !== 'NoSuchUpload') throw e
    }
    if (!remote) {
      // Gone because it was completed: the process died after CompleteMultipartUpload and before
      // the journal was cleared. The object says so; don't upload it all again.
      if (gone === 'missing' && record.parts.length === record.partCount && store.headObject) {
        const head = await store.headObject(record.key, signal).catch(() => undefined)
        if (head?.etag && head.etag === multipartEtag(record.parts.map((p) => p.md5))) {
          this.completedEarlier = { key: record.key, bucket: record.bucket, etag: head.etag }
          return record
        }
      }
      if (gone === 'unlisted') {
        const seconds = Math.round((this.ctx.clock.now() - listingSince) / 1000)
        this.ctx.log(
          `upload ${this.id}: ListParts answered the generic 500 ${this.ctx.retry.maxAttempts} times over ${seconds} s; taken as gone`,
        )
      }
      this.notice =
        gone === 'missing'
          ? 'The storage no longer had the earlier upload (it expired or was cleaned up), so it is uploading again from the beginning.'
          : 'The upload server could not find what was already sent of this file (most likely it expired), so Upreel is uploading the file again from the beginning.'
      await this.ctx.journal.remove(this.recordId)
      this.record = undefined
      this.parts = []
      return undefined
    }
    return this.reconcile(record, remote, signal)
  }

  /**
   * ListParts is the truth. A journaled part the server lacks is sent again; a server part the
   * journal lacks (the process died between the PUT and the journal append) is adopted only if its
   * ETag equals the MD5 of the same local byte range.
   */
  private async reconcile(
    record: JournalRecord,
    remote: { partNumber: number; etag: string; size: number }[],
    signal: AbortSignal,
  ): Promise<JournalRecord> {
    const plan = planParts(record.source.size, record.partSize)
    const local = new Map(record.parts.map((p) => [p.n, p]))
    const kept: JournalRecord['parts'] = []
    const adopted: JournalRecord['parts'] = []
    for (const r of remote) {
      if (r.partNumber < 1 || r.partNumber > plan.partCount) continue
      const expected = partRange(plan, r.partNumber).length
      if (r.size !== expected) continue
      const l = local.get(r.partNumber)
      if (l && l.etag === r.etag) {
        kept.push(l)
        continue
      }
      if (!/^[0-9a-f]{32}$/.test(r.etag)) continue
      const md5 = await this.md5OfRange(plan, r.partNumber, signal)
      if (md5 === r.etag) adopted.push({ n: r.partNumber, etag: r.etag, md5, size: r.size })
    }
    const next: JournalRecord = {
      ...record,
      parts: [...kept, ...adopted].sort((a, b) => a.n - b.n),
      updatedAt: this.ctx.clock.now(),
    }
    // Rewriting also compacts a log whose tail a crash tore.
    await this.ctx.journal.write(next)
    this.restorePartsFromRecord(next)
    if (adopted.length)
      this.ctx.log(`upload ${this.id}: adopted parts ${adopted.map((p) => p.n).join(',')}`)
    return next
  }

  /**
   * Completes an upload whose every part is journaled, before anything else asks the server
   * about it. Undefined when that is not possible here: the server no longer knows the upload,
   * or refuses the parts (a journaled part it lost), or answers Companion's generic 500 (which
   * can mean either); the listing then sorts it out. The returned ETag is checked as usual.
   */
  private async completeFromJournal(
    record: JournalRecord,
    target: MultipartTarget,
    signal: AbortSignal,
  ): Promise<FileUpload['completedEarlier']> {
    const parts = [...record.parts].sort((a, b) => a.n - b.n)
    if (parts.length !== record.partCount || parts.some((p, i) => p.n !== i + 1)) return undefined
    let done
    try {
      done = await this.withRetries(
        'CompleteMultipartUpload',
        signal,
        () =>
          this.ctx.store.complete(
            target,
            parts.map((p) => ({ partNumber: p.n, etag: p.etag })),
            signal,
          ),
        { stopIf: (e) => isUploadError(e) && e.code === 'BackendStorageError' },
      )
    } catch (e) {
      if (isAbortError(e) || signal.aborted) throw e
      if (isUploadError(e) && (!e.retryable || e.code === 'BackendStorageError')) {
        this.ctx.log(`upload ${this.id}: completing from the journal failed (${e.code}); listing`)
        return undefined
      }
      throw e
    }
    this.checkCompleteEtag(done, multipartEtag(parts.map((p) => p.md5)), parts)
    return { ...done, bucket: done.bucket || record.bucket }
  }

  private async freshRecord(
    stat: { size: number; mtimeMs: number },
    plan: PartPlan,
    signal: AbortSignal,
  ): Promise<JournalRecord> {
    const ctx = this.ctx
    const fingerprint = await this.fingerprint(stat.size)
    const metadata: Record<string, string> = {
      'original-filename': encodeMetadataValue(basename(this.path)),
    }
    for (const [k, v] of Object.entries(this.extraMetadata)) metadata[k] = encodeMetadataValue(v)
    if (ctx.media) {
      try {
        this.media = await ctx.media.probe(this.path, signal)
        this.ctx.emit(this)
        Object.assign(metadata, mediaMetadata(this.media))
      } catch (e) {
        if (isAbortError(e)) throw e
        // The file itself is not a usable video: refuse it before anything is created on the
        // server. A missing ffmpeg or a slow probe is Upreel's problem, not the file's: upload
        // anyway, without the metadata.
        if (ctx.requireVideo && isUploadError(e) && REFUSING_PROBE_CODES.has(e.code)) throw e
        this.media = undefined
        if (isUploadError(e)) this.notice = `Uploading without video details: ${e.message}`
      }
    }
    const key = renderKey(ctx.keyTemplate, {
      filename: basename(this.path),
      relativeDir: this.relativeDir,
      now: new Date(ctx.clock.now()),
    })
    const now = ctx.clock.now()
    let record: JournalRecord = {
      v: 1,
      id: this.recordId,
      source: { path: this.path, size: stat.size, mtimeMs: stat.mtimeMs, fingerprint },
      relativeDir: this.relativeDir,
      destination: {
        id: ctx.store.destinationId,
        label: ctx.store.label,
        connection: ctx.store.connection,
      },
      bucket: '',
      key,
      partSize: plan.partSize,
      partCount: plan.partCount,
      contentType: contentTypeFor(this.path, this.media?.container),
      metadata,
      options: ctx.objectOptions,
      media: this.media,
      status: 'active',
      parts: [],
      createdAt: this.createdAt,
      updatedAt: now,
    }
    // Journal before CreateMultipartUpload: a crash in between leaves a record whose key lets
    // the next run find and abort what the server opened (see resumeRecord).
    signal.throwIfAborted()
    await ctx.journal.write(record)
    // Known from here on, so a pause or cancel during CreateMultipartUpload finds and cleans it.
    if (!signal.aborted) this.record = record
    if (!plan.single) {
      // An attempt that got no error answer (connection cut, answer lost) may still have opened
      // an upload on the server whose id we never learnt: remember it, and clean up below.
      let unanswered = false
      const created = await this.withRetries('CreateMultipartUpload', signal, async () => {
        try {
          return await ctx.store.createMultipart(
            {
              key,
              filename: basename(this.path),
              contentType: record.contentType,
              metadata,
              size: stat.size,
              options: ctx.objectOptions,
            },
            // Not aborted by pause or cancel: a create cut off mid-flight may still open an upload
            // on the server whose id we would never learn. It runs to its answer (bounded by the
            // request timeout) and the outcome is handled below.
          )
        } catch (e) {
          if (!(isUploadError(e) && (e.status ?? 0) >= 400)) unanswered = true
          throw e
        }
      })
      record = { ...record, key: created.key, bucket: created.bucket, uploadId: created.uploadId }
      if (signal.aborted) {
        // Stopped (pause, cancel, close) while the create was on its way. This run still holds
        // the locks and the next one waits for it (prepare), so journaling the upload overlaps
        // nothing: a resume continues it, a cancel aborts it (settleCancel, after this). The
        // row itself has moved on: its record is read again from the journal.
        await this.journalStopped(record, unanswered ? now : undefined)
        signal.throwIfAborted()
      }
      await ctx.journal.write(record)
      this.record = record
      if (unanswered) await this.abortStrays(created.key, created.uploadId, now, signal)
      signal.throwIfAborted()
    }
    this.parts = []
    this.restorePartsFromRecord(record)
    return record
  }

  /**
   * The upload a stopped run's CreateMultipartUpload opened, made known: journaled, or aborted
   * if even that fails. `straysSince`: an earlier attempt got no answer, so it may have opened
   * another one under the key (abortStrays), cleaned up as far as can be without waiting.
   */
  private async journalStopped(record: JournalRecord, straysSince: number | undefined) {
    const target = { key: record.key, uploadId: record.uploadId! }
    const status = this.state === 'cancelled' ? 'cancelled' : record.status
    try {
      await this.ctx.journal.write({ ...record, status })
    } catch (e) {
      this.ctx.log(`upload ${this.id}: could not journal upload ${target.uploadId}: ${String(e)}`)
      await this.withRetries(
        'AbortMultipartUpload',
        this.ctx.closing,
        () => this.ctx.store.abort(target, this.ctx.closing),
        { background: true },
      ).catch((err: unknown) => this.ctx.log(`could not abort ${target.uploadId}: ${String(err)}`))
      return
    }
    if (straysSince !== undefined) {
      await this.abortStrays(
        record.key,
        target.uploadId,
        straysSince,
        this.ctx.closing,
        true,
      ).catch((e: unknown) => this.ctx.log(`strays under ${record.key} left: ${String(e)}`))
    }
  }

  /**
   * The part plan, with files of one part sent as one-part multipart uploads when the store asks
   * for it (ObjectStore.multipartOnly): journaled and retried request by request like big files.
   */
  private planFor(size: number, partSize: number): PartPlan {
    const plan = planParts(size, partSize)
    return plan.single && this.ctx.store.multipartOnly ? { ...plan, single: false } : plan
  }

  private restorePartsFromRecord(record: JournalRecord) {
    const plan = planParts(record.source.size, record.partSize)
    const done = new Map(record.parts.map((p) => [p.n, p]))
    this.parts = []
    for (let n = 1; n <= plan.partCount; n++) {
      const d = done.get(n)
      this.parts.push({
        n,
        size: partRange(plan, n).length,
        status: d ? 'done' : 'pending',
        sent: 0,
        attempts: 0,
        best: 0,
        notBefore: 0,
        etag: d?.etag,
        md5: d?.md5,
      })
    }
  }

  private fingerprint(size: number) {
    return fingerprintWith(this.ctx.files, this.path, size).catch((e: unknown) => {
      throw fsError(e)
    })
  }

  private async md5OfRange(plan: PartPlan, n: number, signal: AbortSignal): Promise<string> {
    const { start, length } = partRange(plan, n)
    const buf = this.ctx.takeBuffer(plan.partSize)
    try {
      const view = await this.readRange(buf, start, length)
      signal.throwIfAborted()
      return createHash('md5').update(view).digest('hex')
    } finally {
      this.ctx.giveBuffer(buf)
    }
  }

  private async readRange(buf: Buffer, start: number, length: number): Promise<Buffer> {
    let file
    try {
      file = await this.ctx.files.open(this.path)
    } catch (e) {
      throw fsError(e)
    }
    try {
      let got = 0
      while (got < length) {
        const n = await file.read(buf, got, length - got, start + got)
        if (n === 0) {
          throw sourceError(
            'SourceChanged',
            'The file changed while it was uploading (it got shorter: is it still being written?). Retry once it is finished.',
          )
        }
        got += n
      }
      return buf.subarray(0, length)
    } catch (e) {
      throw isUploadError(e) ? e : fsError(e)
    } finally {
      await file.close()
    }
  }

  /**
   * The source must be the file the record describes: before each part is read, after the read
   * (before its bytes are sent) and before Complete. Size and mtime only: the fingerprint is
   * checked when an upload resumes.
   */
  private async checkSourceUnchanged() {
    let stat
    try {
      stat = await this.ctx.files.stat(this.path)
    } catch (e) {
      throw fsError(e)
    }
    const rec = this.record!
    if (stat.size !== rec.source.size || stat.mtimeMs !== rec.source.mtimeMs) {
      throw sourceError(
        'SourceChanged',
        `The file changed while it was uploading (${stat.size !== rec.source.size ? 'its size changed' : 'it was modified'}). Retry to upload the new version from the beginning.`,
      )
    }
  }

  // ------------------------------------------------------------------ transfer

  private async sendPart(part: PartState, run: NonNullable<typeof this.run>): Promise<void> {
    const ctx = this.ctx
    const plan = this.plan!
    const record = this.record!
    const signal = run.controller.signal
    const { start, length } = partRange(plan, part.n)
    const buf = ctx.takeBuffer(plan.partSize)
    try {
      await this.checkSourceUnchanged()
      const body = await this.readRange(buf, start, length)
      // Again after the read: a rewrite between the check above and the read would put new
      // bytes beside old ones in one object, every part's checksum matching what was sent.
      await this.checkSourceUnchanged()
      const md5 = createHash('md5').update(body).digest()
      const md5Hex = md5.toString('hex')
      const target = { key: record.key, uploadId: record.uploadId! }
      const signed = await ctx.store.signPart(target, part.n, signal)
      const { etag, encryption } = await putPart({
        url: signed.url,
        headers: signed.headers,
        body,
        md5Base64: md5.toString('base64'),
        signal,
        partNumber: part.n,
        resign: () => ctx.store.signPart(target, part.n, signal),
        pace: (bytes, s) => ctx.pace(bytes, s),
        onProgress: (sent) => {
          if (this.run !== run) return
          part.sent = sent
          this.progressed()
        },
      })
      this.checkEtag(etag, md5Hex, part.n, encryption)
      if (this.run !== run) return // paused meanwhile: the next reconcile adopts this part
      await ctx.journal.appendPart(this.recordId, { n: part.n, etag, md5: md5Hex, size: length })
      part.status = 'done'
      part.etag = etag
      part.md5 = md5Hex
      part.attempts = 0
      part.best = 0
      this.retryNotice = undefined
      if (this.state === 'retrying') this.setState('uploading')
      this.progressed()
      this.maybeComplete()
    } catch (e) {
      await this.partFailed(part, run, e)
    } finally {
      ctx.giveBuffer(buf)
    }
  }

  /** Files of one part or less: one PutObject (lib-storage) with Content-MD5. */
  private async sendSingle(part: PartState, run: NonNullable<typeof this.run>): Promise<void> {
    const ctx = this.ctx
    const record = this.record!
    const buf = ctx.takeBuffer(this.plan!.partSize)
    try {
      await this.checkSourceUnchanged()
      const body = await this.readRange(buf, 0, record.source.size)
      await this.checkSourceUnchanged()
      const md5 = createHash('md5').update(body).digest()
      const done = await ctx.store.putSmall({
        key: record.key,
        filename: basename(this.path),
        contentType: record.contentType,
        metadata: record.metadata,
        path: this.path,
        size: record.source.size,
        md5Base64: md5.toString('base64'),
        options: record.options,
        signal: run.controller.signal,
        onProgress: (sent) => {
          if (this.run !== run) return
          this.singleSent = sent
          this.progressed()
        },
      })
      if (done.etag) this.checkEtag(done.etag, md5.toString('hex'), 1, done.encryption)
      if (this.run !== run) return
      this.retryNotice = undefined
      part.status = 'done'
      part.etag = done.etag
      part.md5 = md5.toString('hex')
      await this.finish(run, done)
    } catch (e) {
      await this.partFailed(part, run, e)
    } finally {
      ctx.giveBuffer(buf)
    }
  }

  /** An ETag that is an MD5 must be the MD5 we computed (servers that ignore Content-MD5). */
  private checkEtag(etag: string, md5Hex: string, n: number, encryption?: string) {
    if (!this.etagIsMd5(encryption) || !/^[0-9a-f]{32}$/.test(etag) || etag === md5Hex) return
    throw new UploadError({
      code: 'IntegrityMismatch',
      message: `The storage stored different bytes than were sent for part ${n} (checksum mismatch).`,
      retryable: true,
      operation: 'UploadPart',
      partNumber: n,
    })
  }

  /**
   * The object's ETag after CompleteMultipartUpload must be md5(concat(part MD5s))-N. Not when
   * parts were accepted with ETags that are not their MD5s (SSE-KMS said so on the PUT): the
   * object's ETag is not built from MD5s either.
   */
  private checkCompleteEtag(
    done: CompletedObject,
    expected: string,
    parts: readonly { etag?: string; md5?: string }[],
  ) {
    const md5Etags = parts.every((p) => p.etag === p.md5)
    if (
      md5Etags &&
      this.etagIsMd5(done.encryption) &&
      done.etag &&
      /-\d+$/.test(done.etag) &&
      done.etag !== expected
    ) {
      throw new UploadError({
        code: 'IntegrityMismatch',
        message: `The stored video does not match the file (ETag ${done.etag}, expected ${expected}). Do not rely on it: retry the upload.`,
        operation: 'CompleteMultipartUpload',
      })
    }
  }

  /**
   * With SSE-KMS or SSE-C the ETag is not the MD5 of the data; Content-MD5 still guards every
   * byte. Known from the options the upload was created with (the journaled ones: today's setting
   * may differ on a resume) and from what the storage says it applied (`encryption`: a bucket
   * encrypted by default with SSE-KMS, which a backend-mode client cannot know beforehand).
   */
  private etagIsMd5(encryption?: string) {
    const sse = (this.record?.options ?? this.ctx.objectOptions).sse
    return etagIsContentMd5(sse) && etagIsContentMd5(encryption)
  }

  private async partFailed(part: PartState, run: NonNullable<typeof this.run>, e: unknown) {
    if (this.run !== run || isAbortError(e)) {
      if (part.status === 'sending') part.status = 'pending'
      part.sent = 0
      return
    }
    // How far this attempt got: an attempt that got further than every earlier one resets the
    // count ("reset whenever bytes move"), one that got no further counts.
    const progress = this.plan?.single ? this.singleSent : part.sent
    part.status = 'pending'
    part.sent = 0
    if (this.plan?.single) this.singleSent = 0
    const count = countFailure(part, progress)
    part.attempts = count.attempts
    part.best = count.best
    const verdict = classify(e, part.attempts, this.ctx.retry)
    if (verdict === 'fail') {
      // A failed file keeps its multipart upload and journal record, so Retry continues it;
      // Remove (or Cancel) aborts it on the server.
      await this.fail(gaveUp(e, part.attempts))
      return
    }
    const now = this.ctx.clock.now()
    const delay =
      verdict === 'wait-network'
        ? this.ctx.retry.maxDelayMs
        : retryDelay(part.attempts, this.ctx.retry)
    part.notBefore = now + delay
    this.retryAttempt = part.attempts
    const info = errorInfo(e)
    this.retryNotice = retryNotice(verdict, info, part.attempts, this.ctx.retry.maxAttempts)
    this.ctx.log(
      `upload ${this.id} part ${part.n}: ${info.code} (${info.detail ?? ''}); retry in ${delay} ms`,
    )
    this.setState('retrying')
    this.ctx.wake(part.notBefore)
  }

  /** Network is back (the app's online event): retry waiting parts now. */
  retryNow(): void {
    for (const p of this.parts) if (p.status === 'pending') p.notBefore = 0
  }

  private maybeComplete() {
    if (this.completing || this.plan?.single || !this.run) return
    if (this.state !== 'uploading' && this.state !== 'retrying') return
    if (!this.parts.every((p) => p.status === 'done')) return
    this.completing = true
    void this.complete(this.run).finally(() => {
      this.completing = false
    })
  }

  private async complete(run: NonNullable<typeof this.run>) {
    const ctx = this.ctx
    const record = this.record!
    const target = { key: record.key, uploadId: record.uploadId! }
    const expected = multipartEtag(this.parts.map((p) => p.md5!))
    this.setState('completing')
    try {
      // Last look before the parts become the object: a file rewritten since its parts were read
      // is not what they hold.
      await this.checkSourceUnchanged()
      let done
      try {
        done = await this.withRetries('CompleteMultipartUpload', run.controller.signal, () =>
          ctx.store.complete(
            target,
            this.parts.map((p) => ({ partNumber: p.n, etag: p.etag! })),
            run.controller.signal,
          ),
        )
      } catch (e) {
        // The answer to a Complete that succeeded can be lost; the retry then meets NoSuchUpload.
        // The object itself says whether it is ours.
        if (!(isUploadError(e) && e.code === 'NoSuchUpload' && ctx.store.headObject)) throw e
        const head = await ctx.store.headObject(record.key)
        if (!head || head.etag !== expected) throw e
        done = { key: record.key, bucket: record.bucket, etag: head.etag }
      }
      this.checkCompleteEtag(done, expected, this.parts)
      await this.finish(run, done)
    } catch (e) {
      if (this.run !== run || isAbortError(e)) return
      await this.fail(e)
    }
  }

  private async finish(
    run: Run,
    done: { key: string; bucket: string; etag?: string; location?: string },
  ) {
    const ctx = this.ctx
    const record = this.record!
    this.done = done
    if (this.state !== 'completing') this.setState('completing')
    const history: HistoryRecord = {
      // The upload's id (its record's): what another row that was driving it looks for.
      id: this.recordId,
      path: this.path,
      size: record.source.size,
      fingerprint: record.source.fingerprint,
      destinationId: record.destination.id,
      destinationLabel: record.destination.label,
      bucket: done.bucket,
      key: done.key,
      etag: done.etag,
      location: done.location,
      completedAt: ctx.clock.now(),
    }
    const writeHistory = (entry: HistoryRecord) =>
      ctx.journal
        .addHistory(entry)
        .catch((e: unknown) => ctx.log(`history write failed: ${String(e)}`))
    await writeHistory(history)
    // The processing hook is owed from here on: journaled before the record goes, so a crash
    // before it has run leaves it to the next start (journal/pending-hooks.ts), not lost.
    await this.owePendingHook(record)
    await ctx.journal.remove(this.recordId)
    await this.uploadThumbnail(run.controller.signal)
    // The entry again, with its poster: history() keeps the last line of each id.
    if (this.thumbnailKey) await writeHistory({ ...history, thumbnailKey: this.thumbnailKey })
    if (ctx.afterComplete) {
      // Again with the poster's key: a hook replayed after a crash from here on includes it.
      if (this.thumbnailKey) await this.owePendingHook(record)
      const r = await ctx.afterComplete(this.snapshot()).catch((e: unknown) => ({
        notice: `After-upload step failed: ${e instanceof Error ? e.message : String(e)}`,
      }))
      if (r?.notice) this.notice = r.notice
      await ctx.journal.removePendingHook(this.recordId).catch((e: unknown) => ctx.log(String(e)))
    }
    this.run = undefined
    await giveBack(run)
    this.completedAt = ctx.clock.now()
    this.speed.reset()
    this.setState('done', 'completed')
  }

  /** Journals the processing hook this upload owes, with what the snapshot says now. */
  private async owePendingHook(record: JournalRecord) {
    const ctx = this.ctx
    if (!ctx.afterComplete) return
    await ctx.journal
      .savePendingHook({
        v: 1,
        // Under the record's id: replayPendingHooks takes that record's lock.
        id: this.recordId,
        destinationId: record.destination.id,
        connection: record.destination.connection,
        snapshot: this.snapshot(),
        savedAt: ctx.clock.now(),
      })
      .catch((e: unknown) => ctx.log(`pending hook write failed: ${String(e)}`))
  }

  // ------------------------------------------------------------------ media

  private startThumbnail() {
    const media = this.ctx.media
    if (!media || !this.media || !this.media.width) return
    // Made, failed for good, or on its way for this run. One that a pause, a failure or a sleep
    // aborted with its run is started again: nothing else would make it, and the video would end
    // without a poster.
    const aborted = !!this.thumbnailSignal?.aborted && !this.thumbnailPath && !this.thumbnailFailure
    if (this.thumbnail && !aborted) return
    const info = this.media
    const signal = this.run?.controller.signal
    this.thumbnailSignal = signal
    // Cancelled with the run (pause, cancel, close): the cache makes a later attempt cheap.
    this.thumbnail = media.thumbnail(this.path, info, signal).then(
      (p) => {
        this.thumbnailPath = p
        this.ctx.emit(this)
        return p
      },
      (e: unknown) => {
        if (isAbortError(e)) return undefined
        this.ctx.log(`thumbnail for ${this.path} failed: ${String(e)}`)
        // Thumbnails turned off in the settings (services/core-wiring.ts) is a choice, not a failure.
        if (!(isUploadError(e) && e.code === 'ThumbnailsOff')) {
          this.thumbnailFailure = errorInfo(e).message
        }
        return undefined
      },
    )
  }

  /** The poster goes beside the video once the video is safely stored. Its failure is a notice. */
  private async uploadThumbnail(signal: AbortSignal) {
    const path = await this.thumbnail
    if (!this.done) return
    if (!path) {
      if (this.thumbnailFailure) {
        this.notice = `The video is uploaded, but without a thumbnail: ${this.thumbnailFailure}`
      }
      return
    }
    try {
      const stat = await this.ctx.files.stat(path)
      // A poster is tens of KiB: read it into its own buffer, not a part-size one from the pool.
      const md5 = createHash('md5')
        .update(await readWhole(this.ctx.files, path, Buffer.allocUnsafe(stat.size), stat.size))
        .digest('base64')
      // The video's own {uuid}/{date}, and never one poster key for a whole folder (poster-key.ts).
      const { key, note } = posterKey({
        videoTemplate: this.ctx.keyTemplate,
        posterTemplate: this.ctx.thumbnailKeyTemplate,
        videoKey: this.done.key,
        filename: basename(this.path),
        relativeDir: this.relativeDir,
      })
      if (note) this.ctx.log(`upload ${this.id}: ${note}`)
      const res = await this.withRetries('PutObject', signal, () =>
        this.ctx.store.putSmall({
          key,
          filename: 'thumbnail.jpg',
          contentType: 'image/jpeg',
          metadata: { 'thumbnail-for': encodeMetadataValue(this.done!.key) },
          path,
          size: stat.size,
          md5Base64: md5,
          // Public-read video, public-read poster; a bucket that demands SSE-KMS refuses any
          // object sent without it. The video's own options, as journaled: today's settings
          // may differ from those it was started with.
          options: this.record?.options ?? this.ctx.objectOptions,
          signal,
          onProgress: () => undefined,
        }),
      )
      this.thumbnailKey = res.key
    } catch (e) {
      if (isAbortError(e)) return
      this.notice = `The video is uploaded, but its thumbnail could not be: ${errorInfo(e).message}`
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Control requests (create, list, complete, abort) retried by the same policy as parts,
   * waiting while the network is down. `stopIf`: errors to hand back at once instead.
   * `background`: work the row no longer shows (a cancel's server side): no retry notice, and a
   * network that stays down ends it like any other failure, with the error as it was (the caller
   * keeps what is needed to try again later).
   */
  private async withRetries<T>(
    op: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
    opts: { stopIf?: (e: unknown) => boolean; background?: boolean } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn()
        if (attempt > 1 && !opts.background) {
          this.retryNotice = undefined
          this.ctx.emit(this)
        }
        return result
      } catch (e) {
        if (isAbortError(e) || signal?.aborted || opts.stopIf?.(e)) throw e
        const verdict = classify(e, attempt, this.ctx.retry)
        if (opts.background && verdict !== 'retry') throw e
        if (verdict === 'fail') throw gaveUp(e, attempt)
        const delay =
          verdict === 'wait-network'
            ? this.ctx.retry.maxDelayMs
            : retryDelay(attempt, this.ctx.retry)
        this.ctx.log(`${op} for ${this.id}: ${errorInfo(e).code}; retry in ${delay} ms`)
        if (!opts.background) {
          // Said on the row while it waits (a server down at start keeps a file in 'preparing').
          this.retryNotice = retryNotice(verdict, errorInfo(e), attempt, this.ctx.retry.maxAttempts)
          this.ctx.emit(this)
        }
        await this.ctx.clock.sleep(delay, signal)
      }
    }
  }

  /**
   * Aborts uploads the server holds under exactly this key other than `keep`, initiated since
   * `since` (the record's creation): those a lost CreateMultipartUpload answer left behind (the
   * same rule as a crash before the answer, see resumeRecord). Older ones under the same key are
   * someone else's (STRAY_CLOCK_SKEW_MS). Best effort: stores that cannot list (backend mode)
   * keep them, and a refusal is logged; but an abort (pause, close) propagates, so the record
   * that points at them is kept for the next run. `strict` (a cancel's server side): any failure
   * propagates, and the network is not waited for (withRetries' `background`).
   */
  private async abortStrays(
    key: string,
    keep: string | undefined,
    since: number,
    signal?: AbortSignal,
    strict = false,
  ) {
    const store = this.ctx.store
    if (!store.listMultipartUploads) return
    let open: ListedUpload[]
    try {
      open = await this.withRetries(
        'ListMultipartUploads',
        signal,
        () => store.listMultipartUploads!(key, signal),
        { background: strict },
      )
    } catch (e) {
      if (strict || isAbortError(e) || signal?.aborted) throw e
      this.ctx.log(`could not list uploads under ${key}: ${String(e)}`)
      return
    }
    for (const u of open) {
      if (u.key !== key || u.uploadId === keep) continue
      if (!u.initiated || u.initiated.getTime() < since - STRAY_CLOCK_SKEW_MS) {
        this.ctx.log(`not aborting ${u.uploadId} under ${key}: started before this upload`)
        continue
      }
      this.ctx.log(
        `aborting stray upload ${u.uploadId} left by a lost CreateMultipartUpload answer`,
      )
      const target = { key: u.key, uploadId: u.uploadId }
      if (strict) {
        await this.withRetries('AbortMultipartUpload', signal, () => store.abort(target, signal), {
          background: true,
        })
      } else await this.abortQuietly(target, signal)
    }
  }

  /**
   * Aborts an upload we are leaving behind, retried (and waiting for the network) under the
   * run's signal. A refusal is logged and the caller goes on; an abort by pause or close
   * propagates, so the caller keeps the record and the next run tries again.
   */
  private async abortQuietly(target: MultipartTarget, signal: AbortSignal | undefined) {
    try {
      await this.withRetries('AbortMultipartUpload', signal, () =>
        this.ctx.store.abort(target, signal),
      )
    } catch (e) {
      if (isAbortError(e) || signal?.aborted) throw e
      this.ctx.log(`could not abort old upload ${target.uploadId}: ${String(e)}`)
    }
  }
}

/** Gives back a run's locks, once. */
async function giveBack(run: Run): Promise<void> {
  const release = run.release
  run.release = undefined
  await release?.()
}

/** A message as a clause inside a sentence: "The storage …." → "the storage …". */
function clause(message: string): string {
  return message.replace(/\.$/, '').replace(/^The /, 'the ')
}

/** What a row says while a request waits to be tried again. */
function retryNotice(
  verdict: 'retry' | 'wait-network',
  info: UploadErrorInfo,
  attempt: number,
  maxAttempts: number,
): string {
  return verdict === 'wait-network'
    ? 'Waiting for the network to come back…'
    : `Retrying: ${info.message} (attempt ${attempt + 1} of ${maxAttempts})`
}

/** S3's multipart ETag: md5 of the concatenated binary part MD5s, then "-N". */
export function multipartEtag(partMd5Hex: string[]): string {
  const h = createHash('md5')
  for (const m of partMd5Hex) h.update(Buffer.from(m, 'hex'))
  return `${h.digest('hex')}-${partMd5Hex.length}`
}

/**
 * A retryable error that used up its attempts: say so, the message alone reads as transient.
 * Retryable messages say only what happened (the row's "Retrying…" notice says the rest while
 * it retries), so nothing in them promises another try once Upreel has given up.
 */
export function gaveUp(e: unknown, attempts: number): unknown {
  if (!isUploadError(e) || !e.retryable) return e
  const said = e.message.replace(/([^.!?])$/, '$1.')
  return new UploadError({
    code: e.code,
    message: `${said} Upreel gave up after ${attempts} attempts; press Retry to continue where it stopped.`,
    operation: e.operation,
    partNumber: e.partNumber,
    status: e.status,
    requestId: e.requestId,
    cause: e.cause ?? e,
  })
}

function errorInfo(e: unknown, prefix?: string): UploadErrorInfo {
  if (isUploadError(e)) {
    const info = e.toInfo()
    return prefix ? { ...info, message: `${prefix}: ${info.message}` } : info
  }
  const msg = e instanceof Error ? e.message : String(e)
  return {
    code: 'InternalError',
    message: `${prefix ? prefix + ': ' : ''}Something unexpected went wrong (${msg}). Retry, and report it if it happens again.`,
    detail: e instanceof Error ? e.stack : undefined,
  }
}

/** File system errors in words a creator understands. */
function fsError(e: unknown): UploadError {
  const code = (e as NodeJS.ErrnoException)?.code
  switch (code) {
    case 'ENOENT':
      return sourceError(
        'SourceMissing',
        'The file is no longer there (moved, renamed or deleted). Put it back, or remove it from the queue.',
        e,
      )
    case 'EACCES':
    case 'EPERM':
      return sourceError(
        'Unreadable',
        'Upreel is not allowed to read this file. Check its permissions (or the folder’s), then retry.',
        e,
      )
    case 'EISDIR':
      return sourceError('NotAFile', 'This is a folder, not a file.', e)
    case 'EIO':
      return sourceError(
        'ReadError',
        'The disk reported an error while reading this file (is the drive still connected?).',
        e,
      )
    default:
      return isUploadError(e)
        ? e
        : sourceError('ReadError', `The file could not be read (${code ?? String(e)}).`, e)
  }
}

async function readWhole(
  files: FileSource,
  path: string,
  buf: Buffer,
  size: number,
): Promise<Buffer> {
  const target = size <= buf.length ? buf : Buffer.allocUnsafe(size)
  const f = await files.open(path)
  try {
    let got = 0
    while (got < size) {
      const n = await f.read(target, got, size - got, got)
      if (n === 0) break
      got += n
    }
    return target.subarray(0, got)
  } finally {
    await f.close()
  }
}
