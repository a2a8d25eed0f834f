/**
 * The main window and the files that come from outside it ("Open with Upreel", a second launch,
 * the menu's Add…), without Electron: index.ts passes the real window factory and services, the
 * unit test fakes. Files from outside always bring the window up first: on macOS the app runs on
 * with no window, and the services hold such files until a page says it listens (the duplicate
 * question is asked there), so adding without a window would wait forever.
 */
import type { AddSource } from './services/queue-service'

/** The part of a BrowserWindow this needs. */
export interface ShellWindow {
  isDestroyed(): boolean
  isMinimized(): boolean
  restore(): void
  show(): void
  focus(): void
}

export interface AppShellOptions<W extends ShellWindow> {
  /** Makes the main window (createMainWindow plus its handlers); it calls `closed` when gone. */
  open(): W
  /** The services once they exist (adds wait here before that). */
  services(): { addPaths(paths: string[], source: AddSource): Promise<void> } | null
}

export class AppShell<W extends ShellWindow> {
  private win: W | null = null
  private started = false
  private readonly early: { paths: string[]; source: AddSource }[] = []

  constructor(private readonly opts: AppShellOptions<W>) {}

  /** The window, when there is one. */
  window(): W | null {
    return this.win && !this.win.isDestroyed() ? this.win : null
  }

  /** The window `w` was closed (macOS keeps running without one). */
  closed(w: W): void {
    if (this.win === w) this.win = null
  }

  /**
   * Brings the window to the front, opening one when there is none. Before `start` (Electron's
   * 'ready', the services) no window can exist yet: `start` opens it.
   */
  show(): W | null {
    if (!this.started) return null
    const existing = this.window()
    if (!existing) {
      // It shows itself once painted (ready-to-show): no flash of an empty window.
      this.win = this.opts.open()
      return this.win
    }
    if (existing.isMinimized()) existing.restore()
    existing.show()
    existing.focus()
    return existing
  }

  /** Files from outside the page: the window first, then the services' add flow. */
  add(paths: string[], source: AddSource): void {
    this.show()
    this.deliver(paths, source)
  }

  /**
   * The services exist: open the window and hand over what arrived before (the launch's own
   * file arguments, "Open with" before 'ready'). The new window shows itself once painted.
   */
  start(): W | null {
    this.started = true
    const w = this.show()
    for (const e of this.early.splice(0)) this.deliver(e.paths, e.source)
    return w
  }

  private deliver(paths: string[], source: AddSource): void {
    if (paths.length === 0) return
    const services = this.started ? this.opts.services() : null
    if (services) void services.addPaths(paths, source)
    else this.early.push({ paths, source })
  }
}
