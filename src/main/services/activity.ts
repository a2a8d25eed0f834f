/**
 * What the OS sees of the queue: a power-save blocker while files move (so the system does not
 * suspend mid-upload), the taskbar/dock progress bar, and notifications when a batch finishes or a
 * file fails. Fed by the relay's batches (≤ 10 a second), not by raw engine events.
 */
import type { QueueTotals, UploadState } from '../../preload/contract'
import type { EngineApi, UploadSnapshot } from './core-types'
import type { NotifierLike, PowerSaveBlockerLike, ProgressBarLike } from './ports'
import { queueFraction } from './rows'

/** States in which a file is on its way: while any row is in one, the batch goes on. */
const MOVING = new Set<UploadState>(['queued', 'preparing', 'uploading', 'retrying', 'completing'])

/** Failures within this window are told in one notification ("3 uploads failed"). */
const FAILURE_COALESCE_MS = 1500

export interface ActivityOptions {
  blocker: PowerSaveBlockerLike
  progress: () => ProgressBarLike | null
  notifier: NotifierLike
  notificationsEnabled: () => boolean
  /** The machine is going to sleep or asleep (PowerService paused what moved). */
  sleeping?: () => boolean
  setTimeout?: (fn: () => void, ms: number) => unknown
}

/**
 * When a batch ends. A batch is what was moving since the last end: it ends when nothing is queued
 * or on its way, and the only files left paused are ones the user set aside. Files paused for the
 * whole queue (Pause all, sleep, quit) suspend the batch instead: counting goes on when they
 * resume. The end is looked for on every engine `idle` AND every relay batch, because a batch
 * can end without the engine becoming idle again (the paused rest removed or cancelled): the
 * counts are reset at every end, so they never carry into the next batch. The "finished"
 * notification is sent only when the end came with an upload finishing; a batch the user ended
 * (cancelling, removing or pausing the last files) ends quietly: they are looking at it.
 */
export class ActivityService {
  private blockerId: number | null = null
  private completedInBatch = 0
  private failedInBatch = 0
  /** An upload finished (done or failed) since the batch was last looked at. */
  private finishedSinceCheck = false
  /** "Pause all" holds the batch until Resume all, or until no paused file is left. */
  private pausedTogether = false
  private disposed = false
  private pendingFailures: UploadSnapshot[] = []
  private failureTimer: unknown = null
  private engine: EngineApi | null = null

  private readonly onCompleted = (): void => {
    this.completedInBatch++
    this.finishedSinceCheck = true
  }

  private readonly onFailed = (s: UploadSnapshot): void => {
    this.failedInBatch++
    this.finishedSinceCheck = true
    this.pendingFailures.push(s)
    if (this.failureTimer === null) {
      const set = this.opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
      this.failureTimer = set(() => this.tellFailures(), FAILURE_COALESCE_MS)
    }
  }

  private readonly onIdle = (): void => this.checkBatch()

  constructor(private readonly opts: ActivityOptions) {}

  attach(engine: EngineApi | null): void {
    if (this.engine) {
      this.engine.off('completed', this.onCompleted)
      this.engine.off('failed', this.onFailed)
      this.engine.off('idle', this.onIdle)
    }
    this.engine = engine
    // A new engine (settings changed) starts a new batch: nothing counted carries over.
    this.resetBatch()
    if (engine) {
      engine.on('completed', this.onCompleted)
      engine.on('failed', this.onFailed)
      engine.on('idle', this.onIdle)
    }
  }

  /** Pause all: the batch waits for Resume all (not an end, even with nothing moving). */
  pauseAll(): void {
    this.pausedTogether = true
  }

  resumeAll(): void {
    this.pausedTogether = false
  }

  private resetBatch(): void {
    this.completedInBatch = 0
    this.failedInBatch = 0
    this.finishedSinceCheck = false
  }

  /** Looks whether the batch ended; if so, tells it (when an upload just finished) and resets. */
  private checkBatch(): void {
    const engine = this.engine
    if (!engine || this.disposed) return
    const finished = this.finishedSinceCheck
    this.finishedSinceCheck = false
    let paused = 0
    for (const s of engine.list()) {
      if (MOVING.has(s.state)) return
      if (s.state === 'paused') paused++
    }
    if (paused > 0 && (this.pausedTogether || this.opts.sleeping?.())) return
    if (paused === 0) this.pausedTogether = false
    if (finished && this.completedInBatch > 0) {
      const n = this.completedInBatch
      const notes: string[] = []
      if (this.failedInBatch > 0)
        notes.push(`${this.failedInBatch} could not be uploaded; see the queue.`)
      if (paused > 0) {
        notes.push(
          paused === 1
            ? '1 paused file waits in the queue.'
            : `${paused} paused files wait in the queue.`,
        )
      }
      this.notify(
        n === 1 ? 'Upload finished' : `${n} uploads finished`,
        notes.join(' ') || 'Everything in the queue is up.',
      )
    }
    this.resetBatch()
  }

  /** Called after every relay batch. */
  update(totals: QueueTotals): void {
    // Quitting: the engine is pausing everything for the journal; nothing to hold or tell.
    if (this.disposed) return
    // Rows on their way (the totals count them): no end to look for, and nothing just ended.
    if (totals.active > 0) this.finishedSinceCheck = false
    else this.checkBatch()
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

  /** Before the engine closes (quit): its last pauses are no batch ending. */
  dispose(): void {
    this.disposed = true
    this.attach(null)
    if (this.blockerId !== null) this.opts.blocker.stop(this.blockerId)
    this.blockerId = null
  }
}
