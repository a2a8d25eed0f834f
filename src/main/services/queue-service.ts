/**
 * Adding files: path checks, folder scan (junk and non-videos skipped and counted), the duplicate
 * check against history, then the engine. Used by drops, dialogs, second-launch arguments and
 * watch folders alike, so every way in gets the same checks.
 */
import { randomUUID } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { AddResult, DuplicateFile } from '../../preload/contract'
import type { CoreFunctions } from './core'
import type { AddFileInput, HistoryEntry } from './core-types'
import type { EngineService } from './engine-service'
import { checkPaths, realRoots, resolvesInside } from './paths'
import type { SettingsService } from './settings'

/** How many skipped names travel to the page (the count is always exact). */
const SKIPPED_LISTED = 100
/** Held duplicates are dropped after 30 minutes: the dialog is long gone by then. */
const DUPLICATE_HOLD_MS = 30 * 60_000
const OWN_DATA = "Upreel's own data folder cannot be uploaded."

export type AddSource = 'drop' | 'dialog' | 'watch' | 'argv'

export interface QueueServiceOptions {
  core: CoreFunctions
  engines: EngineService
  settings: SettingsService
  /** Folders nothing may be uploaded from (the app's data dir). */
  forbiddenRoots: string[]
  now?: () => number
}

export class QueueService {
  /** Duplicates held back until the user answers, with the question the page was asked. */
  private readonly held = new Map<
    string,
    { files: AddFileInput[]; question: DuplicateFile[]; at: number }
  >()

  constructor(private readonly opts: QueueServiceOptions) {}

  get forbiddenRoots(): readonly string[] {
    return this.opts.forbiddenRoots
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now()
  }

  async addPaths(paths: readonly string[], source: AddSource): Promise<AddResult> {
    const engine = this.opts.engines.require()
    const checked = await checkPaths(paths, this.opts.forbiddenRoots)
    const result: AddResult = {
      added: 0,
      skipped: [],
      skippedCount: 0,
      refused: checked.refused.map((r) => ({ name: r.name, reason: r.reason })),
    }
    if (checked.valid.length === 0) return result

    const { allFileTypes } = this.opts.settings.get()
    const scan = await this.opts.core.scanInputs(
      checked.valid.map((v) => v.path),
      { allFileTypes, cacheDir: this.opts.engines.cacheDir },
    )
    // By real path: a dropped folder may hold a symlink to the data folder (or to a file in it).
    const roots = await realRoots(this.opts.forbiddenRoots)
    const files: AddFileInput[] = []
    const skipped = [...scan.skipped]
    for (const f of scan.files) {
      if (await resolvesInside(f.path, roots)) skipped.push({ path: f.path, reason: OWN_DATA })
      else files.push(f)
    }
    result.skippedCount = skipped.length
    result.skipped = skipped
      .slice(0, SKIPPED_LISTED)
      .map((s) => ({ name: basename(s.path), reason: s.reason }))
    // A non-video given on its own is refused with the probe's reason (shown with the name);
    // one that appears in a watch folder is a folder's content: skipped and counted.
    for (const r of scan.refused) {
      const entry = { name: basename(r.path), reason: r.reason }
      if (source !== 'watch') result.refused.push(entry)
      else if (++result.skippedCount <= SKIPPED_LISTED) result.skipped.push(entry)
    }

    const { fresh, duplicates } = await this.splitDuplicates(files)
    if (duplicates.length > 0) {
      if (source === 'watch') {
        // A watch folder never re-uploads silently, and never asks: it says so and moves on.
        result.skippedCount += duplicates.length
        for (const d of duplicates) {
          result.skipped.push({ name: basename(d.file.path), reason: 'Already uploaded.' })
        }
      } else {
        const token = randomUUID()
        this.prune()
        const question = duplicates.map((d) => toDuplicate(d))
        this.held.set(token, { files: duplicates.map((d) => d.file), question, at: this.now() })
        result.duplicates = { token, files: question }
      }
    }
    if (fresh.length > 0) {
      const snaps = await engine.add(fresh)
      result.added = snaps.length
    }
    return result
  }

  /** Questions not answered yet: a new page (a reload, a window opened again) asks them again. */
  openQuestions(): NonNullable<AddResult['duplicates']>[] {
    this.prune()
    return [...this.held].map(([token, h]) => ({ token, files: h.question }))
  }

  async confirmDuplicates(token: string, upload: boolean): Promise<AddResult> {
    this.prune()
    const held = this.held.get(token)
    this.held.delete(token)
    const result: AddResult = { added: 0, skipped: [], skippedCount: 0, refused: [] }
    if (!held && upload) {
      // Answered after the files were let go: say so rather than upload nothing in silence.
      result.refused.push({
        name: 'Upload again',
        reason: 'the question waited more than 30 minutes; add the files again to upload them.',
      })
    }
    if (!held || !upload) return result
    // The files were checked when first added; check again: they may have moved since.
    const checked = await checkPaths(
      held.files.map((f) => f.path),
      this.opts.forbiddenRoots,
    )
    const ok = new Set(checked.valid.filter((v) => v.kind === 'file').map((v) => v.path))
    result.refused = checked.refused.map((r) => ({ name: r.name, reason: r.reason }))
    const files = held.files.filter((f) => ok.has(f.path))
    if (files.length > 0) result.added = (await this.opts.engines.require().add(files)).length
    return result
  }

  private prune(): void {
    const cutoff = this.now() - DUPLICATE_HOLD_MS
    for (const [token, h] of this.held) if (h.at < cutoff) this.held.delete(token)
  }

  /** Only files whose size matches something in history are fingerprinted (cheap for big drops). */
  private async splitDuplicates(files: AddFileInput[]): Promise<{
    fresh: AddFileInput[]
    duplicates: { file: AddFileInput; previous: HistoryEntry }[]
  }> {
    const engine = this.opts.engines.require()
    const history = await engine.history()
    if (history.length === 0) return { fresh: files, duplicates: [] }
    const sizes = new Set(history.map((h) => h.size))
    const fresh: AddFileInput[] = []
    const duplicates: { file: AddFileInput; previous: HistoryEntry }[] = []
    for (const file of files) {
      let size: number
      try {
        size = (await stat(file.path)).size
      } catch {
        fresh.push(file) // the engine reports the unreadable file on its row
        continue
      }
      if (!sizes.has(size)) {
        fresh.push(file)
        continue
      }
      const found = await engine.findDuplicates(file.path)
      if (found[0]) duplicates.push({ file, previous: found[0] })
      else fresh.push(file)
    }
    return { fresh, duplicates }
  }
}

function toDuplicate(d: { file: AddFileInput; previous: HistoryEntry }): DuplicateFile {
  return {
    name: basename(d.file.path),
    relativeDir: d.file.relativeDir ?? '',
    previous: {
      destinationLabel: d.previous.destinationLabel,
      key: d.previous.key,
      completedAt: d.previous.completedAt,
    },
  }
}
