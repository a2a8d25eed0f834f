import { describe, expect, it } from 'vitest'
import { mediaMetadata } from '../../src/main/core/media/metadata'
import {
  containerName,
  displaySize,
  notVideoReason,
  parseClock,
  parseFfmpegInfo,
  parseFfprobeJson,
  parseFirstFrame,
  parseRate,
  stderrTail,
  toMediaInfo,
} from '../../src/main/core/media/parse'

/** ffprobe 5.1's JSON for a phone-style clip (1280x720 coded, 90° display matrix), trimmed. */
const FFPROBE_ROTATED = JSON.stringify({
  streams: [
    {
      index: 0,
      codec_name: 'h264',
      codec_type: 'video',
      width: 1280,
      height: 720,
      r_frame_rate: '30/1',
      avg_frame_rate: '30/1',
      duration: '3.000000',
      bit_rate: '324968',
      disposition: { default: 1, attached_pic: 0 },
      tags: { language: 'und', handler_name: 'VideoHandler' },
      side_data_list: [
        {
          side_data_type: 'Display Matrix',
          displaymatrix: '\n00000000:            0      -65536           0\n',
          rotation: 90,
        },
      ],
    },
    {
      index: 1,
      codec_name: 'aac',
      codec_type: 'audio',
      r_frame_rate: '0/0',
      avg_frame_rate: '0/0',
      disposition: { default: 1, attached_pic: 0 },
    },
  ],
  format: {
    filename: 'rotated.mp4',
    format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: '3.000000',
    size: '123074',
    bit_rate: '328197',
    tags: { major_brand: 'isom', minor_version: '512' },
  },
})

/** ffmpeg 5.1's `ffmpeg -i` stderr for the same file (with an audio stream added). */
const FFMPEG_ROTATED = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'rotated.mp4':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf59.27.100
  Duration: 00:00:03.00, start: 0.000000, bitrate: 328 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 324 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      vendor_id       : [0][0][0][0]
      encoder         : Lavc59.37.100 libx264
    Side data:
      displaymatrix: rotation of 90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
`

/** An older ffmpeg (4.x) on an iPhone .MOV: legacy rotate tag, HEVC, NTSC rate, QuickTime brand. */
const FFMPEG_IPHONE_4X = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'IMG_0420.MOV':
  Metadata:
    major_brand     : qt  
    minor_version   : 0
    creation_time   : 2023-06-01T10:00:00.000000Z
  Duration: 01:02:03.50, start: 0.000000, bitrate: 7812 kb/s
    Chapter #0:0: start 0.000000, end 3723.500000
  Stream #0:0(und): Video: hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), 1920x1080, 7654 kb/s, 29.97 fps, 29.97 tbr, 600 tbn, 600 tbc (default)
    Metadata:
      rotate          : 90
      creation_time   : 2023-06-01T10:00:00.000000Z
      handler_name    : Core Media Video
  Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 155 kb/s (default)
`

/** An MP3 with cover art: the only "video" stream is an attached picture. */
const FFMPEG_MP3_WITH_COVER = `Input #0, mp3, from 'song.mp3':
  Metadata:
    title           : Song
  Duration: 00:03:10.03, start: 0.025057, bitrate: 320 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 320 kb/s
  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 500x500 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)
    Metadata:
      comment         : Cover (front)
`

describe('parseFfprobeJson', () => {
  it('reads the display-matrix rotation, rates, bit rate and brand', () => {
    const file = parseFfprobeJson(FFPROBE_ROTATED)!
    expect(file.formatNames).toContain('mp4')
    expect(file.majorBrand).toBe('isom')
    expect(file.streams[0]).toMatchObject({
      type: 'video',
      codec: 'h264',
      width: 1280,
      height: 720,
      rotation: 90,
      fps: 30,
    })
    expect(file.streams[1]).toMatchObject({ type: 'audio', codec: 'aac', attachedPic: false })
    expect(file.streams[1]!.fps).toBeUndefined()
    expect(toMediaInfo(file, 'mp4')).toEqual({
      durationSec: 3,
      width: 720,
      height: 1280,
      videoCodec: 'h264',
      audioCodec: 'aac',
      fps: 30,
      bitrate: 328197,
      container: 'mp4',
    })
  })

  it('falls back to the legacy rotate tag, and prefers the display matrix when both exist', () => {
    const doc = JSON.parse(FFPROBE_ROTATED) as { streams: Record<string, unknown>[] }
    doc.streams[0]!.side_data_list = []
    doc.streams[0]!.tags = { rotate: '270' }
    expect(parseFfprobeJson(JSON.stringify(doc))!.streams[0]!.rotation).toBe(270)
    doc.streams[0]!.side_data_list = [{ side_data_type: 'Display Matrix', rotation: -90 }]
    expect(parseFfprobeJson(JSON.stringify(doc))!.streams[0]!.rotation).toBe(-90)
  })

  it('uses r_frame_rate when avg_frame_rate is 0/0, and stream duration when the format has none', () => {
    const doc = JSON.parse(FFPROBE_ROTATED) as {
      streams: Record<string, unknown>[]
      format: Record<string, unknown>
    }
    doc.streams[0]!.avg_frame_rate = '0/0'
    doc.streams[0]!.r_frame_rate = '30000/1001'
    delete doc.format.duration
    const file = parseFfprobeJson(JSON.stringify(doc))!
    expect(file.streams[0]!.fps).toBe(29.97)
    expect(file.durationSec).toBe(3)
  })

  it('returns undefined for empty or broken output', () => {
    expect(parseFfprobeJson('')).toBeUndefined()
    expect(parseFfprobeJson('{}')).toBeUndefined()
    expect(parseFfprobeJson('{"streams": [')).toBeUndefined()
  })

  it('marks attached pictures', () => {
    const doc = {
      format: { format_name: 'mp3', duration: '190.03' },
      streams: [
        { codec_type: 'audio', codec_name: 'mp3' },
        {
          codec_type: 'video',
          codec_name: 'mjpeg',
          width: 500,
          height: 500,
          disposition: { attached_pic: 1 },
        },
      ],
    }
    const file = parseFfprobeJson(JSON.stringify(doc))!
    expect(file.streams[1]!.attachedPic).toBe(true)
    expect(notVideoReason(file)).toBe('audio-only')
  })
})

describe('parseFfmpegInfo', () => {
  it('gives the same MediaInfo as ffprobe for the same file, within kb/s rounding', () => {
    const file = parseFfmpegInfo(FFMPEG_ROTATED)!
    expect(file.streams).toHaveLength(2)
    expect(toMediaInfo(file, 'mp4')).toEqual({
      durationSec: 3,
      width: 720,
      height: 1280,
      videoCodec: 'h264',
      audioCodec: 'aac',
      fps: 30,
      bitrate: 328000,
      container: 'mp4',
    })
  })

  it('does not read the codec tag "0x31637661" as a size', () => {
    const file = parseFfmpegInfo(FFMPEG_ROTATED)!
    expect(file.streams[0]).toMatchObject({ width: 1280, height: 720 })
  })

  it('reads an older ffmpeg: rotate tag, hours, 29.97 fps, QuickTime brand, chapters', () => {
    const info = toMediaInfo(parseFfmpegInfo(FFMPEG_IPHONE_4X)!, 'MOV')
    expect(info).toEqual({
      durationSec: 3723.5,
      width: 1080,
      height: 1920,
      videoCodec: 'hevc',
      audioCodec: 'aac',
      fps: 29.97,
      bitrate: 7812000,
      container: 'mov',
    })
  })

  it('sees cover art as a picture, not a video', () => {
    const file = parseFfmpegInfo(FFMPEG_MP3_WITH_COVER)!
    expect(file.streams[1]).toMatchObject({ type: 'video', codec: 'mjpeg', attachedPic: true })
    expect(notVideoReason(file)).toBe('audio-only')
  })

  it('returns undefined when ffmpeg could not open the input', () => {
    const stderr =
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\nfile:/x/a.mp4: Invalid data found when processing input\n'
    expect(parseFfmpegInfo(stderr)).toBeUndefined()
  })

  it('stops at the end of the input block', () => {
    const stderr = `${FFMPEG_MP3_WITH_COVER}Output #0, null, to 'pipe:':\n  Stream #0:0: Video: wrapped_avframe, 1920x1080\n`
    expect(parseFfmpegInfo(stderr)!.streams).toHaveLength(2)
  })

  it('reads duration N/A as unknown and "30k fps"', () => {
    const stderr = `Input #0, matroska,webm, from 'live.webm':
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv), 640x360, SAR 1:1 DAR 16:9, 30k fps, 30 tbr, 1k tbn (default)
`
    const file = parseFfmpegInfo(stderr)!
    expect(file.durationSec).toBeUndefined()
    expect(file.bitrate).toBeUndefined()
    expect(file.streams[0]!.fps).toBe(30000)
    expect(toMediaInfo(file, 'webm').container).toBe('webm')
  })
})

describe('notVideoReason', () => {
  it('accepts a file with a real video stream', () => {
    expect(notVideoReason(parseFfprobeJson(FFPROBE_ROTATED)!)).toBeUndefined()
  })
  it('refuses images opened by the image demuxers', () => {
    const jpeg = {
      formatNames: ['jpeg_pipe'],
      streams: [{ type: 'video' as const, codec: 'mjpeg', attachedPic: false }],
    }
    expect(notVideoReason(jpeg)).toBe('image')
    expect(notVideoReason({ ...jpeg, formatNames: ['image2'] })).toBe('image')
    // An animated GIF (or APNG) has many frames, but is still a picture for an upload platform.
    expect(notVideoReason({ ...jpeg, formatNames: ['gif'] })).toBe('image')
    expect(notVideoReason({ ...jpeg, formatNames: ['apng'] })).toBe('image')
  })
  it('tells audio-only from nothing at all', () => {
    expect(
      notVideoReason({
        formatNames: ['mov', 'mp4'],
        streams: [{ type: 'audio', attachedPic: false }],
      }),
    ).toBe('audio-only')
    expect(
      notVideoReason({ formatNames: ['tty'], streams: [{ type: 'subtitle', attachedPic: false }] }),
    ).toBe('no-video')
  })
})

describe('small parsers', () => {
  it('parseRate', () => {
    expect(parseRate('25/1')).toBe(25)
    expect(parseRate('30000/1001')).toBe(29.97)
    expect(parseRate('24000/1001')).toBe(23.976)
    expect(parseRate('0/0')).toBeUndefined()
    expect(parseRate('')).toBeUndefined()
    expect(parseRate(undefined)).toBeUndefined()
  })

  it('parseClock', () => {
    expect(parseClock('00:00:04.00')).toBe(4)
    expect(parseClock('01:02:03.50')).toBe(3723.5)
    expect(parseClock('N/A')).toBeUndefined()
  })

  it('displaySize swaps on a quarter turn in either direction only', () => {
    expect(displaySize(1920, 1080, 90)).toEqual({ width: 1080, height: 1920 })
    expect(displaySize(1920, 1080, -90)).toEqual({ width: 1080, height: 1920 })
    expect(displaySize(1920, 1080, 270)).toEqual({ width: 1080, height: 1920 })
    expect(displaySize(1920, 1080, 180)).toEqual({ width: 1920, height: 1080 })
    expect(displaySize(1920, 1080, -180)).toEqual({ width: 1920, height: 1080 })
    expect(displaySize(1920, 1080, undefined)).toEqual({ width: 1920, height: 1080 })
  })

  it('containerName breaks ffmpeg demuxer ties with the brand and extension', () => {
    const mov = ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2']
    expect(containerName(mov, 'isom', 'mp4')).toBe('mp4')
    expect(containerName(mov, 'qt  ', 'mp4')).toBe('mov')
    expect(containerName(mov, 'M4V ', 'm4v')).toBe('m4v')
    expect(containerName(mov, '3gp4', '3gp')).toBe('3gp')
    expect(containerName(mov, undefined, 'MOV')).toBe('mov')
    expect(containerName(['matroska', 'webm'], undefined, 'webm')).toBe('webm')
    expect(containerName(['matroska', 'webm'], undefined, 'mkv')).toBe('mkv')
    expect(containerName(['mpegts'], undefined, 'mts')).toBe('mpegts')
    expect(containerName(['avi'], undefined, 'avi')).toBe('avi')
  })

  it('parseFirstFrame reads the first frame only, with its time relative to the seek', () => {
    const stdout = `frame:0    pts:0       pts_time:0
lavfi.signalstats.YMIN=16
lavfi.signalstats.YAVG=125.246
lavfi.signalstats.YHIGH=180
frame:1    pts:512     pts_time:0.0333333
lavfi.signalstats.YAVG=17.5
`
    expect(parseFirstFrame(stdout)).toEqual({
      ptsTime: 0,
      stats: { YMIN: 16, YAVG: 125.246, YHIGH: 180 },
    })
    // -noaccurate_seek: the keyframe 8 s before the offset.
    const keyframe = 'frame:0    pts:-102400 pts_time:-8\nlavfi.signalstats.YAVG=128.34\n'
    expect(parseFirstFrame(keyframe)).toEqual({ ptsTime: -8, stats: { YAVG: 128.34 } })
    expect(parseFirstFrame('')).toEqual({ stats: {} })
  })

  it('stderrTail keeps the last lines', () => {
    expect(stderrTail('a\n\nb\r\nc\nd\n', 2)).toBe('c | d')
  })

  it('mediaMetadata gives the x-amz-meta values and omits unknowns', () => {
    expect(
      mediaMetadata({ durationSec: 3.5, width: 720, height: 1280, videoCodec: 'h264' }),
    ).toEqual({
      duration: '3.500',
      width: '720',
      height: '1280',
      codec: 'h264',
    })
    expect(mediaMetadata({})).toEqual({})
  })
})
