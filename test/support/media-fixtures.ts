/**
 * Small real videos for the media tests, generated with ffmpeg's lavfi sources (no binary fixtures
 * in git), plus helpers that measure posters with ffmpeg/ffprobe independently of the code under
 * test.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg'
export const FFPROBE = process.env.FFPROBE_PATH || 'ffprobe'

export interface MediaFixtures {
  dir: string
  /** 4 s, 320x240, 25 fps testsrc, H.264 + AAC (sine), moov at the end (ffmpeg's default). */
  clip: string
  /**
   * Coded 1280x720, 30 fps, 3 s, keyframe every 20 frames, with a 90° display matrix: shown
   * upright as 720x1280.
   */
  rotated: string
  /** 8 s, 320x240: 3 s of black, then 5 s of testsrc. */
  blackStart: string
  /** 3 s of AAC in an .m4a: sound, no picture. */
  audioOnly: string
  /** `clip` cut in half: its moov (index) at the end is gone. */
  truncated: string
  /** `clip` with moov moved to the front (+faststart), cut in half: index intact, data missing. */
  truncatedFastStart: string
  /** `clip` with the contents of its moov (index) zeroed: an MP4 that opens but lists nothing. */
  damaged: string
  /** A text file named .mp4. */
  textAsMp4: string
  /** `clip` under a name with spaces, an accent and an emoji. */
  unicodeName: string
  /** 5 s MPEG-TS whose only keyframe is frame 0: a seek before -i finds nothing decodable. */
  tsOneKeyframe: string
  /** 12 s M2TS (Blu-ray/AVCHD packets) with a keyframe every 600 frames, i.e. only frame 0. */
  m2tsLongGop: string
  /** 4 s H.264 in Matroska. */
  mkv: string
  /** 4 s VP8 in WebM. */
  webm: string
  /** `mkv` cut in half: the Segment claims more bytes than the file has. */
  truncatedMkv: string
  /** `webm` cut in half. */
  truncatedWebm: string
  /** The first 100 bytes of `webm`: the EBML header and hardly more. */
  tinyWebm: string
  /** A 2 s animated GIF named .mp4. */
  gifAsMp4: string
}

/** Keyframe interval of the rotated clip (frames at 30 fps). */
export const ROTATED_GOP_FRAMES = 20

/** Bump when a recipe changes so cached fixture folders are rebuilt. */
const RECIPE_VERSION = 4

const lavfiClip = (out: string, extra: string[] = []): string[] => [
  '-f',
  'lavfi',
  '-i',
  'testsrc=size=320x240:rate=25:duration=4',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=440:duration=4',
  ...x264,
  '-c:a',
  'aac',
  '-shortest',
  ...extra,
  out,
]
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']

/** Creates every fixture in `dir` (which must not need to exist). Takes ~2 s. */
export async function makeMediaFixtures(dir: string): Promise<MediaFixtures> {
  await mkdir(dir, { recursive: true })
  const f: MediaFixtures = {
    dir,
    clip: join(dir, 'clip.mp4'),
    rotated: join(dir, 'rotated.mp4'),
    blackStart: join(dir, 'black-start.mp4'),
    audioOnly: join(dir, 'audio-only.m4a'),
    truncated: join(dir, 'truncated.mp4'),
    truncatedFastStart: join(dir, 'truncated-faststart.mp4'),
    damaged: join(dir, 'damaged.mp4'),
    textAsMp4: join(dir, 'not-a-video.mp4'),
    unicodeName: join(dir, 'clip été 🎬.mp4'),
    ...containerPaths(dir),
  }
  await ffmpeg(lavfiClip(f.clip))
  await ffmpeg(lavfiClip(f.unicodeName))
  await makeRotated(f.rotated, join(dir, 'rotated-src.mp4'))
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=black:size=320x240:rate=25:duration=3',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=25:duration=5',
    '-filter_complex',
    '[0:v][1:v]concat=n=2:v=1:a=0',
    ...x264,
    f.blackStart,
  ])
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:a', 'aac', f.audioOnly])
  await cutInHalf(f.clip, f.truncated)
  const fastStart = join(dir, 'faststart.mp4')
  await ffmpeg(['-i', f.clip, '-c', 'copy', '-movflags', '+faststart', fastStart])
  await cutInHalf(fastStart, f.truncatedFastStart)
  await zeroMoov(f.clip, f.damaged)
  await writeFile(f.textAsMp4, 'These are my notes for the video shoot, not a video.\n')
  await makeContainers(f)
  return f
}

function containerPaths(dir: string) {
  return {
    tsOneKeyframe: join(dir, 'one-keyframe.ts'),
    m2tsLongGop: join(dir, 'long-gop.m2ts'),
    mkv: join(dir, 'clip.mkv'),
    webm: join(dir, 'clip.webm'),
    truncatedMkv: join(dir, 'truncated.mkv'),
    truncatedWebm: join(dir, 'truncated.webm'),
    tinyWebm: join(dir, 'tiny.webm'),
    gifAsMp4: join(dir, 'animation.mp4'),
  }
}

/** Broadcast and camera transport streams, Matroska/WebM (whole and cut short), a GIF. */
async function makeContainers(f: MediaFixtures): Promise<void> {
  const src = (seconds: number) => [
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=320x240:rate=25:duration=${seconds}`,
  ]
  // -g past the clip's length and no scene-cut keyframes: frame 0 is the only keyframe.
  const oneKeyframe = ['-g', '1000', '-keyint_min', '1000', '-sc_threshold', '0']
  await ffmpeg([...src(5), ...x264, ...oneKeyframe, '-f', 'mpegts', f.tsOneKeyframe])
  await ffmpeg([
    ...src(12),
    ...x264,
    '-g',
    '600',
    '-f',
    'mpegts',
    '-mpegts_m2ts_mode',
    '1',
    f.m2tsLongGop,
  ])
  await ffmpeg(lavfiClip(f.mkv))
  await ffmpeg([
    ...src(4),
    '-c:v',
    'libvpx',
    '-b:v',
    '200k',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    f.webm,
  ])
  await cutInHalf(f.mkv, f.truncatedMkv)
  await cutInHalf(f.webm, f.truncatedWebm)
  await writeFile(f.tinyWebm, (await readFile(f.webm)).subarray(0, 100))
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=64x48:rate=10:duration=2',
    '-f',
    'gif',
    f.gifAsMp4,
  ])
}

/**
 * ffmpeg ≥ 6 takes `-display_rotation` as an input option; 5.1 (Debian 12) does not know it but
 * turns a `rotate` stream tag into a display matrix when stream-copying into MP4 (checked here with
 * ffprobe, so a future ffmpeg that honours neither fails loudly instead of testing nothing).
 */
async function makeRotated(out: string, src: string): Promise<void> {
  // A keyframe every 20 frames (0, 0.667, 1.333 … s), like a phone's short GOP: the poster's
  // keyframe shortcut has a keyframe to find that is not frame 0.
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=1280x720:rate=30:duration=3',
    ...x264,
    '-g',
    String(ROTATED_GOP_FRAMES),
    src,
  ])
  try {
    await ffmpeg(['-display_rotation', '90', '-i', src, '-c', 'copy', out])
  } catch {
    await ffmpeg(['-i', src, '-c', 'copy', '-metadata:s:v', 'rotate=90', out])
  }
  const { stdout } = await exec(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream_side_data=rotation',
    '-of',
    'json',
    out,
  ])
  if (!/"rotation": -?90/.test(stdout)) {
    throw new Error(`fixture ${out} has no 90° display matrix: ${stdout}`)
  }
  await rm(src)
}

/** Copies an MP4 with the payload of its top-level moov box zeroed (header kept). */
async function zeroMoov(src: string, out: string): Promise<void> {
  const data = Buffer.from(await readFile(src))
  for (let pos = 0; pos + 8 <= data.length;) {
    const size = data.readUInt32BE(pos)
    if (size < 8) throw new Error(`unexpected box size ${size} in ${src}`)
    if (data.toString('latin1', pos + 4, pos + 8) === 'moov') data.fill(0, pos + 8, pos + size)
    pos += size
  }
  await writeFile(out, data)
}

async function cutInHalf(src: string, out: string): Promise<void> {
  const data = await readFile(src)
  await writeFile(out, data.subarray(0, Math.floor(data.length / 2)))
}

let shared: Promise<MediaFixtures> | undefined

/**
 * The fixtures in a folder under the OS temp dir named after the recipes and the ffmpeg version,
 * built once (into a temporary folder, then renamed, so a crash never leaves half a set) and reused
 * by every test file of the run and by later runs.
 */
export function mediaFixtures(): Promise<MediaFixtures> {
  shared ??= (async () => {
    const version = (await exec(FFMPEG, ['-version'])).stdout.split('\n')[0] ?? ''
    const source = await readFile(new URL(import.meta.url), 'utf8')
    const id = createHash('sha256')
      .update(`${RECIPE_VERSION}\n${version}\n${source}`)
      .digest('hex')
      .slice(0, 12)
    const dir = join(tmpdir(), `upreel-media-fixtures-${id}`)
    if (!existsSync(join(dir, '.complete'))) {
      const building = `${dir}.building-${process.pid}`
      await rm(building, { recursive: true, force: true })
      await makeMediaFixtures(building)
      await writeFile(join(building, '.complete'), '')
      try {
        await rename(building, dir)
      } catch {
        // Another worker finished first: use its set.
        await rm(building, { recursive: true, force: true })
      }
    }
    return fixturePaths(dir)
  })()
  return shared
}

function fixturePaths(dir: string): MediaFixtures {
  return {
    dir,
    clip: join(dir, 'clip.mp4'),
    rotated: join(dir, 'rotated.mp4'),
    blackStart: join(dir, 'black-start.mp4'),
    audioOnly: join(dir, 'audio-only.m4a'),
    truncated: join(dir, 'truncated.mp4'),
    truncatedFastStart: join(dir, 'truncated-faststart.mp4'),
    damaged: join(dir, 'damaged.mp4'),
    textAsMp4: join(dir, 'not-a-video.mp4'),
    unicodeName: join(dir, 'clip été 🎬.mp4'),
    ...containerPaths(dir),
  }
}

export async function ffmpeg(args: string[]): Promise<void> {
  await exec(FFMPEG, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args])
}

/** ffprobe's own view of a file's first video stream (independent of the code under test). */
export async function probeImage(
  path: string,
): Promise<{ width: number; height: number; codec: string }> {
  const { stdout } = await exec(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height,codec_name',
    '-of',
    'json',
    path,
  ])
  const s = (
    JSON.parse(stdout) as { streams: { width: number; height: number; codec_name: string }[] }
  ).streams[0]!
  return { width: s.width, height: s.height, codec: s.codec_name }
}

/** Mean 8-bit luma of an image (signalstats YAVG), measured by ffmpeg. */
export async function meanLuma(image: string): Promise<number> {
  const { stdout } = await exec(FFMPEG, [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-i',
    image,
    '-vf',
    'signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-',
    '-f',
    'null',
    '-',
  ])
  const m = /lavfi\.signalstats\.YAVG=([\d.]+)/.exec(stdout)
  if (!m) throw new Error(`no YAVG for ${image}: ${stdout}`)
  return Number(m[1])
}

/**
 * The exact frame at `sec`, decoded from the start (output-side -ss: slow but exact), scaled to
 * width x height: the reference a poster is compared with.
 */
export async function referenceFrame(
  video: string,
  sec: number,
  out: string,
  width: number,
  height: number,
): Promise<string> {
  await ffmpeg([
    '-i',
    video,
    '-ss',
    String(sec),
    '-frames:v',
    '1',
    '-vf',
    `scale=${width}:${height}`,
    out,
  ])
  return out
}

/** PSNR (dB) between two same-size images, by ffmpeg's psnr filter. Higher is more alike. */
export async function psnr(a: string, b: string): Promise<number> {
  const { stderr } = await exec(FFMPEG, [
    '-hide_banner',
    '-nostdin',
    '-i',
    a,
    '-i',
    b,
    '-lavfi',
    'psnr',
    '-f',
    'null',
    '-',
  ])
  const m = /PSNR .*average:([\d.]+|inf)/.exec(stderr)
  if (!m) throw new Error(`no PSNR in: ${stderr.slice(-500)}`)
  return m[1] === 'inf' ? Infinity : Number(m[1])
}
