/**
 * Files added from outside the page: "Open with Upreel", a second launch, the menu's Add….
 * What came of them goes to the page as `onAddResult` (the duplicate question is asked there), so:
 * - they are gathered: macOS sends one `open-file` per file and Windows starts one process per
 *   file, so "Open with" on three videos arrives as three adds; gathered, they make one add and
 *   one question instead of three;
 * - they wait for a page that listens (the window may be loading, or closed on macOS) and for a
 *   destination (files opened at first launch wait for the setup screen), saying so once;
 * - a new page is asked again what an earlier one left unanswered (a closed window, a reload).
 */
import type { AddResult } from '../../preload/contract'
import type { Emit } from '../ipc/handle'
import { realTimers, type Timers } from './progress-relay'
import type { AddSource } from './queue-service'

/** Adds from outside arriving within this long of the previous one are gathered into one. */
export const GATHER_MS = 300
/** A steady trickle (a slow machine starting one process per file) is not held longer than this. */
export const GATHER_MAX_MS = 2000

type Question = NonNullable<AddResult['duplicates']>

export interface OutsideAddsOptions {
  /** The add flow (QueueService.addPaths). */
  add(paths: string[], source: AddSource): Promise<AddResult>
  /** An engine exists (a destination is set up). */
  hasDestination(): boolean
  /** Duplicate questions not answered yet (QueueService holds their files). */
  openQuestions(): Question[]
  emit: Emit
  timers?: Timers
}

export class OutsideAdds {
  private pageListens = false
  private readonly waiting: { paths: string[]; source: AddSource }[] = []
  private gather: unknown = null
  private gatherStarted = 0
  /** "Choose where uploads go first" was said for the files waiting now. */
  private toldSetup = false

  constructor(private readonly opts: OutsideAddsOptions) {}

  private get timers(): Timers {
    return this.opts.timers ?? realTimers
  }

  /** Files from outside the page: gathered with those arriving close by, then added. */
  add(paths: string[], source: AddSource): void {
    if (paths.length === 0) return
    this.waiting.push({ paths, source })
    const now = this.timers.now()
    if (this.gather === null) this.gatherStarted = now
    else this.timers.clearTimeout(this.gather)
    const left = Math.max(0, this.gatherStarted + GATHER_MAX_MS - now)
    this.gather = this.timers.setTimeout(
      () => {
        this.gather = null
        this.flush()
      },
      Math.min(GATHER_MS, left),
    )
  }

  /** The page subscribed to events (on every load): ask what is open, deliver what waited. */
  pageReady(): void {
    this.pageListens = true
    for (const duplicates of this.opts.openQuestions()) {
      this.opts.emit('onAddResult', {
        added: 0,
        skipped: [],
        skippedCount: 0,
        refused: [],
        duplicates,
      })
    }
    this.flush()
  }

  /** The window is gone (macOS runs on without one): hold adds until a page is back. */
  pageGone(): void {
    this.pageListens = false
  }

  /** A destination was set up: the waiting files may go. */
  destinationReady(): void {
    this.flush()
  }

  dispose(): void {
    if (this.gather !== null) this.timers.clearTimeout(this.gather)
    this.gather = null
  }

  private flush(): void {
    if (this.gather !== null || !this.pageListens || this.waiting.length === 0) return
    if (!this.opts.hasDestination()) {
      if (this.toldSetup) return
      this.toldSetup = true
      const n = new Set(this.waiting.flatMap((w) => w.paths)).size
      this.opts.emit('onNotice', {
        kind: 'info',
        message: `Choose where uploads go first: ${n === 1 ? 'the file you opened is' : `${n} files you opened are`} added once you have.`,
      })
      return
    }
    const batch = this.waiting.splice(0)
    this.toldSetup = false
    // One add for everything gathered ('argv' and 'dialog' go through the same checks and ask
    // the same way; only watch folders differ, and they never come here).
    const paths = [...new Set(batch.flatMap((w) => w.paths))]
    void this.deliver(paths, batch[0]!.source)
  }

  private async deliver(paths: string[], source: AddSource): Promise<void> {
    try {
      this.opts.emit('onAddResult', await this.opts.add(paths, source))
    } catch (e) {
      this.opts.emit('onNotice', { kind: 'error', message: (e as Error).message })
    }
  }
}
