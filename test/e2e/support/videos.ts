/**
 * Real videos made with ffmpeg's lavfi sources (no binary fixtures in git). H.264 MP4 for the
 * small ones; raw video in Matroska when a test needs many parts quickly (fast to write, big).
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg'

/** A short H.264 + AAC MP4 (~100–300 KB). `pattern` picks lavfi's test source, for distinct posters. */
export async function smallVideo(
  path: string,
  opts: { seconds?: number; pattern?: 'testsrc' | 'testsrc2' | 'smptebars' | 'rgbtestsrc' } = {},
): Promise<string> {
  await mkdir(dirname(path), { recursive: true })
  const s = opts.seconds ?? 3
  await run(FFMPEG, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `${opts.pattern ?? 'testsrc'}=size=640x360:rate=25:duration=${s}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${s}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    '-movflags',
    '+faststart',
    path,
  ])
  return path
}

/** Raw 320×240 yuv420p video: 115,200 bytes a frame, 25 fps → ~2.9 MB a second of video. */
export async function bigVideo(path: string, seconds: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true })
  await run(FFMPEG, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x240:rate=25:duration=${seconds}`,
    '-c:v',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    path,
  ])
  return path
}

export async function copies(source: string, targets: string[]): Promise<string[]> {
  for (const t of targets) {
    await mkdir(dirname(t), { recursive: true })
    await copyFile(source, t)
  }
  return targets
}
