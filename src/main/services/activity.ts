/**
 * What the OS sees of the queue: a power-save blocker while files move (so the system does not
 * suspend mid-upload), the taskbar/dock progress bar, and notifications when a batch finishes or a
 * file fails. Fed by the relay's batches (≤ 10 a second), not by raw engine events.
 */
import type { QueueTotals, UploadState } from '../../preload/contract'
import type { EngineApi, UploadSnapshot } from './core-types'
import type { NotifierLike, PowerSaveBlockerLike, ProgressBarLike } from './ports'
import { queueFraction } from './rows'

/** States in which a file still has to go somewhere: a batch with any of them has not ended. */
const UNFINISHED = new Set<UploadState>([
  'queued',
  'preparing',
  'uploading',
  'retrying',
  'completing',
  'paused',
])

/** Failures within this window are told in one notification ("3 uploads failed"). */
const FAILURE_COALESCE_MS = 1500

export interface ActivityOptions {
  blocker: PowerSaveBlockerLike
  progress: () => ProgressBarLike | null
  notifier: NotifierLike
  notificationsEnabled: () => boolean
  setTimeout?: (fn: () => void, ms: number) => unknown
}

export class ActivityService {
  private blockerId: number | null = null
  private completedInBatch = 0
  private failedInBatch = 0
  private pendingFailures: UploadSnapshot[] = []
  private failureTimer: unknown = null
  private engine: EngineApi | null = null

  private readonly onCompleted = (): void => {
    this.completedInBatch++
  }

  private readonly onFailed = (s: UploadSnapshot): void => {
    this.failedInBatch++
    this.pendingFailures.push(s)
    if (this.failureTimer === null) {
      const set = this.opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
      this.failureTimer = set(() => this.tellFailures(), FAILURE_COALESCE_MS)
    }
  }

  private readonly onIdle = (): void => {
    // The engine is idle when nothing moves, and that includes "everything is paused" (Pause all,
    // sleep, quit): the batch has not finished then. Keep counting until it really ends.
    if (this.engine?.list().some((s) => UNFINISHED.has(s.state))) return
    if (this.completedInBatch > 0) {
      const n = this.completedInBatch
      const failed = this.failedInBatch
      this.notify(
        n === 1 ? 'Upload finished' : `${n} uploads finished`,
        failed > 0
          ? `${failed} could not be uploaded; see the queue.`
          : 'Everything in the queue is up.',
      )
    }
    this.completedInBatch = 0
    this.failedInBatch = 0
  }

  constructor(private readonly opts: ActivityOptions) {}

  attach(engine: EngineApi | null): void {
    if (this.engine) {
      this.engine.off('completed', this.onCompleted)
      this.engine.off('failed', this.onFailed)
      this.engine.off('idle', this.onIdle)
    }
    this.engine = engine
    if (engine) {
      engine.on('completed', this.onCompleted)
      engine.on('failed', this.onFailed)
      engine.on('idle', this.onIdle)
    }
  }

  /** Called after every relay batch. */
  update(totals: QueueTotals): void {
    if (totals.active > 0 && this.blockerId === null) {
      this.blockerId = this.opts.blocker.start('prevent-app-suspension')
    } else if (totals.active === 0 && this.blockerId !== null) {
      this.opts.blocker.stop(this.blockerId)
      this.blockerId = null
    }
    const bar = this.opts.progress()
    if (!bar) return
    if (totals.active === 0 && totals.paused === 0) {
      bar.setProgressBar(-1) // removes the bar
      return
    }
    const fraction = queueFraction(totals)
    const mode = totals.active > 0 ? (totals.failed > 0 ? 'error' : 'normal') : 'paused'
    bar.setProgressBar(Math.min(1, fraction), { mode })
  }

  get blocking(): boolean {
    return this.blockerId !== null
  }

  private tellFailures(): void {
    this.failureTimer = null
    const list = this.pendingFailures.splice(0)
    if (list.length === 0) return
    const first = list[0]!
    if (list.length === 1) {
      this.notify(
        `Upload failed: ${first.name}`,
        first.error?.message ?? 'See the queue for details.',
      )
    } else {
      this.notify(`${list.length} uploads failed`, `${first.name}: ${first.error?.message ?? ''}`)
    }
  }

  private notify(title: string, body: string): void {
    if (this.opts.notificationsEnabled()) this.opts.notifier.notify(title, body)
  }

  dispose(): void {
    this.attach(null)
    if (this.blockerId !== null) this.opts.blocker.stop(this.blockerId)
    this.blockerId = null
  }
}
