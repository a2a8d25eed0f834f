/**
 * Watch folders: a video that appears in a watched folder is added once its size has stayed the
 * same for STABLE_MS (a camera import or an export still writing must not be uploaded half-done).
 * Only files that appear after watching starts are added; what was already there is left alone.
 */
import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from './ports'

/** A file must keep the same size and mtime this long before it is added (3 s). */
export const STABLE_MS = 3000
/** How often candidate files are re-checked (1 s). */
export const CHECK_MS = 1000

interface Candidate {
  size: number
  mtimeMs: number
  since: number
}

export interface WatchOptions {
  /** Adds stable files (QueueService.addPaths with source 'watch'). */
  add(paths: string[]): Promise<void>
  log: Logger
  now?: () => number
  stableMs?: number
  checkMs?: number
}

export class WatchFolders {
  private readonly watchers = new Map<string, FSWatcher>()
  private readonly candidates = new Map<string, Candidate>()
  /** Paths already handed to the queue this session (a rename or touch must not add them twice). */
  private readonly added = new Set<string>()
  private timer: ReturnType<typeof setInterval> | null = null
  private checking = false

  constructor(private readonly opts: WatchOptions) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now()
  }

  /** Watches exactly these folders (adds new watchers, closes removed ones). */
  set(folders: readonly string[]): void {
    for (const [folder, w] of this.watchers) {
      if (!folders.includes(folder)) {
        w.close()
        this.watchers.delete(folder)
      }
    }
    for (const folder of folders) {
      if (this.watchers.has(folder)) continue
      try {
        const w = watch(folder, { recursive: true, persistent: false }, (_event, name) => {
          if (name) this.touch(join(folder, name.toString()))
        })
        w.on('error', (e) => this.opts.log.warn(`watch ${folder}: ${e.message}`))
        this.watchers.set(folder, w)
      } catch (e) {
        this.opts.log.warn(`watch ${folder}: ${(e as Error).message}`)
      }
    }
    if (this.watchers.size > 0 && !this.timer) {
      this.timer = setInterval(() => void this.check(), this.opts.checkMs ?? CHECK_MS)
      this.timer.unref?.()
    } else if (this.watchers.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  folders(): string[] {
    return [...this.watchers.keys()]
  }

  private touch(path: string): void {
    if (this.added.has(path)) return
    // Reset the clock: the file changed (or appeared) just now.
    this.candidates.set(path, { size: -1, mtimeMs: -1, since: this.now() })
  }

  /** Adds candidates whose size has been stable long enough. Public for tests. */
  async check(): Promise<void> {
    if (this.checking) return
    this.checking = true
    try {
      const ready: string[] = []
      for (const [path, c] of this.candidates) {
        let s
        try {
          s = await stat(path)
        } catch {
          this.candidates.delete(path) // deleted or moved away again
          continue
        }
        if (!s.isFile()) {
          this.candidates.delete(path)
          continue
        }
        if (s.size !== c.size || s.mtimeMs !== c.mtimeMs) {
          this.candidates.set(path, { size: s.size, mtimeMs: s.mtimeMs, since: this.now() })
          continue
        }
        if (s.size > 0 && this.now() - c.since >= (this.opts.stableMs ?? STABLE_MS)) {
          ready.push(path)
        }
      }
      if (ready.length === 0) return
      for (const p of ready) {
        this.candidates.delete(p)
        this.added.add(p)
      }
      await this.opts.add(ready)
    } catch (e) {
      this.opts.log.warn(`watch: ${(e as Error).message}`)
    } finally {
      this.checking = false
    }
  }

  dispose(): void {
    this.set([])
    this.candidates.clear()
  }
}
