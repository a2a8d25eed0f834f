/** `upreel probe` and `upreel thumbnail` as the dispatcher will call them, on real files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProbe, runThumbnail } from '../../src/main/core/cli/media-commands'
import { probe } from '../../src/main/core/media/probe'
import {
  mediaFixtures,
  probeImage,
  psnr,
  referenceFrame,
  type MediaFixtures,
} from '../support/media-fixtures'
import { jsonLines, spawnCli } from '../support/cli'
import { testServer } from '../support/s3'

let fx: MediaFixtures
let dir: string
beforeAll(async () => {
  fx = await mediaFixtures()
  dir = await mkdtemp(join(tmpdir(), 'upreel-cli-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function io() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } }
}

describe('upreel probe', () => {
  it('prints a readable summary and exits 0', async () => {
    const t = io()
    expect(await runProbe([fx.rotated], t.io)).toBe(0)
    const text = t.out.join('\n')
    expect(text).toMatch(/Video: +h264, 720x1280, 30 fps/)
    expect(text).toMatch(/Duration: +0:03\.00/)
    expect(text).toMatch(/Container: +mp4/)
    expect(t.err).toEqual([])
  })

  it('--json prints exactly what probe() returns', async () => {
    const t = io()
    expect(await runProbe([fx.unicodeName, '--json'], t.io)).toBe(0)
    expect(JSON.parse(t.out.join(''))).toEqual(await probe(fx.unicodeName))
  })

  it('exits 1 with the reason for a file that is not a video, as JSON with --json', async () => {
    const t = io()
    expect(await runProbe([fx.textAsMp4], t.io)).toBe(1)
    expect(t.err.join('\n')).toMatch(/not a video/)
    const j = io()
    expect(await runProbe([fx.truncated, '--json'], j.io)).toBe(1)
    expect(JSON.parse(j.out.join(''))).toMatchObject({ error: { code: 'Truncated' } })
  })
})

describe('upreel thumbnail', () => {
  it('writes the poster, at --at when given', async () => {
    const out = join(dir, 'poster at 2.jpg')
    const t = io()
    expect(await runThumbnail([fx.clip, '--out', out, '--at', '2'], t.io)).toBe(0)
    expect(t.out.join('')).toMatch(/320x240 JPEG at 2\.00 s/)
    expect(await probeImage(out)).toEqual({ width: 320, height: 240, codec: 'mjpeg' })
    const at2 = await psnr(out, await referenceFrame(fx.clip, 2, join(dir, 'r2.png'), 320, 240))
    const at1 = await psnr(out, await referenceFrame(fx.clip, 1, join(dir, 'r1.png'), 320, 240))
    expect(at2).toBeGreaterThan(at1)
  })

  it('honours --max-side and reports skipped dark frames', async () => {
    const out = join(dir, 'black.jpg')
    const t = io()
    expect(await runThumbnail([fx.blackStart, '-o', out, '--max-side', '160'], t.io)).toBe(0)
    expect(await probeImage(out)).toMatchObject({ width: 160, height: 120 })
    // Candidates 1 s and 2 s fall in the 3 s of black; 4 s is the poster.
    expect(t.out.join('')).toMatch(/JPEG at 4\.00 s \(2 near-black frame\(s\) skipped\)/)
  })

  it('exits 2 for --at past the end, 1 for audio-only', async () => {
    const t = io()
    expect(await runThumbnail([fx.clip, '--out', join(dir, 'x.jpg'), '--at', '9'], t.io)).toBe(2)
    expect(t.err.join('')).toMatch(/past the end of the video \(4\.00 s\)/)
    const a = io()
    expect(await runThumbnail([fx.audioOnly, '--out', join(dir, 'y.jpg')], a.io)).toBe(1)
    expect(a.err.join('')).toMatch(/audio/)
  })
})

describe('upreel upload judges what it is given', () => {
  it("refuses a lone non-video with the probe's reason, before touching the destination", async () => {
    const notes = join(dir, 'notes.txt')
    await writeFile(notes, 'Shot list\n')
    const run = await spawnCli([
      'upload',
      notes,
      '--bucket',
      'never-created',
      '--endpoint',
      testServer().endpoint,
      '--state-dir',
      join(dir, 'state-refuse'),
      '--json',
    ]).output
    expect(run.code, run.stderr).toBe(1)
    expect(jsonLines(run.stdout)).toEqual([
      {
        type: 'refused',
        path: notes,
        reason:
          'This file is not a video, or not in a video format Upreel can read (use --all-files to include it)',
      },
    ])
    expect(run.stderr).toMatch(/nothing to upload/)
  })
})
