import { isAbsolute, resolve } from 'node:path'

/**
 * File and folder arguments of a launch ("upreel video.mp4", "Open with Upreel", a second launch
 * forwarded by the single-instance lock). Flags (Chromium adds its own) and the executable are
 * dropped; in development (`electron .`) the app path is dropped too. Paths are resolved against
 * the launching process's working directory; QueueService checks them like any other path.
 */
export function fileArgs(argv: readonly string[], cwd: string, isDefaultApp: boolean): string[] {
  const rest = argv.slice(isDefaultApp ? 2 : 1)
  const out: string[] = []
  for (const arg of rest) {
    if (arg === '' || arg.startsWith('-')) continue
    out.push(isAbsolute(arg) ? arg : resolve(cwd, arg))
  }
  return out
}
