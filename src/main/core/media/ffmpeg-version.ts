/**
 * Which ffmpeg we are talking to, asked once per binary (`ffmpeg -version`) and cached for the
 * process: the poster command differs by version, and a too-old ffmpeg must be named as such
 * instead of every poster failing with words that blame the video.
 *
 * The one difference that matters today: `-fps_mode` (needed so the keyframe shortcut's frame is
 * encoded as is, see ./thumbnail.ts) arrived in ffmpeg 5.1; older versions spell it `-vsync`.
 * Ubuntu 22.04 ships 4.4, 20.04 ships 4.2.
 */
import { toolMissing, toolTooOld } from './media-errors'
import { runProcess } from './run-process'

export interface FfmpegVersion {
  major: number
  minor: number
  /** The version word as ffmpeg printed it ("4.4.2-0ubuntu0.22.04.1"), for messages. */
  text: string
}

/** First release with `-fps_mode` (the older spelling is `-vsync`). */
export const FPS_MODE_SINCE = { major: 5, minor: 1 } as const
/**
 * Oldest ffmpeg Upreel runs: 4.0 (2018). Everything the poster command uses exists there (the
 * `metadata` filter's `file` option since 3.1), but nothing older is tested or shipped by a
 * supported OS, so older ones get a clear "too old" message instead of a guess.
 */
export const MIN_FFMPEG = { major: 4, minor: 0 } as const
/** `ffmpeg -version` prints a few lines and exits; a stuck binary must not hold a poster forever. */
const VERSION_TIMEOUT_MS = 10_000

/**
 * The release number from `ffmpeg -version`'s first line. Undefined for builds from git, whose
 * "version" is a date or a revision ("N-113000-g1a2b3c", "2024-05-01-git-…"): those are newer
 * than any release with the same features, so callers treat undefined as "current".
 */
export function parseFfmpegVersion(text: string): FfmpegVersion | undefined {
  const m = /ffmpeg version (\S+)/.exec(text)
  if (!m) return undefined
  const word = m[1]!
  // "n6.1.1" (FFmpeg's own tags), "5.1.9-0+deb12u1", "7.0.2-static", "6.0-essentials_build-…".
  const v = /^n?(\d+)\.(\d+)/.exec(word)
  if (!v || /^\d{4}-\d{2}-\d{2}/.test(word)) return undefined
  return { major: Number(v[1]), minor: Number(v[2]), text: word }
}

function atLeast(v: FfmpegVersion, min: { major: number; minor: number }): boolean {
  return v.major > min.major || (v.major === min.major && v.minor >= min.minor)
}

/** "Encode each decoded frame as it comes" in the spelling this ffmpeg understands. */
export function passthroughArgs(version: FfmpegVersion | undefined): string[] {
  return !version || atLeast(version, FPS_MODE_SINCE)
    ? ['-fps_mode', 'passthrough']
    : ['-vsync', 'passthrough']
}

/** True when this version is older than Upreel supports. */
export function tooOld(version: FfmpegVersion | undefined): boolean {
  return !!version && !atLeast(version, MIN_FFMPEG)
}

const cache = new Map<string, Promise<FfmpegVersion | undefined>>()

/**
 * The version of the ffmpeg at `binary`, asked once per process. Rejects with MediaToolMissing when
 * it cannot be started and MediaToolTooOld when it is older than MIN_FFMPEG; an answer that names
 * no release (a git build, an odd fork) counts as current.
 */
export async function ffmpegVersion(
  binary: string,
  signal?: AbortSignal,
): Promise<FfmpegVersion | undefined> {
  let pending = cache.get(binary)
  if (!pending) {
    pending = runProcess(binary, ['-hide_banner', '-version'], {
      timeoutMs: VERSION_TIMEOUT_MS,
    }).then(
      (r) => parseFfmpegVersion(r.stdout),
      (err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'EACCES') throw toolMissing('thumbnail', binary, err)
        // A timeout or an odd failure says nothing about the version: use the current spelling,
        // and let the poster's own run report what is wrong.
        return undefined
      },
    )
    cache.set(binary, pending)
    // Not cached when it could not even start: the user may install ffmpeg and try again.
    pending.catch(() => cache.delete(binary))
  }
  signal?.throwIfAborted()
  const version = await pending
  if (tooOld(version)) throw toolTooOld(binary, version!.text, MIN_FFMPEG)
  return version
}

/** Forgets what was learnt (tests). */
export function clearFfmpegVersionCache(): void {
  cache.clear()
}
