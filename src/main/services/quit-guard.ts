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
}

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
    try {
      await this.opts.shutdown()
    } finally {
      this.phase = 'closed'
      this.opts.quit()
    }
  }
}
