/**
 * The app's wiring of the media port (services/core-wiring.ts): the add flow's scan probes each
 * file given directly, and the engine probes each file again when its upload prepares. Both go
 * through one cached port on the engine's cache folder, so a video is run through ffprobe once.
 * Real ffprobe on a real tiny video.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { realCore, sharedMediaPort } from '../../src/main/services/core-wiring'
import { mediaFixtures } from '../support/media-fixtures'

let dir: string
let clip: string
beforeAll(async () => {
  const fx = await mediaFixtures()
  dir = await mkdtemp(join(tmpdir(), 'upreel-app-media-'))
  // A copy of its own: nothing else has probed (and cached) this file.
  clip = join(dir, 'selected.mp4')
  await copyFile(fx.clip, clip)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('one probe per selected video', () => {
  it('the scan probes through the engine’s cached port; the engine’s own probe is a cache hit', async () => {
    const cacheDir = join(dir, 'media-cache')
    // The engine's port exists first (EngineService builds the engine at start).
    const engineMedia = sharedMediaPort(cacheDir, 640)
    const scan = await realCore.scanInputs([clip], { allFileTypes: false, cacheDir })
    expect(scan.files.map((f) => f.path)).toEqual([clip])
    expect(engineMedia.stats()).toMatchObject({ probeRuns: 1 })

    const info = await engineMedia.probe(clip) // what the engine does when the upload prepares
    expect(info.width).toBeGreaterThan(0)
    expect(engineMedia.stats()).toMatchObject({ probeRuns: 1, cacheHits: 1 })
  })
})
