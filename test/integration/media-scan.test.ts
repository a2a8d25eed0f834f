/**
 * What a drop or a folder scan keeps, with real ffmpeg judging content: a non-video given alone is
 * refused with the probe's reason, one in a folder is skipped and counted, and a video is a video
 * whatever its name when it is given alone.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import { probe } from '../../src/main/core/media'
import { scanInputs, type ProbeFn } from '../../src/main/core/scan'
import { mediaFixtures, type MediaFixtures } from '../support/media-fixtures'

let fx: MediaFixtures
let dir: string
beforeAll(async () => {
  fx = await mediaFixtures()
  dir = await mkdtemp(join(tmpdir(), 'upreel-scan-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The real probe, counting the files it was asked about. */
function countingProbe(): { probe: ProbeFn; asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    probe: (path, signal) => {
      asked.push(path)
      return probe(path, signal)
    },
  }
}

describe('a file given alone is always probed', () => {
  it('refuses a lone non-video with the reason the probe gave, instead of skipping it', async () => {
    const notes = join(dir, 'notes.txt')
    await writeFile(notes, 'Shot list: 1. intro 2. interview\n')
    const { probe, asked } = countingProbe()
    const scan = await scanInputs([notes], { allFileTypes: false, probe })
    expect(asked).toEqual([notes])
    expect(scan.files).toEqual([])
    expect(scan.skipped).toEqual([])
    expect(scan.refused).toEqual([
      {
        path: notes,
        reason:
          'This file is not a video, or not in a video format Upreel can read (turn on "Upload all file types" to include it)',
      },
    ])
  })

  it('refuses audio and pictures named like videos, saying what they are', async () => {
    const scan = await scanInputs([fx.audioOnly, fx.gifAsMp4], {
      allFileTypes: false,
      probe,
      allFilesHint: 'use --all-files to include it',
    })
    expect(scan.files).toEqual([])
    expect(scan.refused.map((r) => r.reason)).toEqual([
      'This file has sound but no picture: it is audio, not a video (use --all-files to include it)',
      'This file is a picture, not a video (use --all-files to include it)',
    ])
  })

  it('takes a video with an unusual extension, and keeps a broken video for its row to explain', async () => {
    const odd = join(dir, 'GH010042.vid')
    await copyFile(fx.clip, odd)
    const scan = await scanInputs([odd, fx.truncated, fx.truncatedWebm], {
      allFileTypes: false,
      probe,
    })
    expect(scan.files.map((f) => f.path)).toEqual([odd, fx.truncated, fx.truncatedWebm])
    expect(scan.refused).toEqual([])
  })

  it('goes by the name when the probe cannot judge (no ffmpeg)', async () => {
    const noFfmpeg: ProbeFn = () =>
      Promise.reject(new UploadError({ code: 'MediaToolMissing', message: 'no ffmpeg' }))
    const notes = join(dir, 'notes-2.txt')
    await writeFile(notes, 'notes')
    const scan = await scanInputs([fx.clip, notes], { allFileTypes: false, probe: noFfmpeg })
    expect(scan.files.map((f) => f.path)).toEqual([fx.clip])
    expect(scan.refused).toEqual([
      { path: notes, reason: 'not a video file (turn on "Upload all file types" to include it)' },
    ])
  })
})

describe('files in a folder: extension first, content to confirm', () => {
  it('skips and counts a text file named .mp4, keeps the videos, probes only what needs it', async () => {
    const root = join(dir, 'shoot')
    await mkdir(join(root, 'day 1'), { recursive: true })
    for (const [src, name] of [
      [fx.clip, 'a.mp4'],
      [fx.webm, 'b.webm'],
      [fx.tsOneKeyframe, 'day 1/c.ts'],
      [fx.m2tsLongGop, 'day 1/d.m2ts'],
      [fx.mkv, 'day 1/e.mkv'],
      [fx.textAsMp4, 'notes.mp4'],
      [fx.audioOnly, 'voice.mp4'],
      [fx.clip, 'odd.vid'],
    ] as const) {
      await copyFile(src, join(root, name))
    }
    await writeFile(join(root, 'shot list.txt'), 'junk')
    const { probe, asked } = countingProbe()
    const scan = await scanInputs([root], { allFileTypes: false, probe })
    expect(scan.files.map((f) => f.path.slice(root.length + 1))).toEqual([
      'a.mp4',
      'b.webm',
      'day 1/c.ts',
      'day 1/d.m2ts',
      'day 1/e.mkv',
    ])
    const reasons = Object.fromEntries(
      scan.skipped.map((s) => [s.path.slice(root.length + 1), s.reason]),
    )
    expect(reasons).toEqual({
      'notes.mp4': expect.stringMatching(/^This file is not a video/),
      'voice.mp4': expect.stringMatching(/^This file has sound but no picture/),
      // The cheap first filter: in a folder, an unknown extension is not opened at all.
      'odd.vid': 'not a video (turn on "Upload all file types" to include it)',
      'shot list.txt': 'not a video (turn on "Upload all file types" to include it)',
    })
    expect(scan.refused).toEqual([])
    // The real videos start like video containers: only the two impostors were probed.
    expect(asked.map((p) => p.slice(root.length + 1)).sort()).toEqual(['notes.mp4', 'voice.mp4'])
  })

  it('costs no probe for a folder of a thousand documents', async () => {
    const root = join(dir, 'documents')
    await mkdir(root)
    for (let i = 0; i < 1000; i++) {
      await writeFile(join(root, `page ${i}.${['txt', 'jpg', 'pdf', 'docx'][i % 4]}`), 'x')
    }
    const { probe, asked } = countingProbe()
    const scan = await scanInputs([root], { allFileTypes: false, probe })
    expect(scan.files).toEqual([])
    expect(scan.skipped).toHaveLength(1000)
    expect(asked).toEqual([])
  })

  it('takes everything with "upload all file types", and goes by extension without a probe', async () => {
    const root = join(dir, 'shoot')
    const all = await scanInputs([root], { allFileTypes: true, probe })
    expect(all.files).toHaveLength(9)
    const byName = await scanInputs([root], { allFileTypes: false })
    expect(byName.files.map((f) => f.path.slice(root.length + 1)).sort()).toEqual([
      'a.mp4',
      'b.webm',
      'day 1/c.ts',
      'day 1/d.m2ts',
      'day 1/e.mkv',
      'notes.mp4',
      'voice.mp4',
    ])
  })
})
