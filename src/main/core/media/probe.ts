/**
 * probe(): what a video is (duration, displayed size, codecs, frame rate, bit rate, container), or
 * a specific UploadError saying why it is not one Upreel can use.
 *
 * Order of checks, cheapest and most certain first:
 * 1. stat: missing, a folder, empty.
 * 2. our own walk over the MP4/MOV box structure (./iso-bmff.ts), or the Matroska/WebM Segment size
 *    (./matroska.ts): a box or element running past the end of the file means the file was cut
 *    short, which ffmpeg does not say.
 * 3. ffprobe's JSON when ffprobe exists, else `ffmpeg -i`'s stderr (see ./ffmpeg-path.ts for why).
 */
import { open, stat } from 'node:fs/promises'
import { extname } from 'node:path'
import type { MediaInfo } from '../engine/types'
import { isAbortError, isUploadError } from '../errors'
import { defaultMediaTools, type MediaTools } from './ffmpeg-path'
import { scanIsoBmff, type IsoScan, type ReadAt } from './iso-bmff'
import { scanMatroska } from './matroska'
import {
  fileEmpty,
  fileNotFound,
  notAFile,
  notVideo,
  timedOut,
  toolMissing,
  truncated,
  unreadable,
} from './media-errors'
import {
  notVideoReason,
  parseFfmpegInfo,
  parseFfprobeJson,
  stderrTail,
  toMediaInfo,
  type ProbedFile,
} from './parse'
import { ProcessTimeoutError, runProcess } from './run-process'

/** ffprobe reads headers only; 30 s covers a slow network share and still frees a stuck slot. */
export const PROBE_TIMEOUT_MS = 30_000

export interface ProbeOptions {
  timeoutMs?: number
  /** Binaries to use; default: resolved once for this machine (defaultMediaTools). */
  tools?: MediaTools
  onSpawn?: (pid: number) => void
}

export async function probe(
  path: string,
  signal?: AbortSignal,
  opts: ProbeOptions = {},
): Promise<MediaInfo> {
  const size = await statVideoFile(path, 'probe')
  const iso = await scanFile(path, size, scanIsoBmff)
  if (iso.kind === 'truncated') {
    throw truncated(
      new Error(`${iso.box} box ends at byte ${iso.boxEnd}; file has ${iso.fileSize}`),
    )
  }
  if (iso.kind === 'not-iso') {
    const mkv = await scanFile(path, size, scanMatroska)
    if (mkv.kind === 'truncated') {
      throw truncated(
        new Error(`Matroska ${mkv.element} ends at byte ${mkv.end}; file has ${mkv.fileSize}`),
      )
    }
  }

  const tools = opts.tools ?? defaultMediaTools()
  const { file, stderr } = await runProbeTool(path, tools, signal, opts)
  if (!file) throw classifyFailure(stderr, iso)

  const reason = notVideoReason(file)
  // An MP4 whose index opens but lists nothing is a broken video, not "no video".
  if (reason === 'no-video' && file.streams.length === 0 && iso.kind !== 'not-iso') {
    throw unreadable('probe', 'damaged', new Error('the container lists no streams'))
  }
  if (reason) throw notVideo(reason)
  return toMediaInfo(file, extname(path).slice(1))
}

/** The file's size, or the specific error for a path that is not a readable non-empty file. */
export async function statVideoFile(
  path: string,
  operation: 'probe' | 'thumbnail',
): Promise<number> {
  let st
  try {
    st = await stat(path)
  } catch (err) {
    throw fsError(err, operation)
  }
  if (!st.isFile()) throw notAFile(operation)
  if (st.size === 0) throw fileEmpty(operation)
  return st.size
}

/** Runs one of the container structure checks over the file's bytes. */
async function scanFile<T>(
  path: string,
  size: number,
  scan: (read: ReadAt, size: number) => Promise<T>,
): Promise<T> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    throw fsError(err, 'probe')
  }
  try {
    return await scan(async (position, length) => {
      const buf = Buffer.alloc(length)
      const { bytesRead } = await fh.read(buf, 0, length, position)
      return buf.subarray(0, bytesRead)
    }, size)
  } catch (err) {
    throw fsError(err, 'probe')
  } finally {
    await fh.close()
  }
}

async function runProbeTool(
  path: string,
  tools: MediaTools,
  signal: AbortSignal | undefined,
  opts: ProbeOptions,
): Promise<{ file?: ProbedFile; stderr: string }> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS
  // "file:" keeps a name that starts with "-" or looks like a protocol ("concat:…") a plain path.
  const input = `file:${path}`
  const binary = tools.ffprobe ?? tools.ffmpeg
  const args = tools.ffprobe
    ? // warning, not error: ffprobe says "File ended prematurely" only at that level.
      ['-v', 'warning', '-hide_banner', '-print_format', 'json', '-show_format', '-show_streams']
    : ['-hide_banner', '-nostdin']
  args.push('-i', input)
  try {
    const result = await runProcess(binary, args, {
      signal,
      timeoutMs,
      onSpawn: opts.onSpawn,
      // ffmpeg -i prints the whole input description on stderr: keep all of it.
      stderrTailBytes: tools.ffprobe ? undefined : 1024 * 1024,
    })
    const file = tools.ffprobe
      ? result.exitCode === 0
        ? parseFfprobeJson(result.stdout)
        : undefined
      : parseFfmpegInfo(result.stderr)
    return { file, stderr: result.stderr }
  } catch (err) {
    if (isAbortError(err) || isUploadError(err)) throw err
    if (err instanceof ProcessTimeoutError) {
      throw timedOut('probe', timeoutMs, new Error(stderrTail(err.stderr)))
    }
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'EACCES'
    ) {
      throw toolMissing('probe', binary, err)
    }
    throw err
  }
}

/** What ffmpeg's demuxers say when the data stops before the container said it would. */
const TRUNCATION = /File ended prematurely|partial file|unexpected end of file|truncated/i

/** Why ffmpeg could not open the file, from its words and the box walk. */
export function classifyFailure(stderr: string, iso: IsoScan): Error {
  const cause = new Error(stderrTail(stderr) || 'ffmpeg could not open the file')
  if (/Permission denied/i.test(stderr)) return unreadable('probe', 'permission', cause)
  if (/No such file or directory/i.test(stderr)) return fileNotFound('probe', cause)
  // Before "Input/output error": a demuxer that meets the end of a cut file says so, and then ffmpeg
  // reports the EOF as EIO ("File ended prematurely" … "Input/output error" for a short WebM).
  if (TRUNCATION.test(stderr)) return truncated(cause)
  if (/Input\/output error/i.test(stderr)) return unreadable('probe', 'io', cause)
  switch (iso.kind) {
    case 'truncated':
      return truncated(cause)
    case 'complete':
      // An MP4 without its index (moov): the recording or copy stopped before it was written.
      return iso.hasMoov ? unreadable('probe', 'damaged', cause) : truncated(cause)
    case 'unknown':
      return unreadable('probe', 'damaged', cause)
    case 'not-iso':
      return notVideo('unknown-format', cause)
  }
}

function fsError(err: unknown, operation: 'probe' | 'thumbnail'): Error {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return fileNotFound(operation, err)
  if (code === 'EACCES' || code === 'EPERM') return unreadable(operation, 'permission', err)
  if (code === 'EISDIR') return notAFile(operation)
  return unreadable(operation, 'io', err)
}
