/**
 * Coalesces the engine's events into at most one message per RELAY_INTERVAL_MS for the whole queue.
 *
 * Why throttle here, before IPC: the engine fires `changed` for every chunk of every part in flight
 * (8 slots × many chunks a second) and for every state change of every file; with 1,000 queued
 * files a "Resume all" alone is 1,000 events in one tick. Sending each would cost a structured
 * clone and a React commit apiece and starve the page. One batch per 100 ms (≤ 10 a second,
 * whatever the number of files) is smoother than the eye can follow for progress bars and speed
 * labels, keeps IPC cost proportional to what changed (only dirty rows travel), and bounds the
 * renderer to ≤ 10 commits a second. (Uppy throttles progress at the source for the same reason.)
 */
import type { EngineEvents, UploadSnapshot } from '../core/engine/types'
import type { QueueTotals, UploadRow, UploadsBatch, UploadsSnapshot } from '../../preload/contract'
import { totalsOf } from './rows'

/** 100 ms → at most 10 batches a second. */
export const RELAY_INTERVAL_MS = 100

/** What the relay needs from the engine (EngineApi satisfies it). */
export interface EngineEventSource {
  on<E extends keyof EngineEvents>(event: E, listener: (...args: EngineEvents[E]) => void): unknown
  off<E extends keyof EngineEvents>(event: E, listener: (...args: EngineEvents[E]) => void): unknown
  list(): UploadSnapshot[]
}

export interface Timers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export interface RelayOptions {
  send(batch: UploadsBatch): void
  toRow(snapshot: UploadSnapshot): UploadRow
  /** After each batch: the taskbar progress, power blocker, notifications read the totals. */
  onFlush?(totals: QueueTotals, list: readonly UploadSnapshot[]): void
  intervalMs?: number
  timers?: Timers
}

export class ProgressRelay {
  private engine: EngineEventSource | null = null
  private seq = 0
  private readonly dirty = new Map<string, UploadSnapshot>()
  private readonly removed = new Set<string>()
  private reset = false
  private lastOrder: string[] = []
  private lastFlushAt = Number.NEGATIVE_INFINITY
  private timer: unknown = null
  private readonly interval: number
  private readonly timers: Timers

  private readonly onChanged = (s: UploadSnapshot): void => {
    this.removed.delete(s.id)
    this.dirty.set(s.id, s)
    this.schedule()
  }

  private readonly onRemoved = (id: string): void => {
    this.dirty.delete(id)
    this.removed.add(id)
    this.schedule()
  }

  constructor(private readonly opts: RelayOptions) {
    this.interval = opts.intervalMs ?? RELAY_INTERVAL_MS
    this.timers = opts.timers ?? realTimers
  }

  /** Follows a (new) engine; the page gets the whole queue again in the next batch. */
  attach(engine: EngineEventSource | null): void {
    if (this.engine) {
      this.engine.off('changed', this.onChanged)
      this.engine.off('removed', this.onRemoved)
    }
    this.engine = engine
    this.dirty.clear()
    this.removed.clear()
    this.reset = true
    if (engine) {
      engine.on('changed', this.onChanged)
      engine.on('removed', this.onRemoved)
    }
    this.schedule()
  }

  /** The whole queue for a page that just loaded. Later batches have a larger seq. */
  snapshot(): UploadsSnapshot {
    const list = this.engine?.list() ?? []
    return { seq: this.seq, rows: list.map((s) => this.opts.toRow(s)), totals: totalsOf(list) }
  }

  private schedule(): void {
    if (this.timer !== null) return
    // The first change after a quiet spell still waits one macrotask, so a synchronous burst
    // (add 1,000 files, resume all) lands in one batch.
    const wait = Math.max(0, this.lastFlushAt + this.interval - this.timers.now())
    this.timer = this.timers.setTimeout(() => this.flush(), wait)
  }

  /** Sends what changed since the last batch (exposed for shutdown and tests). */
  flush(): void {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer)
      this.timer = null
    }
    if (!this.reset && this.dirty.size === 0 && this.removed.size === 0) return
    this.lastFlushAt = this.timers.now()
    const list = this.engine?.list() ?? []
    const order = list.map((s) => s.id)
    const orderChanged =
      this.reset ||
      order.length !== this.lastOrder.length ||
      order.some((id, i) => id !== this.lastOrder[i])
    const upserts = this.reset
      ? list.map((s) => this.opts.toRow(s))
      : [...this.dirty.values()].map((s) => this.opts.toRow(s))
    const totals = totalsOf(list)
    const batch: UploadsBatch = {
      seq: ++this.seq,
      reset: this.reset,
      upserts,
      removed: this.reset ? [] : [...this.removed],
      order: orderChanged ? order : undefined,
      totals,
    }
    this.lastOrder = order
    this.dirty.clear()
    this.removed.clear()
    this.reset = false
    this.opts.send(batch)
    this.opts.onFlush?.(totals, list)
  }

  dispose(): void {
    this.attach(null)
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }
}
