import { describe, expect, it } from 'vitest'
import {
  parseFfmpegVersion,
  passthroughArgs,
  tooOld,
} from '../../src/main/core/media/ffmpeg-version'
import { thumbnailArgs } from '../../src/main/core/media/thumbnail'

const first = (word: string) =>
  `ffmpeg version ${word} Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with gcc 12`

describe('parseFfmpegVersion', () => {
  it('reads the release of distribution, static and tagged builds', () => {
    expect(parseFfmpegVersion(first('5.1.9-0+deb12u1'))).toEqual({
      major: 5,
      minor: 1,
      text: '5.1.9-0+deb12u1',
    })
    expect(parseFfmpegVersion(first('4.4.2-0ubuntu0.22.04.1'))).toMatchObject({
      major: 4,
      minor: 4,
    })
    expect(parseFfmpegVersion(first('n6.1.1'))).toMatchObject({ major: 6, minor: 1 })
    expect(parseFfmpegVersion(first('7.0.2-static'))).toMatchObject({ major: 7, minor: 0 })
    expect(parseFfmpegVersion(first('6.0-essentials_build-www.gyan.dev'))).toMatchObject({
      major: 6,
      minor: 0,
    })
  })

  it('gives no release for git builds (newer than any release) or unknown text', () => {
    expect(parseFfmpegVersion(first('N-113000-g1a2b3c4d5e'))).toBeUndefined()
    expect(parseFfmpegVersion(first('2024-05-01-git-1a2b3c4d5e-full_build-www.gyan.dev'))).toBe(
      undefined,
    )
    expect(parseFfmpegVersion('avconv version 12')).toBeUndefined()
  })
})

describe('what each version is asked', () => {
  const v = (word: string) => parseFfmpegVersion(first(word))

  it('spells "encode frames as they come" -fps_mode from 5.1 on, -vsync before', () => {
    expect(passthroughArgs(v('5.1.2'))).toEqual(['-fps_mode', 'passthrough'])
    expect(passthroughArgs(v('7.1'))).toEqual(['-fps_mode', 'passthrough'])
    expect(passthroughArgs(undefined)).toEqual(['-fps_mode', 'passthrough'])
    expect(passthroughArgs(v('5.0.1'))).toEqual(['-vsync', 'passthrough'])
    // Ubuntu 22.04.
    expect(passthroughArgs(v('4.4.2-0ubuntu0.22.04.1'))).toEqual(['-vsync', 'passthrough'])
  })

  it('puts that spelling into the poster command', () => {
    const ubuntu = thumbnailArgs('a.mp4', 'o.jpg', 1, 640, 'keyframe', v('4.4.2'))
    expect(ubuntu).not.toContain('-fps_mode')
    expect(ubuntu[ubuntu.indexOf('-vsync') + 1]).toBe('passthrough')
    const debian = thumbnailArgs('a.mp4', 'o.jpg', 1, 640, 'keyframe', v('5.1.9'))
    expect(debian).not.toContain('-vsync')
    expect(debian[debian.indexOf('-fps_mode') + 1]).toBe('passthrough')
  })

  it('calls versions before 4.0 too old, and git builds current', () => {
    expect(tooOld(v('3.4.11-0ubuntu0.1'))).toBe(true)
    expect(tooOld(v('4.0'))).toBe(false)
    expect(tooOld(v('4.4.2'))).toBe(false)
    expect(tooOld(undefined)).toBe(false)
  })
})
