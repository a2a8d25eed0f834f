/**
 * Where ffmpeg and ffprobe live, decided in this one module (Kap's `utils/ffmpeg-path.ts`).
 *
 * ffmpeg: `FFMPEG_PATH` → the ffmpeg-static package's binary if it is on disk → `ffmpeg` on PATH
 * (on macOS also Homebrew's and MacPorts' folders, see MAC_TOOL_DIRS).
 * ffprobe: `FFPROBE_PATH` → `ffprobe` beside the chosen ffmpeg → `ffprobe` on PATH → none.
 *
 * Why ffprobe is optional: ffprobe's JSON is the exact, structured answer (display-matrix rotation
 * as a number, bit rates in bit/s, dispositions), so it is used whenever it is found. But the only
 * binary Upreel can ship (ffmpeg-static) has no ffprobe, so when none is found, probing falls back
 * to `ffmpeg -i` and parses its stderr (./parse-ffmpeg-info.ts). Both paths are tested on real files.
 *
 * An explicitly set FFMPEG_PATH/FFPROBE_PATH that points nowhere is an error, not a silent fallback:
 * the person who set it meant that binary.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { posix, win32 } from 'node:path'
import { UploadError } from '../errors'

export interface MediaTools {
  ffmpeg: string
  /** Absent when only ffmpeg is available: probing then parses `ffmpeg -i` output. */
  ffprobe?: string
  /** Where ffmpeg was found, for logs and the "about" screen. */
  ffmpegSource: 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH' | 'explicit'
}

/** Everything resolution reads from the outside world, injectable so the logic is unit-testable. */
export interface ResolveDeps {
  env: Record<string, string | undefined>
  platform: NodeJS.Platform
  /** True when the path is an existing regular file we may execute. */
  isExecutable: (path: string) => boolean
  /** ffmpeg-static's binary path as the package would report it (it may not exist on disk). */
  ffmpegStaticPath: () => string | undefined
}

export const MEDIA_TOOL_MISSING = 'MediaToolMissing'

/**
 * Where Homebrew (Apple silicon, Intel) and MacPorts install programs. An app opened from Finder
 * or the Dock gets launchd's PATH (/usr/bin:/bin:/usr/sbin:/sbin), not the shell's, so a
 * `brew install ffmpeg` is invisible to it unless these are searched too (after PATH).
 */
export const MAC_TOOL_DIRS = ['/opt/homebrew/bin', '/usr/local/bin', '/opt/local/bin'] as const

export function resolveMediaTools(deps: ResolveDeps = nodeResolveDeps()): MediaTools {
  const { env, platform, isExecutable } = deps
  const exe = (name: string): string => (platform === 'win32' ? `${name}.exe` : name)
  const { dirname, join } = pathFor(platform)

  let ffmpeg: string | undefined
  let ffmpegSource: MediaTools['ffmpegSource'] = 'PATH'
  let staticNote = 'the ffmpeg-static package is not installed'
  if (env.FFMPEG_PATH) {
    if (!isExecutable(env.FFMPEG_PATH)) {
      throw missing(
        `FFMPEG_PATH is set to "${env.FFMPEG_PATH}", but there is no program there. ` +
          'Fix or unset FFMPEG_PATH.',
      )
    }
    ffmpeg = env.FFMPEG_PATH
    ffmpegSource = 'FFMPEG_PATH'
  }
  if (!ffmpeg) {
    const reported = deps.ffmpegStaticPath()
    if (reported) {
      const unpacked = asarUnpacked(reported)
      if (isExecutable(unpacked)) {
        ffmpeg = unpacked
        ffmpegSource = 'ffmpeg-static'
      } else {
        staticNote = `ffmpeg-static is installed but its binary is missing (${unpacked})`
      }
    }
  }
  if (!ffmpeg) ffmpeg = findOnPath(exe('ffmpeg'), env, platform, isExecutable)
  if (!ffmpeg) {
    throw missing(
      'Upreel needs ffmpeg to read videos and make thumbnails, and could not find it. ' +
        `It looked at FFMPEG_PATH (not set), the ffmpeg-static package (${staticNote}) and ` +
        `"ffmpeg" on the PATH${platform === 'darwin' ? ` and in ${MAC_TOOL_DIRS.join(', ')}` : ''} ` +
        '(not found). Install ffmpeg (for example "sudo apt install ffmpeg", ' +
        '"brew install ffmpeg" or "winget install ffmpeg"), or set FFMPEG_PATH to the full path of ' +
        'the ffmpeg program.',
    )
  }

  let ffprobe: string | undefined
  if (env.FFPROBE_PATH) {
    if (!isExecutable(env.FFPROBE_PATH)) {
      throw missing(
        `FFPROBE_PATH is set to "${env.FFPROBE_PATH}", but there is no program there. ` +
          'Fix or unset FFPROBE_PATH.',
      )
    }
    ffprobe = env.FFPROBE_PATH
  } else {
    const beside = join(dirname(ffmpeg), exe('ffprobe'))
    ffprobe = isExecutable(beside)
      ? beside
      : findOnPath(exe('ffprobe'), env, platform, isExecutable)
  }
  return { ffmpeg, ffprobe, ffmpegSource }
}

/**
 * electron-builder packs node_modules into app.asar, which child processes cannot read; binaries
 * are listed in `asarUnpack` and live in app.asar.unpacked instead.
 */
export function asarUnpacked(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2')
}

/**
 * The first `name` in PATH that is an executable file (what a shell would run); on macOS then in
 * MAC_TOOL_DIRS.
 */
export function findOnPath(
  name: string,
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform,
  isExecutable: (path: string) => boolean,
): string | undefined {
  // Windows keeps the variable as "Path"; env objects there are case-insensitive, injected ones not.
  const pathVar = env.PATH ?? env.Path ?? ''
  const p = pathFor(platform)
  const dirs = pathVar.split(p.delimiter)
  if (platform === 'darwin') dirs.push(...MAC_TOOL_DIRS)
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = p.join(dir.replace(/^"(.*)"$/, '$1'), name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

function pathFor(platform: NodeJS.Platform): typeof posix {
  return platform === 'win32' ? win32 : posix
}

function missing(message: string): UploadError {
  return new UploadError({ code: MEDIA_TOOL_MISSING, message, operation: 'resolve ffmpeg' })
}

/** The real machine: process.env, the file system and ffmpeg-static's package location. */
export function nodeResolveDeps(): ResolveDeps {
  return {
    env: process.env,
    platform: process.platform,
    isExecutable,
    ffmpegStaticPath,
  }
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    if (process.platform !== 'win32') accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * ffmpeg-static's index.js exports join(its dir, 'ffmpeg'), but it also honours FFMPEG_BIN, which
 * CI sets to /usr/bin/ffmpeg to keep its install script from downloading. Computing the path from
 * the package location keeps the chain honest: the package's own binary, or nothing.
 */
function ffmpegStaticPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url)
    const pkg = require.resolve('ffmpeg-static/package.json')
    const { dirname, join } = pathFor(process.platform)
    return join(dirname(pkg), process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg')
  } catch {
    return undefined
  }
}

let cached: MediaTools | undefined

/** resolveMediaTools() on this machine, once per process (the answer does not change while we run). */
export function defaultMediaTools(): MediaTools {
  cached ??= resolveMediaTools()
  return cached
}
