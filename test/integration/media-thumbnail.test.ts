/**
 * thumbnail() and the process runner with real ffmpeg: where the poster is taken, its size, the
 * black-start retry, and that cancelling or timing out leaves no ffmpeg process behind.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadError } from '../../src/main/core/errors'
import { resolveMediaTools } from '../../src/main/core/media/ffmpeg-path'
import { probe } from '../../src/main/core/media/probe'
import { runProcess } from '../../src/main/core/media/run-process'
import { thumbnail } from '../../src/main/core/media/thumbnail'
import {
  ffmpeg,
  mediaFixtures,
  meanLuma,
  probeImage,
  psnr,
  referenceFrame,
  ROTATED_GOP_FRAMES,
  type MediaFixtures,
} from '../support/media-fixtures'

const tools = resolveMediaTools()
let fx: MediaFixtures
let out: string
beforeAll(async () => {
  fx = await mediaFixtures()
  out = await mkdtemp(join(tmpdir(), 'upreel-thumb-'))
})
afterAll(async () => {
  await rm(out, { recursive: true, force: true })
})

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

describe('poster offset and size', () => {
  it('takes the frame at 1 s of a 4 s clip (10 % clamped to 1 s), at its own size', async () => {
    const info = await probe(fx.clip)
    const result = await thumbnail(fx.clip, info, { out: join(out, 'clip.jpg'), tools })
    // Two runs: the clip's only keyframe is frame 0, so the keyframe shortcut is refused and the
    // exact offset is decoded.
    expect(result).toMatchObject({ atSec: 1, width: 320, height: 240, attempts: 2, darkSkipped: 0 })
    // ffprobe's view of the file we wrote: a 320x240 JPEG (small sources are not upscaled).
    expect(await probeImage(result.path)).toEqual({ width: 320, height: 240, codec: 'mjpeg' })

    // testsrc draws a running counter: the poster must match the exact frame at 1.0 s, not 0 s.
    const scores: Record<string, number> = {}
    for (const t of [0, 0.5, 1, 2]) {
      const ref = await referenceFrame(fx.clip, t, join(out, `ref-${t}.png`), 320, 240)
      scores[t] = await psnr(result.path, ref)
    }
    const best = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]![0]
    expect(best, JSON.stringify(scores)).toBe('1')
    expect(scores[1]).toBeGreaterThan(35)
  })

  it('shows a rotated phone clip upright with its longest side at 640 px', async () => {
    const info = await probe(fx.rotated)
    const result = await thumbnail(fx.rotated, info, { out: join(out, 'rotated.jpg'), tools })
    expect(await probeImage(result.path)).toEqual({ width: 360, height: 640, codec: 'mjpeg' })
    expect(result).toMatchObject({ width: 360, height: 640 })
  })

  it('uses the keyframe just before the offset when one is at least half-way there', async () => {
    const info = await probe(fx.rotated)
    const result = await thumbnail(fx.rotated, info, { out: join(out, 'rotated-kf.jpg'), tools })
    // 1 s asked; keyframes every 20 frames at 30 fps: 0, 0.667, 1.333 … → the one at 0.667 s.
    const keyframe = Math.floor(30 / ROTATED_GOP_FRAMES) * (ROTATED_GOP_FRAMES / 30)
    expect(result.atSec).toBeCloseTo(keyframe, 2)
    expect(result.attempts).toBe(1)
    const ref = (t: number) =>
      referenceFrame(fx.rotated, t, join(out, `rot-ref-${t}.png`), result.width, result.height)
    const atKeyframe = await psnr(result.path, await ref(keyframe))
    const atOffset = await psnr(result.path, await ref(1))
    console.log(`keyframe poster PSNR: ${atKeyframe} dB vs keyframe, ${atOffset} dB vs 1 s`)
    expect(atKeyframe).toBeGreaterThan(35)
    expect(atKeyframe).toBeGreaterThan(atOffset + 5)
  })

  it('takes the longest side from the option', async () => {
    const info = await probe(fx.rotated)
    const result = await thumbnail(fx.rotated, info, {
      out: join(out, 'rotated-200.jpg'),
      maxLongSide: 200,
      tools,
    })
    // 720x1280 × 200/1280 = 112.5 x 200, kept even.
    expect(await probeImage(result.path)).toMatchObject({ width: 112, height: 200 })
  })

  it('takes exactly the offset asked for with atSec', async () => {
    const info = await probe(fx.clip)
    const result = await thumbnail(fx.clip, info, { out: join(out, 'at2.jpg'), atSec: 2, tools })
    expect(result.atSec).toBe(2)
    const at2 = await psnr(
      result.path,
      await referenceFrame(fx.clip, 2, join(out, 'r2.png'), 320, 240),
    )
    const at1 = await psnr(
      result.path,
      await referenceFrame(fx.clip, 1, join(out, 'r1.png'), 320, 240),
    )
    expect(at2).toBeGreaterThan(at1)
  })
})

describe('containers beyond MP4', () => {
  /** The poster must be the frame at `at`, not frame 0: testsrc draws a running counter. */
  async function expectFrameAt(video: string, poster: string, at: number): Promise<void> {
    const { width, height } = await probeImage(poster)
    const scores: Record<string, number> = {}
    for (const t of [0, at]) {
      scores[t] = await psnr(
        poster,
        await referenceFrame(video, t, join(out, `ref-${t}-${Math.random()}.png`), width, height),
      )
    }
    expect(scores[at], JSON.stringify(scores)).toBeGreaterThan(scores[0]! + 5)
  }

  it('makes a poster from an MPEG-TS whose only keyframe is frame 0 (decoding from the start)', async () => {
    const info = await probe(fx.tsOneKeyframe)
    const result = await thumbnail(fx.tsOneKeyframe, info, { out: join(out, 'ts.jpg'), tools })
    expect(result).toMatchObject({ atSec: 1, width: 320, height: 240 })
    await expectFrameAt(fx.tsOneKeyframe, result.path, 1)
  })

  it('makes a poster from a 12 s M2TS with a 600-frame keyframe interval', async () => {
    const info = await probe(fx.m2tsLongGop)
    const result = await thumbnail(fx.m2tsLongGop, info, { out: join(out, 'm2ts.jpg'), tools })
    expect(result).toMatchObject({ atSec: 1.2, width: 320, height: 240 })
    await expectFrameAt(fx.m2tsLongGop, result.path, 1.2)
  })

  it('makes posters from Matroska and WebM by seeking', async () => {
    for (const video of [fx.mkv, fx.webm]) {
      const result = await thumbnail(video, await probe(video), {
        out: join(out, `${video.slice(-4)}.jpg`),
        tools,
      })
      expect(result).toMatchObject({ width: 320, height: 240 })
      // Matroska stamps in milliseconds, with AAC's priming delay in front: 1 s ± a frame.
      expect(result.atSec).toBeCloseTo(1, 1)
      await expectFrameAt(video, result.path, 1)
    }
  })
})

describe('black start', () => {
  it('skips the black opening seconds: the poster is a bright frame from after them', async () => {
    const info = await probe(fx.blackStart)
    // Control: the first candidate (1 s) really is black in this fixture.
    const first = await thumbnail(fx.blackStart, info, {
      out: join(out, 'b1.jpg'),
      atSec: 1,
      tools,
    })
    expect(await meanLuma(first.path)).toBeLessThan(20)

    const result = await thumbnail(fx.blackStart, info, { out: join(out, 'black.jpg'), tools })
    // Candidates: 1 s and 2 s (black), then 4 s.
    expect(result).toMatchObject({ atSec: 4, darkSkipped: 2 })
    // testsrc's mean luma is ~125; black is 16 (limited range) or 0.
    expect(await meanLuma(result.path)).toBeGreaterThan(60)
    // Rejected candidates leave no temporary files beside the poster.
    expect((await readdir(out)).filter((f) => f.includes('.tmp'))).toEqual([])
  })
})

describe('all black', () => {
  it('still makes a poster from a video that is black throughout (the brightest candidate)', async () => {
    const black = join(out, 'all-black.mp4')
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=black:size=160x120:rate=25:duration=8',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      black,
    ])
    const result = await thumbnail(black, await probe(black), {
      out: join(out, 'all-black.jpg'),
      tools,
    })
    expect(await probeImage(result.path)).toMatchObject({ width: 160, height: 120 })
    expect(await meanLuma(result.path)).toBeLessThan(20)
    // Four candidates (1, 2, 4, 6 s) tried, one of them kept.
    expect(result.darkSkipped).toBe(3)
  })
})

describe('failures', () => {
  it('says FileNotFound for a missing file and MediaToolMissing without ffmpeg', async () => {
    const info = { durationSec: 4 }
    await expect(
      thumbnail(join(out, 'gone.mp4'), info, { out: join(out, 'x.jpg'), tools }),
    ).rejects.toMatchObject({ code: 'FileNotFound' })
    await expect(
      thumbnail(fx.clip, info, {
        out: join(out, 'y.jpg'),
        tools: { ffmpeg: '/nonexistent/ffmpeg', ffmpegSource: 'explicit' },
      }),
    ).rejects.toMatchObject({ code: 'MediaToolMissing' })
  })

  it('falls back to the first decodable frame when no offset yields one', async () => {
    // Claimed duration far past the real 4 s: every candidate lies beyond the end.
    const result = await thumbnail(
      fx.clip,
      { durationSec: 4000 },
      { out: join(out, 'z.jpg'), tools },
    )
    expect(result).toMatchObject({ atSec: 0, width: 320, height: 240 })
  })

  it('says ThumbnailFailed when there is no picture to decode at all', async () => {
    const err = (await thumbnail(
      fx.audioOnly,
      { durationSec: 3 },
      { out: join(out, 'none.jpg'), tools },
    ).catch((e: unknown) => e)) as UploadError
    expect(err.code).toBe('ThumbnailFailed')
    expect(err.detail).toMatch(/matches no streams/)
    // ffmpeg said there is no video stream: no slow decode-from-the-start tries after that.
    expect(existsSync(join(out, 'none.jpg'))).toBe(false)
  })

  it.skipIf(process.platform === 'win32')(
    'names an ffmpeg older than 4.0 as too old instead of blaming the video',
    async () => {
      const old = join(out, 'ffmpeg-3.4')
      await writeFile(
        old,
        '#!/bin/sh\necho "ffmpeg version 3.4.11-0ubuntu0.1 Copyright (c) 2000-2022"\nexit 0\n',
      )
      await chmod(old, 0o755)
      const err = (await thumbnail(
        fx.clip,
        { durationSec: 4 },
        {
          out: join(out, 'old.jpg'),
          tools: { ffmpeg: old, ffmpegSource: 'explicit' },
        },
      ).catch((e: unknown) => e)) as UploadError
      expect(err.code).toBe('MediaToolTooOld')
      expect(err.message).toMatch(/version 3\.4\.11.* is too old.*ffmpeg 4\.0 or newer/)
    },
  )
})

const canFifo = process.platform !== 'win32'

describe.skipIf(!canFifo)('cancellation and timeout kill ffmpeg', () => {
  /** A FIFO with no writer: ffmpeg blocks opening it, so the run lasts until it is killed. */
  async function fifo(name: string): Promise<string> {
    const path = join(out, name)
    await promisify(execFile)('mkfifo', [path])
    return path
  }

  it('aborting a thumbnail kills its ffmpeg before the promise settles', async () => {
    const input = await fifo('never-written.mp4')
    const controller = new AbortController()
    let pid = 0
    const running = thumbnail(
      input,
      { durationSec: 10 },
      {
        out: join(out, 'cancelled.jpg'),
        signal: controller.signal,
        tools,
        onSpawn: (p) => (pid = p),
      },
    )
    await expect.poll(() => pid, { timeout: 5000 }).toBeGreaterThan(0)
    expect(alive(pid)).toBe(true)
    if (existsSync(`/proc/${pid}/cmdline`)) {
      expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).toContain(input)
    }
    controller.abort()
    await expect(running).rejects.toMatchObject({ name: 'AbortError' })
    // No polling: the promise settles only after the process has exited and been reaped.
    expect(alive(pid)).toBe(false)
    expect(existsSync(join(out, 'cancelled.jpg'))).toBe(false)
  })

  it('a thumbnail past its time limit is killed and reported as MediaTimeout', async () => {
    const input = await fifo('slow.mp4')
    let pid = 0
    const started = Date.now()
    const err = (await thumbnail(
      input,
      { durationSec: 10 },
      {
        out: join(out, 'slow.jpg'),
        timeoutMs: 400,
        tools,
        onSpawn: (p) => (pid = p),
      },
    ).catch((e: unknown) => e)) as UploadError
    expect(err.code).toBe('MediaTimeout')
    expect(err.retryable).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
  })

  it('the runner kills a long ffmpeg encode on abort and keeps its stderr for timeouts', async () => {
    // An endless lavfi source: this ffmpeg only stops when killed.
    const args = [
      '-hide_banner',
      '-nostdin',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=5',
      '-f',
      'null',
      '-',
    ]
    const controller = new AbortController()
    let pid = 0
    const run = runProcess(tools.ffmpeg, args, {
      signal: controller.signal,
      onSpawn: (p) => {
        pid = p
        controller.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)

    const timed = await runProcess(tools.ffmpeg, args, { timeoutMs: 1500 }).catch((e: unknown) => e)
    expect(timed).toMatchObject({ name: 'ProcessTimeoutError', timeoutMs: 1500 })
    // ffmpeg prints its input description on stderr before encoding: the tail kept it.
    expect((timed as { stderr: string }).stderr).toMatch(/testsrc|Stream #0:0/)
  })

  it('the runner reports a missing binary as ENOENT without hanging', async () => {
    await expect(runProcess('/nonexistent/ffmpeg', ['-version'])).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})
