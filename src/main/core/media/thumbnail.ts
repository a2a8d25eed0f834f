/**
 * thumbnail(): the poster JPEG, one ffmpeg process per try.
 *
 * Why ffmpeg is spawned directly and not through fluent-ffmpeg: fluent-ffmpeg is archived upstream
 * (May 2025), its `screenshots()` probes the file again and extracts through a multi-timestamp
 * filter (measured ~9× slower on a 2-minute 1080p file), and what we need is one short, fixed
 * command line. Spawning it ourselves keeps that command visible and unit-testable
 * (thumbnailArgs), and gives cancellation and the stderr tail for free (./run-process.ts).
 *
 * The command: `-ss` BEFORE `-i` so ffmpeg seeks in the container index instead of decoding from
 * the start; one frame; scaled so the longest displayed side is at most 640 px (ffmpeg has already
 * applied the rotation); and, in the same process, signalstats on the small frame printed to stdout
 * with the frame's timestamp, so telling a black frame costs nothing extra.
 *
 * Each offset is tried in two steps. First `-noaccurate_seek`: ffmpeg returns the keyframe at or
 * before the offset, decoding ONE frame. That frame is kept when it is at least half-way to the
 * offset (the keyframe at 52 s for 60 s: as good a poster, and a 2-hour 1080p file takes ~0.2 s
 * instead of decoding 8 s of 1080p to reach 60 s exactly). When the keyframe is further back (a
 * short clip whose only keyframe is frame 0, which is also why "never frame 0" needs this), the
 * offset is taken exactly, decoding from that keyframe.
 *
 * Last resort, when no offset gave any frame that way: decode from the start of the file up to the
 * offset (`trim` after `-i`). Seeking before `-i` relies on the container's timestamps leading to a
 * keyframe; in an MPEG-TS/M2TS with a long keyframe interval it lands between keyframes and every
 * frame after it is undecodable ("Missing reference picture"), so nothing comes out. Decoding from
 * the start is slow on a long file (bounded by the time limit) but only runs where seeking failed.
 * If even that gives nothing (a duration that claims more than the file holds), the first decodable
 * frame is used: a poster from frame 0 is better than none.
 */
import { randomUUID } from 'node:crypto'
import { readFile, rename, rm, stat } from 'node:fs/promises'
import type { MediaInfo } from '../engine/types'
import { isAbortError } from '../errors'
import { defaultMediaTools, type MediaTools } from './ffmpeg-path'
import { ffmpegVersion, passthroughArgs, type FfmpegVersion } from './ffmpeg-version'
import { fileNotFound, thumbnailFailed, timedOut, toolMissing } from './media-errors'
import { parseFirstFrame, stderrTail } from './parse'
import { ProcessTimeoutError, runProcess } from './run-process'

/** Longest side of the poster in px: what upload platforms show in lists (issue #4). */
export const DEFAULT_MAX_LONG_SIDE = 640
/** Poster offset bounds in s: frame 0 is often black, and past a minute is a spoiler (issue #4). */
export const POSTER_MIN_SEC = 1
export const POSTER_MAX_SEC = 60
/** Share of the duration where the first poster candidate is taken (issue #4). */
export const POSTER_FRACTION = 0.1
/** Where to look next when a candidate frame is black, as shares of the duration. */
const FALLBACK_FRACTIONS = [0.25, 0.5, 0.75]
/** Offsets tried when the duration is unknown (s): later ones first fall off short clips. */
const UNKNOWN_DURATION_OFFSETS = [POSTER_MIN_SEC, 0.5, 0.1]
/**
 * A frame is near-black when 90 % of its pixels have luma ≤ 32 (signalstats' YHIGH, 8-bit).
 * Video black is 16 (BT.601/709 limited range), so this leaves 16 codes for noise and compression
 * while a dark but real scene (a street at night) still has lit parts above it.
 */
export const NEAR_BLACK_LUMA = 32
/**
 * A keyframe found before the offset is used when it is at least this share of the way there;
 * otherwise the exact offset is decoded (see the header).
 */
export const KEYFRAME_MIN_SHARE = 0.5
/** All tries together; one try on a 2-hour 1080p file takes well under a second here (bench). */
export const THUMBNAIL_TIMEOUT_MS = 60_000
/** JPEG quality on ffmpeg's 2–31 scale (lower is better): ~30–60 KB at 640 px. */
const JPEG_QSCALE = '3'

export interface ThumbnailOptions {
  /** Where to write the JPEG (written to a temporary name beside it, then renamed). */
  out: string
  maxLongSide?: number
  /** Take exactly this offset (s): no keyframe shortcut, no black-frame retry. */
  atSec?: number
  signal?: AbortSignal
  timeoutMs?: number
  tools?: MediaTools
  onSpawn?: (pid: number) => void
}

export interface ThumbnailResult {
  path: string
  /** Time of the poster frame in the video (s): the offset, or the keyframe shortly before it. */
  atSec: number
  width: number
  height: number
  /** signalstats YAVG of the poster (8-bit luma), when measured. */
  meanLuma?: number
  /** ffmpeg runs it took (keyframe tries, exact tries, candidates past the end). */
  attempts: number
  /** Candidate offsets passed over because their frame was near-black. */
  darkSkipped: number
}

/**
 * The offsets to try, in order: 10 % of the duration clamped to [1 s, 60 s] (and at most half the
 * duration, so a sub-2-second clip still gets a frame from inside it), then later points.
 */
export function posterOffsets(durationSec: number | undefined): number[] {
  if (!durationSec || !Number.isFinite(durationSec) || durationSec <= 0) {
    return [...UNKNOWN_DURATION_OFFSETS]
  }
  const first = Math.min(
    Math.max(durationSec * POSTER_FRACTION, POSTER_MIN_SEC),
    POSTER_MAX_SEC,
    durationSec / 2,
  )
  const later = FALLBACK_FRACTIONS.map((f) => durationSec * f).filter((t) => t > first + 0.5)
  return [first, ...later].map((t) => Math.round(t * 1000) / 1000)
}

/**
 * How one try gets to its frame: 'keyframe' returns the keyframe at or before the offset (one frame
 * decoded); 'exact' seeks to that keyframe and decodes up to the offset; 'decode' decodes from the
 * start of the file (the last resort, see the header).
 */
export type SeekMode = 'keyframe' | 'exact' | 'decode'

/**
 * The ffmpeg command line for one poster try. `version`: the ffmpeg it is for (undefined: current),
 * which decides how "encode the frame as is" is spelt (./ffmpeg-version.ts).
 */
export function thumbnailArgs(
  input: string,
  output: string,
  atSec: number,
  maxLongSide = DEFAULT_MAX_LONG_SIDE,
  seek: SeekMode = 'exact',
  version?: FfmpegVersion,
): string[] {
  const L = Math.max(2, Math.floor(maxLongSide))
  // Display width is iw*sar (anamorphic sources); sizes stay even and are never upscaled.
  const fit = `min(1,${L}/max(iw*sar,ih))`
  const scale = `scale=w='max(2,2*trunc(iw*sar*${fit}/2))':h='max(2,2*trunc(ih*${fit}/2))'`
  // 'decode' trims in the filter graph, not with an output -ss: that one drops frames only after
  // the filters, so signalstats would measure (and print) every frame from the start.
  const trim = seek === 'decode' && atSec > 0 ? `trim=start=${atSec.toFixed(3)},` : ''
  return [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    ...(seek === 'keyframe' ? ['-noaccurate_seek'] : []),
    ...(seek === 'decode' ? [] : ['-ss', atSec.toFixed(3)]),
    '-i',
    `file:${input}`,
    // V (capital): the first real video stream, never embedded cover art.
    '-map',
    '0:V:0',
    '-frames:v',
    '1',
    // Encode the first decoded frame as is. The default (cfr for image2) drops frames stamped
    // before the offset, so the keyframe shortcut would silently decode up to the offset anyway.
    ...passthroughArgs(version),
    '-vf',
    `${trim}${scale},setsar=1,signalstats,metadata=mode=print:file=-`,
    '-c:v',
    'mjpeg',
    '-q:v',
    JPEG_QSCALE,
    '-f',
    'image2',
    '-update',
    '1',
    '-y',
    `file:${output}`,
  ]
}

export function isNearBlack(stats: Record<string, number>): boolean {
  const luma = stats.YHIGH ?? stats.YAVG
  return luma !== undefined && luma <= NEAR_BLACK_LUMA
}

export async function thumbnail(
  path: string,
  info: MediaInfo,
  opts: ThumbnailOptions,
): Promise<ThumbnailResult> {
  const tools = opts.tools ?? defaultMediaTools()
  const timeoutMs = opts.timeoutMs ?? THUMBNAIL_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  const version = await ffmpegVersion(tools.ffmpeg, opts.signal)
  const exact = opts.atSec !== undefined
  const offsets = exact ? [opts.atSec!] : posterOffsets(info.durationSec)
  const tmpBase = `${opts.out}.${randomUUID().slice(0, 8)}`
  const tmps: string[] = []
  let best: Frame | undefined
  let lastError = ''
  let attempts = 0
  let darkSkipped = 0

  /** One ffmpeg run; undefined when it produced no image (offset past the end, decode error). */
  const grab = async (atSec: number, seek: SeekMode): Promise<Frame | undefined> => {
    const tmp = `${tmpBase}.${attempts++}.tmp.jpg`
    tmps.push(tmp)
    const remaining = deadline - Date.now()
    if (remaining <= 0)
      throw timedOut('thumbnail', timeoutMs, new Error(lastError || 'no frame yet'))
    const args = thumbnailArgs(path, tmp, atSec, opts.maxLongSide, seek, version)
    let result
    try {
      result = await runProcess(tools.ffmpeg, args, {
        signal: opts.signal,
        timeoutMs: remaining,
        onSpawn: opts.onSpawn,
      })
    } catch (err) {
      if (isAbortError(err)) throw err
      if (err instanceof ProcessTimeoutError) {
        throw timedOut('thumbnail', timeoutMs, new Error(stderrTail(err.stderr)))
      }
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'EACCES') throw toolMissing('thumbnail', tools.ffmpeg, err)
      throw err
    }
    // An offset past the last decodable frame exits 0 with no image.
    if (result.exitCode !== 0 || !(await nonEmpty(tmp))) {
      lastError =
        stderrTail(result.stderr) || `no frame at ${atSec} s (exit code ${result.exitCode})`
      return undefined
    }
    const { ptsTime, stats } = parseFirstFrame(result.stdout)
    // After a seek before -i, timestamps count from the offset; when decoding from the start, from
    // the start of the file.
    const at = seek === 'decode' ? (ptsTime ?? atSec) : atSec + (ptsTime ?? 0)
    const time = Math.round(at * 1000) / 1000
    return { tmp, time, stats, luma: stats.YHIGH ?? stats.YAVG ?? 0 }
  }

  /** Tries the offsets in order until one gives a frame that is not near-black. */
  const tryOffsets = async (decode: boolean): Promise<void> => {
    for (const atSec of offsets) {
      let frame: Frame | undefined
      if (decode) {
        frame = await grab(atSec, 'decode')
      } else {
        if (!exact) {
          const keyframe = await grab(atSec, 'keyframe')
          if (keyframe && keyframe.time > 0 && keyframe.time >= atSec * KEYFRAME_MIN_SHARE) {
            frame = keyframe
          }
        }
        frame ??= await grab(atSec, 'exact')
      }
      if (!frame) continue
      if (!best || frame.luma > best.luma) best = frame
      if (!isNearBlack(frame.stats)) return
      darkSkipped++
    }
  }

  try {
    await tryOffsets(false)
    if (!best && /No such file or directory/.test(lastError)) {
      throw fileNotFound('thumbnail', new Error(lastError))
    }
    // No frame from any seek: decode from the start (see the header), unless ffmpeg already said
    // the file has no picture or cannot be opened at all.
    if (!best && !HOPELESS.test(lastError)) {
      await tryOffsets(true)
      if (!best && !exact) {
        const first = await grab(0, 'decode')
        if (first) best = first
      }
    }
    if (!best) throw thumbnailFailed(new Error(lastError))
    const size = jpegSize(await readFile(best.tmp))
    if (!size) throw thumbnailFailed(new Error('ffmpeg wrote something that is not a JPEG'))
    await rename(best.tmp, opts.out)
    return {
      path: opts.out,
      atSec: best.time,
      width: size.width,
      height: size.height,
      meanLuma: best.stats.YAVG,
      attempts,
      // All dark: the brightest was kept, so one of them was not skipped after all.
      darkSkipped: isNearBlack(best.stats) ? Math.max(0, darkSkipped - 1) : darkSkipped,
    }
  } finally {
    await Promise.all(tmps.map((t) => rm(t, { force: true })))
  }
}

/** ffmpeg's words for "decoding from the start will not help either". */
const HOPELESS =
  /matches no streams|Invalid data found when processing input|Permission denied|No such file/

interface Frame {
  tmp: string
  /** Time of the frame in the video (s). */
  time: number
  stats: Record<string, number>
  /** What isNearBlack looks at, to keep the brightest frame when all are dark. */
  luma: number
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0
  } catch {
    return false
  }
}

/** Width and height from a JPEG's start-of-frame marker; undefined if it is not a JPEG. */
export function jpegSize(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined
  let i = 2
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return undefined
    const marker = buf[i + 1]!
    // Padding 0xFF bytes may precede a marker.
    if (marker === 0xff) {
      i++
      continue
    }
    const length = buf.readUInt16BE(i + 2)
    // SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) }
    }
    i += 2 + length
  }
  return undefined
}
