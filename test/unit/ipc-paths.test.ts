import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkPaths } from '../../src/main/services/paths'

const root = mkdtempSync(join(tmpdir(), 'upreel-paths-'))
const dataDir = join(root, 'Upreel')
mkdirSync(join(dataDir, 'state'), { recursive: true })
writeFileSync(join(dataDir, 'settings.json'), '{}')
const videos = join(root, 'videos')
mkdirSync(videos)
writeFileSync(join(videos, 'clip.mp4'), 'x')
symlinkSync(join(videos, 'clip.mp4'), join(root, 'link.mp4'))
symlinkSync(join(dataDir, 'settings.json'), join(root, 'innocent.mp4'))
execFileSync('mkfifo', [join(root, 'pipe.mp4')])

describe('checkPaths (every path from the page is checked again in main)', () => {
  it('accepts regular files and folders, resolving symlinks', async () => {
    const r = await checkPaths(
      [join(videos, 'clip.mp4'), videos, join(root, 'link.mp4')],
      [dataDir],
    )
    expect(r.refused).toEqual([])
    expect(r.valid).toEqual([
      { path: join(videos, 'clip.mp4'), kind: 'file' },
      { path: videos, kind: 'dir' },
    ]) // the symlink resolves to clip.mp4: listed once
  })

  it.each([
    ['a relative path', 'clip.mp4', /Not a file/],
    ['a missing file', '/nonexistent/x.mp4', /no longer exists/],
    ['a NUL byte', '/tmp/a\0b', /Not a file/],
    ['a FIFO (would hang a read)', 'PIPE', /Not a regular file/],
    ['a device', '/dev/zero', /Not a regular file/],
    ["the app's data dir", 'DATA', /own data folder/],
    ["a file in the app's data dir", 'SETTINGS', /own data folder/],
    ["a symlink into the app's data dir", 'LINK', /own data folder/],
  ])('refuses %s', async (_name, raw, reason) => {
    const path =
      raw === 'PIPE'
        ? join(root, 'pipe.mp4')
        : raw === 'DATA'
          ? dataDir
          : raw === 'SETTINGS'
            ? join(dataDir, 'settings.json')
            : raw === 'LINK'
              ? join(root, 'innocent.mp4')
              : raw
    const r = await checkPaths([path], [dataDir])
    expect(r.valid).toEqual([])
    expect(r.refused[0]?.reason).toMatch(reason)
  })
})
