/**
 * `upreel probe` and `upreel thumbnail`. The dispatcher passes the arguments AFTER the command name.
 * Exit codes: 0 done, 1 the file could not be probed or thumbnailed (the reason is printed),
 * 2 the command line was wrong.
 */
import { parseArgs } from 'node:util'
import { isUploadError } from '../errors'
import type { MediaInfo } from '../engine/types'
import { probe } from '../media/probe'
import { DEFAULT_MAX_LONG_SIDE, thumbnail } from '../media/thumbnail'

export interface CliIo {
  out: (s: string) => void
  err: (s: string) => void
}

const PROBE_USAGE = 'usage: upreel probe <file> [--json]'
const THUMBNAIL_USAGE =
  'usage: upreel thumbnail <file> --out FILE.jpg [--at SECONDS] [--max-side PIXELS]'

/** `upreel probe <file> [--json]` */
export async function runProbe(argv: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    })
  } catch (err) {
    return usage(io, PROBE_USAGE, (err as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) return usage(io, PROBE_USAGE, 'give exactly one file')
  const file = positionals[0]!
  try {
    const info = await probe(file)
    io.out(values.json ? JSON.stringify(info, null, 2) : describe(file, info))
    return 0
  } catch (err) {
    return failure(io, err, values.json)
  }
}

/** `upreel thumbnail <file> --out F [--at SECONDS] [--max-side PIXELS]` */
export async function runThumbnail(argv: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        at: { type: 'string' },
        'max-side': { type: 'string' },
      },
    })
  } catch (err) {
    return usage(io, THUMBNAIL_USAGE, (err as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) return usage(io, THUMBNAIL_USAGE, 'give exactly one file')
  if (!values.out) return usage(io, THUMBNAIL_USAGE, '--out is required')
  const at = values.at !== undefined ? Number(values.at) : undefined
  if (at !== undefined && !(Number.isFinite(at) && at >= 0)) {
    return usage(io, THUMBNAIL_USAGE, `--at must be a number of seconds, not "${values.at}"`)
  }
  const maxSide = values['max-side'] !== undefined ? Number(values['max-side']) : undefined
  if (maxSide !== undefined && !(Number.isInteger(maxSide) && maxSide >= 16)) {
    return usage(io, THUMBNAIL_USAGE, `--max-side must be a whole number of pixels (16 or more)`)
  }
  const file = positionals[0]!
  try {
    const info = await probe(file)
    if (at !== undefined && info.durationSec !== undefined && at >= info.durationSec) {
      return usage(
        io,
        THUMBNAIL_USAGE,
        `--at ${at} is past the end of the video (${info.durationSec.toFixed(2)} s)`,
      )
    }
    const result = await thumbnail(file, info, {
      out: values.out,
      atSec: at,
      maxLongSide: maxSide ?? DEFAULT_MAX_LONG_SIDE,
    })
    io.out(
      `${result.path}: ${result.width}x${result.height} JPEG at ${result.atSec.toFixed(2)} s` +
        (result.darkSkipped > 0 ? ` (${result.darkSkipped} near-black frame(s) skipped)` : ''),
    )
    return 0
  } catch (err) {
    return failure(io, err, false)
  }
}

function describe(file: string, info: MediaInfo): string {
  const rows: [string, string | undefined][] = [
    ['File', file],
    ['Container', info.container],
    ['Duration', info.durationSec !== undefined ? clock(info.durationSec) : undefined],
    [
      'Video',
      [
        info.videoCodec,
        info.width && info.height ? `${info.width}x${info.height}` : undefined,
        info.fps ? `${info.fps} fps` : undefined,
      ]
        .filter(Boolean)
        .join(', ') || undefined,
    ],
    ['Audio', info.audioCodec ?? 'none'],
    ['Bitrate', info.bitrate ? `${Math.round(info.bitrate / 1000)} kb/s` : undefined],
  ]
  return rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${(k + ':').padEnd(11)}${v}`)
    .join('\n')
}

/** 3723.5 → "1:02:03.50" */
function clock(sec: number): string {
  const h = Math.floor(sec / 3600)
  const m = Math.floor((sec % 3600) / 60)
  const s = (sec % 60).toFixed(2).padStart(5, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

function usage(io: CliIo, text: string, problem: string): number {
  io.err(`${problem}\n${text}`)
  return 2
}

function failure(io: CliIo, err: unknown, json: boolean | undefined): number {
  const info = isUploadError(err)
    ? err.toInfo()
    : { code: 'Unexpected', message: err instanceof Error ? err.message : String(err) }
  if (json) io.out(JSON.stringify({ error: info }, null, 2))
  io.err(`${info.message}${info.detail ? ` (${info.detail})` : ''}`)
  return 1
}
