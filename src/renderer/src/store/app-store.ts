/**
 * Page state that is not the queue: the current view, the destination, interrupted uploads, the
 * duplicate prompt and short notices. Small, so one object replaced on every change.
 */
import type {
  AddResult,
  DestinationSummary,
  DuplicateFile,
  InterruptedRow,
  Notice,
  View,
} from '../../../preload/contract'

export interface DuplicateQuestion {
  token: string
  files: DuplicateFile[]
}

export interface ToastItem extends Notice {
  id: number
}

export interface AppState {
  view: View
  /** undefined until main answered; null = nothing configured (setup screen). */
  destination: DestinationSummary | null | undefined
  version: string
  interrupted: InterruptedRow[]
  /** The user chose "Not now" on the resume banner. */
  interruptedDismissed: boolean
  /**
   * Duplicate questions waiting for an answer, the first one shown. A queue: adds from outside
   * the page can bring several at once, and each holds files that are never uploaded without one.
   */
  duplicates: DuplicateQuestion[]
  toasts: ToastItem[]
  /** Saved settings that are not valid any more (SettingsView.problems): a banner until saved. */
  settingsProblems: string[]
}

/** Toasts stay this long (6 s: long enough to read two lines). */
export const TOAST_MS = 6000

export class AppStore {
  private state: AppState = {
    view: 'queue',
    destination: undefined,
    version: '',
    interrupted: [],
    interruptedDismissed: false,
    duplicates: [],
    toasts: [],
    settingsProblems: [],
  }
  private readonly listeners = new Set<() => void>()
  private nextToast = 1

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  getSnapshot = (): AppState => this.state

  update(patch: Partial<AppState>): void {
    this.state = { ...this.state, ...patch }
    for (const l of this.listeners) l()
  }

  toast(notice: Notice): void {
    const id = this.nextToast++
    this.update({ toasts: [...this.state.toasts, { ...notice, id }].slice(-4) })
    setTimeout(() => this.dismissToast(id), TOAST_MS)
  }

  dismissToast(id: number): void {
    this.update({ toasts: this.state.toasts.filter((t) => t.id !== id) })
  }

  /** Turns an add result into what the user sees: a toast, and the duplicate prompt if any. */
  reportAdd(result: AddResult | null): void {
    if (!result) return
    const bits: string[] = []
    if (result.added) bits.push(`${result.added} added`)
    if (result.skippedCount) {
      const names = result.skipped.slice(0, 3).map((s) => s.name)
      const more =
        result.skippedCount > names.length ? ` and ${result.skippedCount - names.length} more` : ''
      bits.push(`${result.skippedCount} skipped (${names.join(', ')}${more})`)
    }
    for (const r of result.refused) bits.push(`${r.name}: ${r.reason}`)
    if (bits.length) {
      this.toast({
        kind: result.added === 0 && !result.duplicates ? 'error' : 'info',
        message: bits.join(' · '),
      })
    }
    const q = result.duplicates
    // Main asks a new page again what an earlier one left open: one entry per question.
    if (q && !this.state.duplicates.some((d) => d.token === q.token)) {
      this.update({ duplicates: [...this.state.duplicates, q] })
    }
  }

  /** The user answered a question: the next one (if any) is shown. */
  answerDuplicates(token: string): void {
    this.update({ duplicates: this.state.duplicates.filter((d) => d.token !== token) })
  }
}
