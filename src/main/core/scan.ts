import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { hasVideoExtension } from './content-type'
import type { AddFileInput } from './engine/types'

export interface SkippedInput {
  path: string
  reason: string
}

export interface ScanResult {
  files: AddFileInput[]
  skipped: SkippedInput[]
}

/** Files that cameras, editors and operating systems leave beside footage. */
const JUNK_NAMES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '.localized', 'icon\r'])
/** A folder walk stops here so a mis-drop of a home folder can't queue a million files. */
export const MAX_SCAN_FILES = 100_000

function isJunk(name: string): boolean {
  const lower = name.toLowerCase()
  return JUNK_NAMES.has(lower) || lower.startsWith('._') || lower.startsWith('.')
}

/**
 * Expands dropped paths into files to upload. Folders are walked (symlinked folders followed once:
 * a symlink loop can't trap the walk); hidden and system files are skipped; non-videos are skipped
 * unless `allFileTypes`. Each skip is reported with its reason, so the app can count them.
 * `relativeDir` keeps the dropped folder's own name ("shoot/day 1").
 */
export async function scanInputs(
  paths: string[],
  opts: { allFileTypes: boolean },
): Promise<ScanResult> {
  const files: AddFileInput[] = []
  const skipped: SkippedInput[] = []
  const seenDirs = new Set<string>()
  const seenFiles = new Set<string>()

  const consider = (path: string, relativeDir: string) => {
    const name = basename(path)
    if (isJunk(name)) return skipped.push({ path, reason: 'hidden or system file' })
    if (!opts.allFileTypes && !hasVideoExtension(path)) {
      return skipped.push({
        path,
        reason: 'not a video (turn on "Upload all file types" to include it)',
      })
    }
    if (seenFiles.has(path)) return
    seenFiles.add(path)
    files.push({ path, relativeDir })
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
      consider(abs, '')
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
          if (files.length >= MAX_SCAN_FILES) {
            skipped.push({ path: full, reason: `more than ${MAX_SCAN_FILES} files in one drop` })
            continue
          }
          consider(full, relative(root, dir).split(sep).join('/'))
        } else {
          skipped.push({ path: full, reason: 'not a regular file' })
        }
      }
      // Depth-first in name order: push in reverse so the first name is walked first.
      for (const d of subdirs.reverse()) stack.push(d)
    }
  }
  return { files, skipped }
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return 'no longer exists'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ELOOP') return 'symbolic link loop'
  return `cannot be read (${code ?? String(e)})`
}
