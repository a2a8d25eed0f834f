/**
 * probe() on real files made by ffmpeg (test/support/media-fixtures.ts), through both routes:
 * ffprobe's JSON and the `ffmpeg -i` fallback used when only ffmpeg is available (ffmpeg-static).
 */
import { execFile, execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadError } from '../../src/main/core/errors'
import { resolveMediaTools, type MediaTools } from '../../src/main/core/media/ffmpeg-path'
import { probe } from '../../src/main/core/media/probe'
import { mediaFixtures, type MediaFixtures } from '../support/media-fixtures'
import { NO_READ_OVERRIDE } from '../support/no-read-override'

const execFileP = promisify(execFile)
const machine = resolveMediaTools()
const routes: [string, MediaTools][] = [
  ['ffprobe', machine],
  ['ffmpeg -i only', { ffmpeg: machine.ffmpeg, ffmpegSource: machine.ffmpegSource }],
]

let fx: MediaFixtures
let scratch: string
beforeAll(async () => {
  fx = await mediaFixtures()
  scratch = await mkdtemp(join(tmpdir(), 'upreel-probe-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function probeError(path: string, tools: MediaTools): Promise<UploadError> {
  try {
    await probe(path, undefined, { tools })
  } catch (e) {
    return e as UploadError
  }
  throw new Error(`probe(${path}) succeeded`)
}

it('this machine has ffprobe, so both routes below really differ', () => {
  expect(machine.ffprobe).toBeTruthy()
})

describe.each(routes)('probe via %s', (_route, tools) => {
  it('reads duration, size, codecs, frame rate, bit rate and container of an H.264+AAC clip', async () => {
    const info = await probe(fx.clip, undefined, { tools })
    expect(info.durationSec).toBeCloseTo(4, 1)
    expect(info).toMatchObject({
      width: 320,
      height: 240,
      videoCodec: 'h264',
      audioCodec: 'aac',
      fps: 25,
      container: 'mp4',
    })
    // 320x240 testsrc at ultrafast plus 44.1 kHz AAC: roughly 200 kb/s.
    expect(info.bitrate).toBeGreaterThan(100_000)
    expect(info.bitrate).toBeLessThan(400_000)
  })

  it('applies the 90° display matrix of a phone clip: 1280x720 coded, 720x1280 shown', async () => {
    const info = await probe(fx.rotated, undefined, { tools })
    expect(info).toMatchObject({ width: 720, height: 1280, fps: 30, videoCodec: 'h264' })
    expect(info.audioCodec).toBeUndefined()
  })

  it('reads a file whose name has spaces, an accent and an emoji', async () => {
    const info = await probe(fx.unicodeName, undefined, { tools })
    expect(info).toMatchObject({ width: 320, height: 240, videoCodec: 'h264' })
  })

  it('judges by content, not extension: a video named .txt is a video', async () => {
    const renamed = join(scratch, `video-${_route.replace(/\W/g, '')}.txt`)
    await copyFile(fx.clip, renamed)
    expect((await probe(renamed, undefined, { tools })).videoCodec).toBe('h264')
  })

  it('refuses audio-only as NotVideo, saying it is audio', async () => {
    const err = await probeError(fx.audioOnly, tools)
    expect(err.code).toBe('NotVideo')
    expect(err.message).toMatch(/audio/)
  })

  it('refuses a text file named .mp4 as NotVideo', async () => {
    const err = await probeError(fx.textAsMp4, tools)
    expect(err.code).toBe('NotVideo')
    expect(err.message).toMatch(/not a video/)
  })

  it('reports an MP4 cut in half as Truncated, with moov at the end or at the front', async () => {
    for (const file of [fx.truncated, fx.truncatedFastStart]) {
      const err = await probeError(file, tools)
      expect(err.code).toBe('Truncated')
      expect(err.message).toMatch(/incomplete/)
      expect(err.detail).toMatch(/mdat box ends at byte \d+; file has \d+/)
    }
  })

  it('reads MPEG-TS, M2TS, Matroska and WebM', async () => {
    expect(await probe(fx.tsOneKeyframe, undefined, { tools })).toMatchObject({
      width: 320,
      height: 240,
      videoCodec: 'h264',
      container: 'mpegts',
    })
    expect(await probe(fx.m2tsLongGop, undefined, { tools })).toMatchObject({
      videoCodec: 'h264',
      container: 'mpegts',
    })
    expect(await probe(fx.mkv, undefined, { tools })).toMatchObject({
      videoCodec: 'h264',
      audioCodec: 'aac',
      container: 'mkv',
    })
    const webm = await probe(fx.webm, undefined, { tools })
    expect(webm).toMatchObject({ width: 320, height: 240, videoCodec: 'vp8', container: 'webm' })
    expect(webm.durationSec).toBeCloseTo(4, 1)
  })

  it('reports a Matroska or WebM file cut in half as Truncated (ffmpeg itself opens them)', async () => {
    for (const file of [fx.truncatedMkv, fx.truncatedWebm]) {
      const err = await probeError(file, tools)
      expect(err.code, file).toBe('Truncated')
      expect(err.message).toMatch(/incomplete/)
      expect(err.detail).toMatch(/Matroska Segment ends at byte \d+; file has \d+/)
    }
  })

  it('reports the first 100 bytes of a WebM as Truncated, not as a disk read error', async () => {
    const err = await probeError(fx.tinyWebm, tools)
    expect(err.code).toBe('Truncated')
    expect(err.message).not.toMatch(/disk/)
  })

  it('refuses an animated GIF named .mp4 as a picture', async () => {
    const err = await probeError(fx.gifAsMp4, tools)
    expect(err.code).toBe('NotVideo')
    expect(err.message).toMatch(/picture/)
  })

  it('reports an MP4 whose index is unreadable as Unreadable (damaged), not as "no video"', async () => {
    const err = await probeError(fx.damaged, tools)
    expect(err.code).toBe('Unreadable')
    expect(err.message).toMatch(/damaged/)
  })

  it('reports a missing file, a folder and an empty file each by name', async () => {
    expect((await probeError(join(scratch, 'gone.mp4'), tools)).code).toBe('FileNotFound')
    const folder = join(scratch, 'folder.mp4')
    await mkdir(folder, { recursive: true })
    expect((await probeError(folder, tools)).code).toBe('NotAFile')
    const empty = join(scratch, 'empty.mp4')
    await writeFile(empty, '')
    expect((await probeError(empty, tools)).code).toBe('FileEmpty')
  })
})

describe('probe failures outside the file', () => {
  it('says MediaToolMissing when the binary cannot be started', async () => {
    const err = await probeError(fx.clip, {
      ffmpeg: '/nonexistent/ffmpeg',
      ffmpegSource: 'explicit',
    })
    expect(err.code).toBe('MediaToolMissing')
    expect(err.message).toMatch(/Install ffmpeg or set FFMPEG_PATH/)
  })

  it('rejects with an AbortError and starts nothing when the signal is already aborted', async () => {
    let spawned = false
    await expect(
      probe(fx.clip, AbortSignal.abort(), { tools: machine, onSpawn: () => (spawned = true) }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(spawned).toBe(false)
  })

  it.skipIf(process.platform === 'win32')(
    'reports a file without read permission as Unreadable, through both routes',
    async (ctx) => {
      const dir = await mkdtemp(join(tmpdir(), 'upreel-locked-'))
      const locked = join(dir, 'locked.mp4')
      await copyFile(fx.clip, locked)
      await chmod(locked, 0o000)
      const asRoot = process.getuid?.() === 0
      if (asRoot) {
        // Root reads a chmod 000 file: probe in a child process running as root without the
        // capabilities that let it.
        try {
          execFileSync('setpriv', ['--version'])
        } catch {
          console.warn('skipped: running as root and setpriv is missing, so chmod 000 cannot bite')
          ctx.skip()
          return
        }
      }
      for (const [route, tools] of routes) {
        let err: { code?: string; message?: string }
        if (asRoot) {
          const [cmd, ...prefix] = NO_READ_OVERRIDE
          const { stdout } = await execFileP(
            cmd!,
            [...prefix, process.execPath]
              .concat(['--import', 'tsx', join(__dirname, '../support/probe-child.ts'), locked])
              .concat(tools.ffprobe ? ['ffprobe'] : ['ffmpeg']),
            { cwd: join(__dirname, '../..'), env: { ...process.env, HOME: dir } },
          )
          err = JSON.parse(stdout.trim().split('\n').pop()!) as typeof err
        } else {
          err = await probeError(locked, tools)
        }
        expect(err.code, route).toBe('Unreadable')
        expect(err.message, route).toMatch(/not allowed to read/)
      }
      await rm(dir, { recursive: true, force: true })
    },
  )
})
