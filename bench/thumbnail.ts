/**
 * Bench row: time to make the poster of a 2-hour 1080p H.264 file (issue #4 target: ≤ 1 s).
 *
 * The file is made quickly: a 13 s 1080p clip is encoded once, then repeated with `-stream_loop`
 * and `-c copy` (no re-encode; the write is disk-bound, ~3 s for ~2 GB here). 13 s is chosen so
 * keyframes (x264's default: every 250 frames = 10 s, plus one at each loop start) do NOT line up
 * with the poster offset (60 s): the nearest keyframe before it is at 52 s, 8 s back, close to the
 * worst case for this GOP rather than the lucky one. thumbnail() takes that keyframe (it is more than
 * half-way to 60 s, see src/main/core/media/thumbnail.ts); the note also gives the time to take
 * exactly 60 s, i.e. to decode those 8 s of 1080p.
 *
 * Runs alone with `npx tsx bench/thumbnail.ts [workDir]`.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, stat } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { defaultMediaTools } from '../src/main/core/media/ffmpeg-path'
import { probe } from '../src/main/core/media/probe'
import { thumbnail } from '../src/main/core/media/thumbnail'

const exec = promisify(execFile)

/** Length of the long file (s): the "2-hour" file. */
const TARGET_SEC = 2 * 60 * 60
/** Length of the encoded clip (s); see the header for why not a multiple of 10. */
const CLIP_SEC = 13
/** Timed runs; the median is reported. */
const RUNS = 3
/** Issue #4 target (s). */
const TARGET_THUMBNAIL_SEC = 1

export async function benchThumbnail(
  workDir: string,
): Promise<{ name: string; seconds: number; note: string }> {
  const dir = join(workDir, 'thumbnail')
  await mkdir(dir, { recursive: true })
  const { ffmpeg } = defaultMediaTools()
  const clip = join(dir, 'clip-1080p.mp4')
  const long = join(dir, 'two-hours-1080p.mp4')
  const run = (args: string[]) =>
    exec(ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], {
      maxBuffer: 16 * 1024 * 1024,
    })
  try {
    await run([
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=1920x1080:rate=25:duration=${CLIP_SEC}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '28',
      '-pix_fmt',
      'yuv420p',
      clip,
    ])
    const loops = Math.ceil(TARGET_SEC / CLIP_SEC) - 1
    await run(['-stream_loop', String(loops), '-i', clip, '-c', 'copy', long])
    const size = (await stat(long)).size
    const info = await probe(long)

    const times: number[] = []
    let atSec = 0
    for (let i = 0; i < RUNS; i++) {
      // thumbnail() directly: the port's cache would make runs 2 and 3 free.
      const started = process.hrtime.bigint()
      const result = await thumbnail(long, info, { out: join(dir, `poster-${i}.jpg`) })
      times.push(Number(process.hrtime.bigint() - started) / 1e9)
      atSec = result.atSec
    }
    // For the record: the same offset taken exactly (what a file whose keyframes are too far
    // back gets), decoding from the keyframe at 52 s up to 60 s.
    const exactTimes: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const started = process.hrtime.bigint()
      await thumbnail(long, info, { out: join(dir, `exact-${i}.jpg`), atSec: 60 })
      exactTimes.push(Number(process.hrtime.bigint() - started) / 1e9)
    }
    const seconds = median(times)
    const gb = (size / 1e9).toFixed(2)
    const mbps = info.bitrate ? (info.bitrate / 1e6).toFixed(1) : '?'
    return {
      name: 'thumbnail: 2 h 1080p H.264',
      seconds,
      note:
        `median of ${RUNS} (${times.map((t) => t.toFixed(2)).join(', ')} s), poster at ${atSec} s ` +
        `of ${info.durationSec} s, ${info.width}x${info.height} ${info.videoCodec}, ${gb} GB ` +
        `(${mbps} Mb/s); exact 60 s instead: ${median(exactTimes).toFixed(2)} s; ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; ` +
        `target ≤ ${TARGET_THUMBNAIL_SEC} s` +
        (seconds <= TARGET_THUMBNAIL_SEC ? '' : ' — OVER TARGET'),
    }
  } finally {
    // ~2 GB: never leave it behind in the work dir.
    await rm(dir, { recursive: true, force: true })
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
}

if (process.argv[1] && /bench[\\/]thumbnail\.ts$/.test(process.argv[1])) {
  const workDir = resolve(process.argv[2] ?? 'bench/.work')
  benchThumbnail(workDir).then(
    (row) => console.log(`${row.name}: ${row.seconds.toFixed(3)} s — ${row.note}`),
    (err: unknown) => {
      console.error(err)
      process.exitCode = 1
    },
  )
}
