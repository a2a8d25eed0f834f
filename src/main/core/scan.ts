import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import type { AddFileInput } from './engine/types'
import { isUploadError } from './errors'
import { isVideoExtension } from './media/extensions'
import { sniffFile } from './media/sniff'

export interface SkippedInput {
  path: string
  reason: string
}

export interface ScanResult {
  files: AddFileInput[]
  /** Left out of a folder: junk, non-videos, loops (counted, not errors). */
  skipped: SkippedInput[]
  /** Files given directly (dropped, picked, named on the command line) that are not videos. */
  refused: SkippedInput[]
}

/** Judges a file's content: resolves for a video, rejects with the media module's UploadError. */
export type ProbeFn = (path: string, signal?: AbortSignal) => Promise<unknown>

export interface ScanOptions {
  /** Take every file, video or not (the "Upload all file types" setting, `--all-files`). */
  allFileTypes: boolean
  /**
   * Judges content (the media module's probe). Without it, files are judged by extension alone,
   * as an engine without media judges nothing either.
   */
  probe?: ProbeFn
  /** How to include non-videos anyway, appended to their reasons (the CLI says --all-files). */
  allFilesHint?: string
}

/** Files that cameras, editors and operating systems leave beside footage. */
const JUNK_NAMES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '.localized', 'icon\r'])
/** A folder walk stops here so a mis-drop of a home folder can't queue a million files. */
export const MAX_SCAN_FILES = 100_000
/** ffprobe runs at once while judging (two cores, shared with whatever is uploading). */
const PROBES_AT_ONCE = 2
/** Opening-byte reads at once (small reads; more in flight hides disk latency). */
const SNIFFS_AT_ONCE = 16
const DEFAULT_HINT = 'turn on "Upload all file types" to include it'
/** The probe's verdicts that mean "not a video", as opposed to "a broken video". */
const NOT_VIDEO = 'NotVideo'

function isJunk(name: string): boolean {
  const lower = name.toLowerCase()
  return JUNK_NAMES.has(lower) || lower.startsWith('._') || lower.startsWith('.')
}

interface Candidate {
  path: string
  relativeDir: string
  /** Given directly rather than found in a folder. */
  direct: boolean
}

type Verdict = { ok: true } | { ok: false; reason: string }

/**
 * Expands dropped paths into files to upload. Folders are walked (symlinked folders followed once:
 * a symlink loop can't trap the walk); hidden and system files are skipped. Unless `allFileTypes`:
 *
 * - A file found in a folder needs a video extension (free, so a folder of 10,000 documents costs
 *   nothing), then opening bytes of a video container (one 4 KiB read); a file that passes the
 *   first and not the second (a text file named .mp4) is probed. Non-videos are skipped and
 *   counted.
 * - A file given directly is always probed, whatever its name: a video named .vid is taken, and
 *   `notes.txt` is refused with the probe's reason.
 *
 * A file the probe calls a broken video (cut short, damaged, unreadable) is kept: its row says
 * what is wrong, which is more use to its owner than a count. When the probe cannot judge (no
 * ffmpeg, too slow), the extension decides. `relativeDir` keeps the dropped folder's own name
 * ("shoot/day 1").
 */
export async function scanInputs(paths: string[], opts: ScanOptions): Promise<ScanResult> {
  const candidates: Candidate[] = []
  const skipped: SkippedInput[] = []
  const refused: SkippedInput[] = []
  const seenDirs = new Set<string>()
  const seenFiles = new Set<string>()
  const hint = opts.allFilesHint ?? DEFAULT_HINT

  const consider = (path: string, relativeDir: string, direct: boolean) => {
    const name = basename(path)
    if (isJunk(name)) return skipped.push({ path, reason: 'hidden or system file' })
    if (!opts.allFileTypes && !direct && !isVideoExtension(path)) {
      return skipped.push({ path, reason: `not a video (${hint})` })
    }
    if (seenFiles.has(path)) return
    seenFiles.add(path)
    candidates.push({ path, relativeDir, direct })
  }

  for (const input of paths) {
    const abs = resolve(input)
    let st
    try {
      st = await stat(abs)
    } catch (e) {
      skipped.push({ path: abs, reason: describeFsError(e) })
      continue
    }
    if (st.isFile()) {
      // An empty file is still queued: the engine reports it on its row with its own message.
      consider(abs, '', true)
      continue
    }
    if (!st.isDirectory()) {
      skipped.push({ path: abs, reason: 'not a regular file or folder' })
      continue
    }
    const root = dirname(abs)
    const stack = [abs]
    while (stack.length) {
      const dir = stack.pop()!
      let real
      try {
        real = await realpath(dir)
      } catch (e) {
        skipped.push({ path: dir, reason: describeFsError(e) })
        continue
      }
      if (seenDirs.has(real)) {
        skipped.push({ path: dir, reason: 'folder already included (symbolic link loop)' })
        continue
      }
      seenDirs.add(real)
      let entries
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch (e) {
        skipped.push({ path: dir, reason: describeFsError(e) })
        continue
      }
      entries.sort((a, b) => a.name.localeCompare(b.name))
      const subdirs: string[] = []
      for (const entry of entries) {
        const full = join(dir, entry.name)
        let isDir = entry.isDirectory()
        let isFile = entry.isFile()
        if (entry.isSymbolicLink()) {
          try {
            const target = await stat(full)
            isDir = target.isDirectory()
            isFile = target.isFile()
          } catch {
            skipped.push({ path: full, reason: 'broken symbolic link' })
            continue
          }
        }
        if (isDir) {
          if (isJunk(entry.name)) skipped.push({ path: full, reason: 'hidden folder' })
          else subdirs.push(full)
        } else if (isFile) {
          if (candidates.length >= MAX_SCAN_FILES) {
            skipped.push({ path: full, reason: `more than ${MAX_SCAN_FILES} files in one drop` })
            continue
          }
          consider(full, relative(root, dir).split(sep).join('/'), false)
        } else {
          skipped.push({ path: full, reason: 'not a regular file' })
        }
      }
      // Depth-first in name order: push in reverse so the first name is walked first.
      for (const d of subdirs.reverse()) stack.push(d)
    }
  }

  if (opts.allFileTypes) {
    return { files: candidates.map(toInput), skipped, refused }
  }
  const probeSlots = createPool(PROBES_AT_ONCE)
  const verdicts = await mapPool(candidates, SNIFFS_AT_ONCE, (c) =>
    judge(c, opts.probe, probeSlots, hint),
  )
  const files: AddFileInput[] = []
  candidates.forEach((c, i) => {
    const v = verdicts[i]!
    if (v.ok) files.push(toInput(c))
    else (c.direct ? refused : skipped).push({ path: c.path, reason: v.reason })
  })
  return { files, skipped, refused }
}

function toInput(c: Candidate): AddFileInput {
  return { path: c.path, relativeDir: c.relativeDir }
}

/** Is this candidate a video? See scanInputs for the rules. */
async function judge(
  c: Candidate,
  probe: ProbeFn | undefined,
  probeSlots: Pool,
  hint: string,
): Promise<Verdict> {
  const byName: Verdict = isVideoExtension(c.path)
    ? { ok: true }
    : { ok: false, reason: `not a video file (${hint})` }
  if (!probe) return byName
  if (!c.direct && (await sniffFile(c.path)) === 'video-container') return { ok: true }
  try {
    await probeSlots(() => probe(c.path))
    return { ok: true }
  } catch (e) {
    if (isUploadError(e) && e.code === NOT_VIDEO) {
      return { ok: false, reason: `${e.message.replace(/\.$/, '')} (${hint})` }
    }
    // A broken video keeps its row (it says what is wrong); no ffmpeg or a stuck probe says
    // nothing about the file: its name decides.
    if (isUploadError(e) && BROKEN_VIDEO.has(e.code)) return { ok: true }
    return byName
  }
}

/** Probe verdicts about a file that is there and meant to be a video, shown on its row. */
const BROKEN_VIDEO = new Set(['Truncated', 'Unreadable', 'FileEmpty', 'FileNotFound', 'NotAFile'])

type Pool = <T>(job: () => Promise<T>) => Promise<T>

/** At most `n` jobs at once, started in call order. */
function createPool(n: number): Pool {
  let running = 0
  const waiting: (() => void)[] = []
  return async (job) => {
    if (running < n) running++
    // A finishing job hands its slot straight to the next waiter (running stays the same).
    else await new Promise<void>((go) => waiting.push(go))
    try {
      return await job()
    } finally {
      const go = waiting.shift()
      if (go) go()
      else running--
    }
  }
}

/** `fn` over `items` with at most `n` at once; results in the items' order. */
async function mapPool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  return results
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return 'no longer exists'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ELOOP') return 'symbolic link loop'
  return `cannot be read (${code ?? String(e)})`
}
