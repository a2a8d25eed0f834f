import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * File and folder arguments of a launch ("upreel video.mp4", "Open with Upreel", a second launch
 * forwarded by the single-instance lock). Flags (Chromium adds its own) and the executable are
 * dropped; in development (`electron .`) the app path is dropped too. `file://` URLs (Linux file
 * managers may pass them for the .desktop entry's %U) become paths. Paths
 * are resolved against the launching process's working directory; QueueService checks them like
 * any other path.
 */
export function fileArgs(argv: readonly string[], cwd: string, isDefaultApp: boolean): string[] {
  const rest = argv.slice(isDefaultApp ? 2 : 1)
  const out: string[] = []
  for (const arg of rest) {
    if (arg === '' || arg.startsWith('-')) continue
    if (/^file:/i.test(arg)) {
      try {
        out.push(fileURLToPath(arg))
      } catch {
        // a file: URL naming another host, or malformed: not a file here
      }
      continue
    }
    out.push(isAbsolute(arg) ? arg : resolve(cwd, arg))
  }
  return out
}

/** MAX_PATH-ish bounds for what a second launch may hand us: more is not a real launch. */
const MAX_ARGS = 10_000
const MAX_ARG_LENGTH = 32_768

/**
 * The second launch's own argv and working directory, sent as the single-instance lock's
 * additionalData (exact, unlike the argv Electron passes, which may be reordered and extended).
 * Another process wrote it, so its shape is checked; anything else falls back to Electron's.
 */
export function secondInstanceArgs(
  additionalData: unknown,
  fallback: { argv: string[]; cwd: string },
): { argv: string[]; cwd: string } {
  const d = additionalData as { argv?: unknown; cwd?: unknown } | null | undefined
  const argvOk =
    Array.isArray(d?.argv) &&
    d.argv.length <= MAX_ARGS &&
    d.argv.every((a) => typeof a === 'string' && a.length <= MAX_ARG_LENGTH)
  const cwdOk = typeof d?.cwd === 'string' && d.cwd.length <= MAX_ARG_LENGTH && isAbsolute(d.cwd)
  return argvOk && cwdOk ? { argv: d!.argv as string[], cwd: d!.cwd as string } : fallback
}
