/**
 * createMediaPort(): the MediaPort the engine gets. Cache hits are proven by a second port whose
 * ffmpeg does not exist: it can only answer from the cache.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import {
  appendFile,
  chmod,
  copyFile,
  mkdtemp,
  readdir,
  rm,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveMediaTools } from '../../src/main/core/media/ffmpeg-path'
import { createMediaPort } from '../../src/main/core/media/media-port'
import type { MediaPort } from '../../src/main/core/ports'
import { mediaFixtures, probeImage, type MediaFixtures } from '../support/media-fixtures'

/** ffmpeg/ffprobe children of this process right now (Linux /proc). */
function mediaChildren(): number {
  let n = 0
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    const file = `/proc/${process.pid}/task/${tid}/children`
    const pids = existsSync(file)
      ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean)
      : []
    for (const pid of pids) {
      try {
        if (/^ff(mpeg|probe)$/.test(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) n++
      } catch {
        // Exited between the two reads.
      }
    }
  }
  return n
}

/** Samples mediaChildren() every 2 ms while `work` runs; returns the most seen at once. */
async function watchMediaChildren<T>(work: Promise<T>): Promise<{ max: number; result: T }> {
  let max = 0
  const timer = setInterval(() => (max = Math.max(max, mediaChildren())), 2)
  try {
    const result = await work
    return { max, result }
  } finally {
    clearInterval(timer)
  }
}

const NO_FFMPEG = {
  ffmpeg: '/nonexistent/ffmpeg',
  ffprobe: '/nonexistent/ffprobe',
  ffmpegSource: 'explicit' as const,
}

let fx: MediaFixtures
let dir: string
beforeAll(async () => {
  fx = await mediaFixtures()
  dir = await mkdtemp(join(tmpdir(), 'upreel-port-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('createMediaPort', () => {
  it('is a MediaPort: probe, then a poster in the cache dir', async () => {
    const port: MediaPort = createMediaPort({ cacheDir: join(dir, 'cache-a') })
    const info = await port.probe(fx.rotated)
    expect(info).toMatchObject({ width: 720, height: 1280 })
    const poster = await port.thumbnail(fx.rotated, info)
    expect(poster.startsWith(join(dir, 'cache-a'))).toBe(true)
    expect(await probeImage(poster)).toMatchObject({ width: 360, height: 640, codec: 'mjpeg' })
  })

  it('answers a second time from the cache, without ffmpeg, until the file changes', async () => {
    const video = join(dir, 'my clip.mp4')
    await copyFile(fx.clip, video)
    const cacheDir = join(dir, 'cache-b')
    const real = createMediaPort({ cacheDir })
    const info = await real.probe(video)
    const poster = await real.thumbnail(video, info)
    expect(real.stats()).toEqual({ probeRuns: 1, thumbnailRuns: 1, cacheHits: 0 })

    expect(await real.probe(video)).toEqual(info)
    expect(await real.thumbnail(video, info)).toBe(poster)
    expect(real.stats()).toEqual({ probeRuns: 1, thumbnailRuns: 1, cacheHits: 2 })

    // Same cache, no ffmpeg at all: only a cache hit can answer.
    const blind = createMediaPort({ cacheDir, tools: NO_FFMPEG })
    expect(await blind.probe(video)).toEqual(info)
    expect(await blind.thumbnail(video, info)).toBe(poster)

    // Content changes: a different fingerprint, so the blind port must run ffmpeg, and cannot.
    await appendFile(video, Buffer.alloc(1000))
    await expect(blind.probe(video)).rejects.toMatchObject({ code: 'MediaToolMissing' })
    await expect(blind.thumbnail(video, info)).rejects.toMatchObject({ code: 'MediaToolMissing' })
    const newPoster = await real.thumbnail(video, info)
    expect(newPoster).not.toBe(poster)
    expect(real.stats().thumbnailRuns).toBe(2)
  })

  it('treats a new modification time as a new file (edits the content sample cannot see)', async () => {
    const video = join(dir, 'touched.mp4')
    await copyFile(fx.clip, video)
    const cacheDir = join(dir, 'cache-c')
    await createMediaPort({ cacheDir }).probe(video)
    const blind = createMediaPort({ cacheDir, tools: NO_FFMPEG })
    expect((await blind.probe(video)).width).toBe(320)
    const later = new Date(Date.now() + 60_000)
    await utimes(video, later, later)
    await expect(blind.probe(video)).rejects.toMatchObject({ code: 'MediaToolMissing' })
  })

  it('caches nothing for a file that is not a video', async () => {
    const cacheDir = join(dir, 'cache-d')
    const port = createMediaPort({ cacheDir })
    await expect(port.probe(fx.textAsMp4)).rejects.toMatchObject({ code: 'NotVideo' })
    await expect(port.probe(fx.audioOnly)).rejects.toMatchObject({ code: 'NotVideo' })
    expect(await readdir(cacheDir).catch(() => [])).toEqual([])
  })

  it('reports a missing file as FileNotFound from both calls', async () => {
    const port = createMediaPort({ cacheDir: join(dir, 'cache-e') })
    const gone = join(dir, 'gone.mp4')
    await expect(port.probe(gone)).rejects.toMatchObject({ code: 'FileNotFound' })
    await expect(port.thumbnail(gone, { durationSec: 4 })).rejects.toMatchObject({
      code: 'FileNotFound',
    })
  })

  it.skipIf(!existsSync(`/proc/${process.pid}/task`))(
    'runs one probe and one thumbnail at a time by default, and as many as asked otherwise',
    async () => {
      const files = [fx.clip, fx.rotated, fx.blackStart, fx.unicodeName]
      const run = async (concurrency: number | undefined, cacheDir: string) => {
        const port = createMediaPort({ cacheDir: join(dir, cacheDir), concurrency })
        const infos = await Promise.all(files.map((f) => port.probe(f)))
        const posters = await Promise.all(files.map((f, i) => port.thumbnail(f, infos[i]!)))
        return { port, posters }
      }
      const one = await watchMediaChildren(run(undefined, 'cache-f1'))
      expect(one.max).toBe(1)
      // clip and unicodeName have the same bytes but different mtimes: separate entries.
      expect(new Set(one.result.posters).size).toBe(4)
      expect(one.result.port.stats()).toMatchObject({ probeRuns: 4, thumbnailRuns: 4 })
      // Control: the watcher does see overlapping processes when they are allowed.
      const two = await watchMediaChildren(run(2, 'cache-f2'))
      expect(two.max).toBe(2)
    },
  )

  it.skipIf(process.platform === 'win32')(
    "never makes the next video's probe wait behind a long thumbnail",
    async () => {
      // An "ffmpeg" that knows its version and then takes as long as a 2-hour file decoded from
      // the start: it only ends when killed. Probes use the real ffprobe.
      const slow = join(dir, 'slow-ffmpeg')
      await writeFile(
        slow,
        '#!/bin/sh\ncase "$*" in *-version*) echo "ffmpeg version 6.1"; exit 0;; esac\nexec sleep 600\n',
      )
      await chmod(slow, 0o755)
      const real = resolveMediaTools()
      const port = createMediaPort({
        cacheDir: join(dir, 'cache-slow'),
        tools: { ffmpeg: slow, ffprobe: real.ffprobe, ffmpegSource: 'explicit' },
      })
      const controller = new AbortController()
      const video = join(dir, 'slow-poster.mp4')
      await copyFile(fx.clip, video)
      const poster = port.thumbnail(video, { durationSec: 4, width: 320 }, controller.signal)
      poster.catch(() => undefined)
      // Once the thumbnail holds its slot (counted when its job starts) …
      await expect.poll(() => port.stats().thumbnailRuns).toBe(1)
      // … the probe of another video still goes through.
      expect(await port.probe(fx.rotated)).toMatchObject({ width: 720, height: 1280 })
      controller.abort()
      await expect(poster).rejects.toMatchObject({ name: 'AbortError' })
    },
    30_000,
  )

  it('drops a queued job whose signal aborts, before it runs', async () => {
    const port = createMediaPort({ cacheDir: join(dir, 'cache-g') })
    const controller = new AbortController()
    const first = port.probe(fx.blackStart)
    const second = port.probe(fx.rotated, controller.signal)
    controller.abort()
    await expect(second).rejects.toMatchObject({ name: 'AbortError' })
    await first
    expect(port.stats().probeRuns).toBe(1)
  })
})
