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
 * The encoded file list: a real command line is at most ~2 MB (Linux; 32 K on Windows, ~1 MB on
 * macOS); JSON escapes and base64 make that at most a few times larger.
 */
const MAX_ENCODED_LENGTH = 16 * 1024 * 1024

/**
 * What a second launch sends the running Upreel as the single-instance lock's additionalData: its
 * file arguments, already resolved against its own working directory, and that directory. Each is
 * ONE string, base64 of the UTF-8 JSON, never an array and never raw text:
 * - Electron issue #52020 (41-x-y): on POSIX, an `argv` array of 9 or more elements in
 *   additionalData makes the second instance take the lock and SIGKILL the first;
 * - Electron issue #49801: the POSIX singleton parses its message (NUL-delimited, whitespace
 *   trimmed) around V8's serialization of additionalData, and a string with a character above
 *   U+00FF (a Japanese file name) is serialized as UTF-16, full of NUL bytes, which corrupts it.
 *   V8 writes a string in its internal width, so even ASCII-only text derived from such a string
 *   (JSON with \u escapes) can go out as UTF-16; Buffer's base64 is always a one-byte string.
 */
export interface LaunchData {
  files: string
  cwd: string
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function pack(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64')
}

function unpack(s: string): unknown {
  if (!BASE64.test(s)) throw new Error('not base64')
  return JSON.parse(Buffer.from(s, 'base64').toString('utf8'))
}

/** This launch's file arguments and working directory, for the Upreel already running. */
export function encodeLaunch(
  argv: readonly string[],
  cwd: string,
  isDefaultApp: boolean,
): LaunchData {
  return { files: pack(fileArgs(argv, cwd, isDefaultApp)), cwd: pack(cwd) }
}

/**
 * The file arguments a second launch sent (encodeLaunch). Another process wrote them, so their
 * shape is checked: strings of bounded size, absolute paths. Anything else (an older Upreel's
 * shape, a damaged message) falls back to the argv and working directory Electron passes, which
 * may be reordered and carry Chromium's additions (fileArgs drops flags).
 */
export function decodeLaunch(
  additionalData: unknown,
  fallback: { argv: string[]; cwd: string },
  isDefaultApp: boolean,
): string[] {
  return decoded(additionalData) ?? fileArgs(fallback.argv, fallback.cwd, isDefaultApp)
}

function decoded(additionalData: unknown): string[] | undefined {
  const d = additionalData as Partial<Record<keyof LaunchData, unknown>> | null | undefined
  if (typeof d?.files !== 'string' || typeof d.cwd !== 'string') return undefined
  if (d.files.length > MAX_ENCODED_LENGTH || d.cwd.length > MAX_ARG_LENGTH * 8) return undefined
  let files: unknown
  let cwd: unknown
  try {
    files = unpack(d.files)
    cwd = unpack(d.cwd)
  } catch {
    return undefined
  }
  if (typeof cwd !== 'string' || cwd.length > MAX_ARG_LENGTH || !isAbsolute(cwd)) return undefined
  if (!Array.isArray(files) || files.length > MAX_ARGS) return undefined
  const out: string[] = []
  for (const f of files) {
    if (typeof f !== 'string' || f === '' || f.length > MAX_ARG_LENGTH) return undefined
    // The sender resolved them; a relative one (an older sender) is resolved where it ran.
    out.push(isAbsolute(f) ? f : resolve(cwd, f))
  }
  return out
}
