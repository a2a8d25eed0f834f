/**
 * Quitting while files upload asks first; then everything pauses and the journal is flushed
 * before the process goes, so the next launch resumes from the last finished part.
 */
import type { OpenDialogLike } from './ports'

export interface QuitGuardOptions {
  dialog: OpenDialogLike
  /** Files currently moving (queued, preparing, uploading, retrying, completing). */
  activeCount: () => number
  /** Pauses everything and flushes the journal (EngineService.close + the rest). */
  shutdown: () => Promise<void>
  /** Really quits (app.quit) once shutdown has finished. */
  quit: () => void
  /**
   * Leaves at once (app.exit) when shutdown has not finished in time: a hung request must not
   * keep a window-less app alive. What the journal holds by then is what the next launch resumes.
   */
  exit: () => void
  /** How long shutdown may take (default SHUTDOWN_LIMIT_MS). */
  shutdownLimitMs?: number
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (handle: unknown) => void
}

/**
 * Shutdown pauses every file (aborting its in-flight part requests) and flushes the journal: well
 * under a second normally. 10 s covers a slow disk; past that something hangs.
 */
export const SHUTDOWN_LIMIT_MS = 10_000

type Phase = 'running' | 'asking' | 'closing' | 'closed'

export class QuitGuard {
  private phase: Phase = 'running'

  constructor(private readonly opts: QuitGuardOptions) {}

  /**
   * For app 'before-quit' (and the window's 'close' on platforms where that quits): returns true
   * when the quit may proceed now; otherwise it has been deferred (call `preventDefault`).
   */
  request(): boolean {
    if (this.phase === 'closed') return true
    if (this.phase === 'asking' || this.phase === 'closing') return false
    void this.confirmAndClose()
    return false
  }

  private async confirmAndClose(): Promise<void> {
    const active = this.opts.activeCount()
    if (active > 0) {
      this.phase = 'asking'
      const { response } = await this.opts.dialog.showMessageBox({
        type: 'question',
        title: 'Uploads in progress',
        message:
          active === 1
            ? '1 upload is still in progress.'
            : `${active} uploads are still in progress.`,
        detail:
          'If you quit now they pause and continue from where they stopped the next time you open Upreel.',
        buttons: ['Pause and quit', 'Keep uploading'],
        defaultId: 1,
        cancelId: 1,
      })
      if (response !== 0) {
        this.phase = 'running'
        return
      }
    }
    this.phase = 'closing'
    const set = this.opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
    const clear = this.opts.clearTimeout ?? ((h) => clearTimeout(h as NodeJS.Timeout))
    let timer: unknown = null
    const limit = new Promise<'late'>((resolve) => {
      timer = set(() => resolve('late'), this.opts.shutdownLimitMs ?? SHUTDOWN_LIMIT_MS)
    })
    const done = this.opts.shutdown().then(
      () => 'done' as const,
      // A failed shutdown still quits: staying open with half-closed services helps nobody.
      () => 'done' as const,
    )
    const outcome = await Promise.race([done, limit])
    clear(timer)
    this.phase = 'closed'
    if (outcome === 'late') this.opts.exit()
    else this.opts.quit()
  }
}
