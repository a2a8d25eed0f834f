/**
 * Every path that arrives from outside main (a drop in the page, a second launch's arguments, a
 * watch folder) is checked here before anything reads it: absolute, no NUL, exists, and a regular
 * file or a folder (not a FIFO that would hang a read, not a device, not a socket). Paths inside
 * the app's own data dir (journal, settings with encrypted secrets) are refused outright, compared
 * by real path on both sides: a symlink (or a symlinked folder on the way) is no way in.
 */
import { realpath, stat } from 'node:fs/promises'
import { basename, isAbsolute, relative, sep } from 'node:path'

export interface PathCheck {
  valid: { path: string; kind: 'file' | 'dir' }[]
  refused: { path: string; name: string; reason: string }[]
}

export function isInside(child: string, root: string): boolean {
  const rel = relative(root, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..')
}

/** A path with every symlink resolved; the path itself when it does not exist (yet). */
async function realOrSelf(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    return path
  }
}

/** The forbidden roots as real paths (the data dir may itself sit under a symlink). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out = new Set<string>()
  for (const root of roots) {
    out.add(root)
    out.add(await realOrSelf(root))
  }
  return [...out]
}

/**
 * Whether `path` is, once every symlink is resolved, inside one of `roots` (already real, see
 * realRoots). A path that cannot be resolved is judged as written: it cannot be read either.
 */
export async function resolvesInside(path: string, roots: readonly string[]): Promise<boolean> {
  const real = await realOrSelf(path)
  return roots.some((root) => isInside(real, root) || isInside(path, root))
}

export async function checkPaths(
  paths: readonly string[],
  forbiddenRoots: readonly string[],
): Promise<PathCheck> {
  const out: PathCheck = { valid: [], refused: [] }
  const roots = await realRoots(forbiddenRoots)
  const seen = new Set<string>()
  for (const raw of paths) {
    const name = basename(raw) || raw
    const refuse = (reason: string) => out.refused.push({ path: raw, name, reason })
    if (typeof raw !== 'string' || raw === '' || raw.includes('\0') || !isAbsolute(raw)) {
      refuse('Not a file on this computer.')
      continue
    }
    let real: string
    try {
      real = await realpath(raw)
    } catch {
      refuse('It no longer exists or cannot be read.')
      continue
    }
    if (roots.some((root) => isInside(real, root))) {
      refuse("Upreel's own data folder cannot be uploaded.")
      continue
    }
    let kind: 'file' | 'dir'
    try {
      const s = await stat(real)
      if (s.isFile()) kind = 'file'
      else if (s.isDirectory()) kind = 'dir'
      else {
        refuse('Not a regular file or folder.')
        continue
      }
    } catch {
      refuse('It cannot be read.')
      continue
    }
    if (seen.has(real)) continue
    seen.add(real)
    out.valid.push({ path: real, kind })
  }
  return out
}
