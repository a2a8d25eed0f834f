/**
 * Pure parsers for what ffprobe and ffmpeg print. No I/O here, so every quirk is a unit test.
 *
 * Both probe routes (ffprobe JSON, `ffmpeg -i` stderr) produce the same ProbedFile, and one function
 * turns that into the engine's MediaInfo, so the two cannot drift apart in what they report.
 */
import type { MediaInfo } from '../engine/types'

export type StreamType = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment' | 'unknown'

export interface ProbedStream {
  type: StreamType
  codec?: string
  /** Coded size, before rotation. */
  width?: number
  height?: number
  /** Degrees as stored (display matrix, else the legacy `rotate` tag); sign varies by source. */
  rotation?: number
  fps?: number
  /** Cover art in an audio file or an MP4: a still picture, not the video. */
  attachedPic: boolean
}

export interface ProbedFile {
  /** Demuxer names, e.g. ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2']. */
  formatNames: string[]
  durationSec?: number
  /** Whole-file bit rate in bit/s. */
  bitrate?: number
  /** ISO BMFF `ftyp` major brand ('isom', 'qt  ', 'M4A ', …) when the container has one. */
  majorBrand?: string
  streams: ProbedStream[]
}

/**
 * Formats ffmpeg opens pictures with: a JPEG or PNG probes as a one-frame "video", an animated GIF
 * or APNG as a silent many-frame one, but platforms take neither as a video upload.
 */
const IMAGE_FORMAT = /(^|_)pipe$|^image2$|^(png|jpeg|webp|bmp|tiff|gif|apng)$/

/** Parses `ffprobe -print_format json -show_format -show_streams`. Undefined when no format. */
export function parseFfprobeJson(text: string): ProbedFile | undefined {
  let doc: FfprobeDoc
  try {
    doc = JSON.parse(text) as FfprobeDoc
  } catch {
    return undefined
  }
  const format = doc.format
  if (!format?.format_name) return undefined
  const streams = (doc.streams ?? []).map((s): ProbedStream => {
    const sideRotation = s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation
    const tagRotation = num(s.tags?.rotate)
    return {
      type: streamType(s.codec_type),
      codec: s.codec_name || undefined,
      width: positive(s.width),
      height: positive(s.height),
      rotation: sideRotation ?? tagRotation,
      fps: parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate),
      attachedPic: s.disposition?.attached_pic === 1,
    }
  })
  const streamDuration = Math.max(0, ...(doc.streams ?? []).map((s) => num(s.duration) ?? 0))
  return {
    formatNames: format.format_name.split(','),
    durationSec: positive(num(format.duration)) ?? positive(streamDuration),
    bitrate: positive(num(format.bit_rate)),
    majorBrand: format.tags?.major_brand,
    streams,
  }
}

/**
 * Parses the "Input #0" block `ffmpeg -i FILE` writes to stderr (the fallback when there is no
 * ffprobe). Undefined when ffmpeg printed no input block, i.e. it could not open the file.
 */
export function parseFfmpegInfo(stderr: string): ProbedFile | undefined {
  const lines = stderr.split(/\r?\n/)
  const start = lines.findIndex((l) => /^Input #0, /.test(l))
  if (start < 0) return undefined
  const formatNames = /^Input #0, (.+?), from '/.exec(lines[start]!)?.[1]?.split(',') ?? []
  const file: ProbedFile = { formatNames, streams: [] }
  let current: ProbedStream | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break // "Input #1", "Output #0", "At least one output file…"
    const stream = /^\s*Stream #\d+:\d+\S*?: (\w+): (.*)$/.exec(line)
    if (stream) {
      current = parseStreamLine(stream[1]!, stream[2]!)
      file.streams.push(current)
      continue
    }
    const duration = /^\s*Duration: ([^,]+)(?:, start: [^,]+)?(?:, bitrate: (\d+) kb\/s)?/.exec(
      line,
    )
    if (duration) {
      file.durationSec = positive(parseClock(duration[1]!))
      if (duration[2]) file.bitrate = Number(duration[2]) * 1000
      continue
    }
    const brand = /^\s*major_brand\s*: (.*)$/.exec(line)
    if (brand && !current) {
      file.majorBrand = brand[1]
      continue
    }
    if (!current) continue
    const matrix = /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(line)
    if (matrix) {
      current.rotation = Number(matrix[1])
      continue
    }
    const tag = /^\s*rotate\s*: (-?[\d.]+)\s*$/.exec(line)
    if (tag && current.rotation === undefined) current.rotation = Number(tag[1])
  }
  return file
}

function parseStreamLine(kind: string, rest: string): ProbedStream {
  const stream: ProbedStream = {
    type: streamType(kind.toLowerCase()),
    codec: /^([\w-]+)/.exec(rest)?.[1],
    attachedPic: rest.includes('(attached pic)'),
  }
  if (stream.type === 'video') {
    // ", 320x240 [SAR 1:1 DAR 4:3]" — the comma keeps "(avc1 / 0x31637661)" from matching.
    const size = /, (\d+)x(\d+)\b/.exec(rest)
    if (size) {
      stream.width = positive(Number(size[1]))
      stream.height = positive(Number(size[2]))
    }
    const fps = /, ([\d.]+)(k?) fps\b/.exec(rest)
    if (fps) stream.fps = round3(Number(fps[1]) * (fps[2] ? 1000 : 1))
  }
  return stream
}

export type NotVideoReason = 'image' | 'audio-only' | 'no-video'

/** Why a file that ffmpeg opened is still not a video for Upreel, or undefined when it is one. */
export function notVideoReason(file: ProbedFile): NotVideoReason | undefined {
  if (file.formatNames.some((f) => IMAGE_FORMAT.test(f))) return 'image'
  if (mainVideo(file)) return undefined
  return file.streams.some((s) => s.type === 'audio') ? 'audio-only' : 'no-video'
}

/** The engine's MediaInfo for a file notVideoReason() accepted. `ext` is without the dot. */
export function toMediaInfo(file: ProbedFile, ext?: string): MediaInfo {
  const video = mainVideo(file)
  const audio = file.streams.find((s) => s.type === 'audio')
  const size = displaySize(video?.width, video?.height, video?.rotation)
  return dropUndefined({
    durationSec: file.durationSec !== undefined ? round3(file.durationSec) : undefined,
    width: size.width,
    height: size.height,
    videoCodec: video?.codec,
    audioCodec: audio?.codec,
    fps: video?.fps,
    bitrate: file.bitrate !== undefined ? Math.round(file.bitrate) : undefined,
    container: containerName(file.formatNames, file.majorBrand, ext),
  })
}

function mainVideo(file: ProbedFile): ProbedStream | undefined {
  return file.streams.find((s) => s.type === 'video' && !s.attachedPic)
}

/** Width and height as the video is shown: a quarter turn (phones held upright) swaps them. */
export function displaySize(
  width: number | undefined,
  height: number | undefined,
  rotation: number | undefined,
): { width?: number; height?: number } {
  const quarter = ((Math.round((rotation ?? 0) / 90) % 4) + 4) % 4
  return quarter % 2 === 1 ? { width: height, height: width } : { width, height }
}

/**
 * A short container name. ffmpeg names the demuxer, not the file type ("mov,mp4,m4a,…" for all
 * ISO media; "matroska,webm" for both), so the ftyp brand and the extension break the tie.
 */
export function containerName(
  formatNames: string[],
  majorBrand?: string,
  ext?: string,
): string | undefined {
  const e = ext?.toLowerCase().replace(/^\./, '')
  if (formatNames.includes('mp4')) {
    const brand = majorBrand?.trim().toLowerCase() ?? ''
    if (brand === 'qt') return 'mov'
    if (brand.startsWith('3gp') || brand.startsWith('3g2')) return brand.slice(0, 3)
    if (brand === 'm4v') return 'm4v'
    if (brand === 'm4a') return 'm4a'
    if (!brand && e === 'mov') return 'mov'
    return 'mp4'
  }
  if (formatNames.includes('matroska')) return e === 'webm' ? 'webm' : 'mkv'
  if (e && formatNames.includes(e)) return e
  return formatNames[0]
}

/** "30000/1001" → 29.97; "0/0", "" or garbage → undefined. */
export function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined
  const [n, d = '1'] = rate.split('/')
  const value = Number(n) / Number(d)
  return Number.isFinite(value) && value > 0 ? round3(value) : undefined
}

/** "01:02:03.50" → 3723.5; "N/A" → undefined. */
export function parseClock(clock: string): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(clock.trim())
  if (!m) return undefined
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])
}

/**
 * The first frame from ffmpeg's `metadata=mode=print:file=-` filter: its timestamp (relative to the
 * `-ss` offset, so -8 means "8 s before the offset asked for") and its values, e.g. signalstats'
 * { YAVG: 125.2, YHIGH: 180 }, keys without their "lavfi.signalstats." prefix.
 */
export function parseFirstFrame(stdout: string): {
  ptsTime?: number
  stats: Record<string, number>
} {
  const stats: Record<string, number> = {}
  let ptsTime: number | undefined
  let frames = 0
  for (const line of stdout.split(/\r?\n/)) {
    if (/^frame:\d+/.test(line)) {
      if (++frames > 1) break
      const pts = /pts_time:(-?[\d.]+(?:e[-+]?\d+)?)/.exec(line)
      if (pts) ptsTime = Number(pts[1])
      continue
    }
    const kv = /^lavfi\.(?:[\w]+\.)?(\w+)=(-?[\d.]+(?:e[-+]?\d+)?)$/.exec(line.trim())
    if (kv && frames === 1) stats[kv[1]!] = Number(kv[2])
  }
  return { ptsTime, stats }
}

/** The last `n` non-empty lines of ffmpeg's stderr: where it says why it failed. */
export function stderrTail(stderr: string, n = 3): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ')
}

interface FfprobeDoc {
  format?: {
    format_name?: string
    duration?: string
    bit_rate?: string
    tags?: Record<string, string>
  }
  streams?: {
    codec_type?: string
    codec_name?: string
    width?: number
    height?: number
    avg_frame_rate?: string
    r_frame_rate?: string
    duration?: string
    disposition?: Record<string, number>
    tags?: Record<string, string>
    side_data_list?: { side_data_type?: string; rotation?: number }[]
  }[]
}

function streamType(t: string | undefined): StreamType {
  switch (t) {
    case 'video':
    case 'audio':
    case 'subtitle':
    case 'data':
    case 'attachment':
      return t
    default:
      return 'unknown'
  }
}

function num(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '' || v === 'N/A') return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

function positive(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
