import { describe, expect, it } from 'vitest'
import {
  isNearBlack,
  jpegSize,
  NEAR_BLACK_LUMA,
  posterOffsets,
  thumbnailArgs,
} from '../../src/main/core/media/thumbnail'

describe('posterOffsets', () => {
  it('starts at 10 % of the duration', () => {
    expect(posterOffsets(120)[0]).toBe(12)
    expect(posterOffsets(30)[0]).toBe(3)
  })

  it('clamps the first offset to [1 s, 60 s]', () => {
    expect(posterOffsets(4)[0]).toBe(1)
    expect(posterOffsets(8)[0]).toBe(1)
    expect(posterOffsets(7200)[0]).toBe(60)
    expect(posterOffsets(601)[0]).toBe(60)
  })

  it('stays inside clips shorter than 2 s and never takes frame 0', () => {
    expect(posterOffsets(1.5)[0]).toBe(0.75)
    expect(posterOffsets(0.2)[0]).toBe(0.1)
    for (const d of [0.04, 0.2, 1, 1.5, 4, 60, 7200]) {
      for (const t of posterOffsets(d)) {
        expect(t).toBeGreaterThan(0)
        expect(t).toBeLessThan(d)
      }
    }
  })

  it('offers later candidates for a black start, in increasing order', () => {
    expect(posterOffsets(8)).toEqual([1, 2, 4, 6])
    expect(posterOffsets(7200)).toEqual([60, 1800, 3600, 5400])
    // A 1.5 s clip has nothing meaningfully later to try.
    expect(posterOffsets(1.5)).toEqual([0.75])
  })

  it('guesses when the duration is unknown', () => {
    for (const d of [undefined, 0, NaN, -1]) {
      const offsets = posterOffsets(d)
      expect(offsets[0]).toBe(1)
      expect(offsets.every((t) => t > 0)).toBe(true)
    }
  })
})

describe('thumbnailArgs', () => {
  const args = thumbnailArgs('/v/-odd name.mp4', '/c/out.jpg', 12.3456, 640)

  it('seeks before -i (fast seek) and takes one frame', () => {
    const ss = args.indexOf('-ss')
    const i = args.indexOf('-i')
    expect(ss).toBeGreaterThanOrEqual(0)
    expect(ss).toBeLessThan(i)
    expect(args[ss + 1]).toBe('12.346')
    expect(args[args.indexOf('-frames:v') + 1]).toBe('1')
  })

  it('asks for the keyframe before the offset only in keyframe mode', () => {
    expect(args).not.toContain('-noaccurate_seek')
    const keyframe = thumbnailArgs('/v/a.mp4', '/c/o.jpg', 60, 640, 'keyframe')
    expect(keyframe.indexOf('-noaccurate_seek')).toBeLessThan(keyframe.indexOf('-ss'))
    expect(keyframe.indexOf('-ss')).toBeLessThan(keyframe.indexOf('-i'))
    expect(keyframe[keyframe.indexOf('-fps_mode') + 1]).toBe('passthrough')
  })

  it('decodes from the start in decode mode: trim in the filter graph, no -ss at all', () => {
    const decode = thumbnailArgs('/v/a.ts', '/c/o.jpg', 1.2, 640, 'decode')
    expect(decode).not.toContain('-ss')
    expect(decode).not.toContain('-noaccurate_seek')
    // trim first, so signalstats measures only the frame that is kept.
    expect(decode[decode.indexOf('-vf') + 1]).toMatch(/^trim=start=1\.200,scale=.*signalstats/)
    // The first decodable frame: no trim.
    const first = thumbnailArgs('/v/a.ts', '/c/o.jpg', 0, 640, 'decode')
    expect(first[first.indexOf('-vf') + 1]).toMatch(/^scale=/)
  })

  it('keeps file names from being read as options or protocols', () => {
    expect(args[args.indexOf('-i') + 1]).toBe('file:/v/-odd name.mp4')
    expect(args.at(-1)).toBe('file:/c/out.jpg')
  })

  it('skips cover art, scales to the longest side without upscaling, measures luma in-process', () => {
    expect(args[args.indexOf('-map') + 1]).toBe('0:V:0')
    const vf = args[args.indexOf('-vf') + 1]!
    expect(vf).toContain('min(1,640/max(iw*sar,ih))')
    expect(vf).toMatch(/signalstats,metadata=mode=print:file=-$/)
    expect(thumbnailArgs('a', 'b', 1, 320)[args.indexOf('-vf') + 1]).toContain('min(1,320/')
  })
})

describe('isNearBlack', () => {
  it('judges by the 90th-percentile luma, else the mean', () => {
    expect(isNearBlack({ YAVG: 16, YHIGH: 16 })).toBe(true)
    expect(isNearBlack({ YAVG: 20, YHIGH: NEAR_BLACK_LUMA })).toBe(true)
    // A dark street at night: low mean, but lit parts.
    expect(isNearBlack({ YAVG: 28, YHIGH: 70 })).toBe(false)
    expect(isNearBlack({ YAVG: 125 })).toBe(false)
    expect(isNearBlack({ YAVG: 17 })).toBe(true)
    // Nothing measured: do not pretend it is black (no retry loop on missing stats).
    expect(isNearBlack({})).toBe(false)
  })
})

describe('jpegSize', () => {
  /** SOI, an APP0 segment, then SOF0 with height 360 and width 640. */
  const jpeg = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x68, 0x02,
    0x80, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
  ])
  it('reads the start-of-frame marker', () => {
    expect(jpegSize(jpeg)).toEqual({ width: 640, height: 360 })
  })
  it('skips a DHT segment, whose marker sits inside the SOF range', () => {
    const dht = Buffer.from([0xff, 0xc4, 0x00, 0x04, 0x00, 0x00])
    const withDht = Buffer.concat([jpeg.subarray(0, 8), dht, jpeg.subarray(8)])
    expect(jpegSize(withDht)).toEqual({ width: 640, height: 360 })
  })
  it('refuses what is not a JPEG', () => {
    expect(jpegSize(Buffer.from('not a jpeg at all'))).toBeUndefined()
    expect(jpegSize(Buffer.alloc(0))).toBeUndefined()
  })
})
