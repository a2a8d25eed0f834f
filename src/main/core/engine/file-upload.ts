import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { contentTypeFor, encodeMetadataValue } from '../content-type'
import { isAbortError, isUploadError, UploadError } from '../errors'
import type { FileJournal } from '../journal/file-journal'
import type { JournalRecord, ObjectOptions } from '../journal/types'
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
  private run: { controller: AbortController; release?: () => Promise<void> } | undefined
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
  /** The preparation in progress (cancel waits for it; see freshRecord). */
  private preparing: Promise<void> | undefined
  /** The latest run's lock taking, settled once the locks are held or given back. */
  private lockSettled: Promise<void> | undefined
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
    const wasRunning = this.state !== 'queued'
    await this.stopRun()
    this.speed.reset()
    this.setState('paused')
    if (wasRunning && this.record) {
      await this.ctx.journal.setStatus(this.id, { status: 'paused' }).catch(() => undefined)
    }
  }

  /**
   * Aborts the multipart upload on the server, confirms the server no longer has it, forgets the
   * record. Throws (and keeps the record) if the server could not be told.
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
      // the record would orphan it there (as abortInterrupted refuses too).
      throw new UploadError({
        code: 'DestinationChanged',
        message: `This upload was started to ${this.record!.destination.label}, not the destination set now. Switch back to that destination to cancel or remove it; its record is kept so nothing is left behind there.`,
      })
    }
    await this.stopRun()
    // A CreateMultipartUpload in flight runs to its answer: wait, then abort what it created.
    await this.preparing?.catch(() => undefined)
    const record = this.record
    if (record?.uploadId) {
      const release = await this.ctx.journal.lock(this.id)
      try {
        const target = { key: record.key, uploadId: record.uploadId }
        await this.withRetries('AbortMultipartUpload', undefined, () =>
          this.ctx.store.abort(target),
        )
        await this.confirmGone(target)
        await this.ctx.journal.remove(this.id)
      } catch (e) {
        this.error = errorInfo(e, 'Could not cancel the upload on the storage')
        this.setState('failed', 'failed')
        throw e
      } finally {
        await release()
      }
    } else if (record) {
      // Cancelled while CreateMultipartUpload was on its way: the server may have opened one.
      if (record.partCount > 1) await this.abortStrays(record.key, undefined, record.createdAt)
      await this.ctx.journal.remove(this.id)
    }
    this.record = undefined
    this.speed.reset()
    this.setState('cancelled', 'cancelled')
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
    await run.release?.()
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
        .setStatus(this.id, {
          status: 'failed',
          error: { code: this.error.code, message: this.error.message },
        })
        .catch(() => undefined)
    }
    await run?.release?.()
    this.setState('failed', 'failed')
  }

  // ------------------------------------------------------------------ prepare

  /** Locks, checks the source, resumes or creates the upload. Leaves state 'uploading' or failed. */
  async prepare(): Promise<void> {
    if (this.state !== 'queued') return
    this.preparing = this.doPrepare()
    try {
      await this.preparing
    } finally {
      this.preparing = undefined
    }
  }

  private async doPrepare(): Promise<void> {
    const run = { controller: new AbortController() } as NonNullable<typeof this.run>
    this.run = run
    this.notice = undefined
    this.setState('preparing')
    try {
      // A run paused while it was still taking the locks gives them back first (else this one
      // would find them held by this very process).
      await this.lockSettled
      // The file's lock too, before any record exists: two processes given this file at once
      // (neither seeing the other's record yet) must not start two uploads of it.
      const taking = this.ctx.journal.lockUpload(this.id, {
        path: this.path,
        destinationId: this.ctx.store.destinationId,
      })
      this.lockSettled = taking.then(
        async (release) => {
          if (this.run !== run) await release()
        },
        () => undefined,
      )
      run.release = await taking
      if (this.run !== run) return // given back by lockSettled
      // Another process may have driven this record until we got its lock: take its latest.
      if (this.record) this.record = (await this.ctx.journal.load(this.id))?.record ?? this.record
      const stat = await this.statSource()
      this.size = stat.size
      const plan = this.planFor(stat.size, this.record?.partSize ?? this.ctx.preferredPartSize)
      let record = this.record
      if (record) record = await this.resumeRecord(record, stat, run.controller.signal)
      if (this.run !== run) return
      if (!record) record = await this.freshRecord(stat, plan, run.controller.signal)
      if (this.run !== run) return
      this.record = record
      this.plan =
        record.partSize === plan.partSize ? plan : this.planFor(stat.size, record.partSize)
      if (this.parts.length !== this.plan.partCount) this.restorePartsFromRecord(record)
      await this.ctx.journal.setStatus(this.id, { status: 'active' })
      this.startThumbnail()
      this.setState('uploading')
      if (this.completedEarlier) {
        await this.finish(run, this.completedEarlier)
        return
      }
      this.maybeComplete()
    } catch (e) {
      if (this.run !== run || isAbortError(e)) return
      await this.fail(e)
    } finally {
      this.ctx.wake()
    }
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
    let changed: string | undefined
    if (stat.size !== record.source.size) changed = 'its size changed'
    else if (stat.mtimeMs !== record.source.mtimeMs) changed = 'it was modified'
    else if ((await this.fingerprint(stat.size)) !== record.source.fingerprint) {
      changed = 'its content changed'
    }
    if (changed) {
      this.notice = `The file changed since the upload started (${changed}), so it is uploading again from the beginning.`
      // Aborted by a pause or close while it waits for the network: the record stays, so the
      // next run tries the abort again.
      if (target) await this.abortQuietly(target, signal)
      await this.ctx.journal.remove(this.id)
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
      const seconds = Math.round((this.ctx.clock.now() - listingSince) / 1000)
      this.notice =
        gone === 'missing'
          ? 'The storage no longer had the earlier upload (it expired or was cleaned up), so it is uploading again from the beginning.'
          : `The upload server could not list the parts of the earlier upload: it answered “Something went wrong” ${this.ctx.retry.maxAttempts} times over ${seconds} s, which is also how it reports an upload that no longer exists. Upreel cancelled the earlier upload and is uploading this file again from the beginning.`
      await this.ctx.journal.remove(this.id)
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
        (e) => isUploadError(e) && e.code === 'BackendStorageError',
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
      id: this.id,
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
    await ctx.journal.write(record)
    // Known from here on, so a pause or cancel during CreateMultipartUpload finds and cleans it.
    this.record = record
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
      await ctx.journal.write(record)
      this.record = record
      if (unanswered) await this.abortStrays(created.key, created.uploadId, now, signal)
      // Paused meanwhile: the journal now holds the upload, resume continues it. Cancelled: cancel()
      // waits for this preparation and then aborts what was created.
      signal.throwIfAborted()
    }
    this.parts = []
    this.restorePartsFromRecord(record)
    return record
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
      await ctx.journal.appendPart(this.id, { n: part.n, etag, md5: md5Hex, size: length })
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
        options: ctx.objectOptions,
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
    run: NonNullable<typeof this.run>,
    done: { key: string; bucket: string; etag?: string; location?: string },
  ) {
    const ctx = this.ctx
    const record = this.record!
    this.done = done
    if (this.state !== 'completing') this.setState('completing')
    await ctx.journal
      .addHistory({
        id: this.id,
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
      })
      .catch((e: unknown) => ctx.log(`history write failed: ${String(e)}`))
    // The processing hook is owed from here on: journaled before the record goes, so a crash
    // before it has run leaves it to the next start (journal/pending-hooks.ts), not lost.
    if (ctx.afterComplete) {
      await ctx.journal
        .savePendingHook({
          v: 1,
          id: this.id,
          destinationId: record.destination.id,
          connection: record.destination.connection,
          snapshot: this.snapshot(),
          savedAt: ctx.clock.now(),
        })
        .catch((e: unknown) => ctx.log(`pending hook write failed: ${String(e)}`))
    }
    await ctx.journal.remove(this.id)
    await this.uploadThumbnail(run.controller.signal)
    if (ctx.afterComplete) {
      const r = await ctx.afterComplete(this.snapshot()).catch((e: unknown) => ({
        notice: `After-upload step failed: ${e instanceof Error ? e.message : String(e)}`,
      }))
      if (r?.notice) this.notice = r.notice
      await ctx.journal.removePendingHook(this.id).catch((e: unknown) => ctx.log(String(e)))
    }
    this.run = undefined
    await run.release?.()
    this.completedAt = ctx.clock.now()
    this.speed.reset()
    this.setState('done', 'completed')
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
          // object sent without it.
          options: this.ctx.objectOptions,
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
   */
  private async withRetries<T>(
    op: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
    stopIf?: (e: unknown) => boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn()
        if (attempt > 1) {
          this.retryNotice = undefined
          this.ctx.emit(this)
        }
        return result
      } catch (e) {
        if (isAbortError(e) || signal?.aborted || stopIf?.(e)) throw e
        const verdict = classify(e, attempt, this.ctx.retry)
        if (verdict === 'fail') throw gaveUp(e, attempt)
        const delay =
          verdict === 'wait-network'
            ? this.ctx.retry.maxDelayMs
            : retryDelay(attempt, this.ctx.retry)
        this.ctx.log(`${op} for ${this.id}: ${errorInfo(e).code}; retry in ${delay} ms`)
        // Said on the row while it waits (a server down at start keeps a file in 'preparing').
        this.retryNotice = retryNotice(verdict, errorInfo(e), attempt, this.ctx.retry.maxAttempts)
        this.ctx.emit(this)
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
   * that points at them is kept for the next run.
   */
  private async abortStrays(
    key: string,
    keep: string | undefined,
    since: number,
    signal?: AbortSignal,
  ) {
    const store = this.ctx.store
    if (!store.listMultipartUploads) return
    let open: ListedUpload[]
    try {
      open = await this.withRetries('ListMultipartUploads', signal, () =>
        store.listMultipartUploads!(key, signal),
      )
    } catch (e) {
      if (isAbortError(e) || signal?.aborted) throw e
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
      await this.abortQuietly({ key: u.key, uploadId: u.uploadId }, signal)
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
