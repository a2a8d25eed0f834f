import { describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import { classifyFailure } from '../../src/main/core/media/probe'

const MOOV_NOT_FOUND =
  '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\nfile:/v/a.mp4: Invalid data found when processing input\n'

function code(stderr: string, iso: Parameters<typeof classifyFailure>[1]): string {
  const err = classifyFailure(stderr, iso)
  expect(err).toBeInstanceOf(UploadError)
  return (err as UploadError).code
}

describe('classifyFailure', () => {
  it('tells a text file named .mp4 from an MP4 whose index was never written', () => {
    // ffmpeg says the same words for both: only the box walk can tell them apart.
    expect(code(MOOV_NOT_FOUND, { kind: 'not-iso' })).toBe('NotVideo')
    expect(code(MOOV_NOT_FOUND, { kind: 'complete', hasMoov: false })).toBe('Truncated')
    expect(code(MOOV_NOT_FOUND, { kind: 'truncated', box: 'mdat', boxEnd: 10, fileSize: 5 })).toBe(
      'Truncated',
    )
  })

  it('calls an MP4 with an index that ffmpeg still cannot read damaged (Unreadable)', () => {
    const err = classifyFailure(MOOV_NOT_FOUND, { kind: 'complete', hasMoov: true }) as UploadError
    expect(err.code).toBe('Unreadable')
    expect(err.message).toMatch(/damaged/)
    expect(err.detail).toMatch(/moov atom not found/)
  })

  it('reads permission, missing-file and I/O errors from stderr first', () => {
    expect(code('file:/v/a.mp4: Permission denied\n', { kind: 'not-iso' })).toBe('Unreadable')
    expect(code('file:/v/a.mp4: No such file or directory\n', { kind: 'not-iso' })).toBe(
      'FileNotFound',
    )
    expect(code('file:/v/a.mp4: Input/output error\n', { kind: 'complete', hasMoov: true })).toBe(
      'Unreadable',
    )
  })

  it('reads a demuxer meeting the end of a cut file as Truncated, before the EIO it ends in', () => {
    // ffmpeg's words for the first 100 bytes of a WebM.
    const shortWebm =
      '[matroska,webm @ 0x55cb08578880] File ended prematurely at pos. 100 (0x64)\n' +
      'file:tiny.webm: Input/output error\n'
    expect(code(shortWebm, { kind: 'not-iso' })).toBe('Truncated')
    expect(code('[mov,mp4 @ 0x1] stream 0, offset 0x30: partial file\n', { kind: 'unknown' })).toBe(
      'Truncated',
    )
    // A plain I/O error (a drive unplugged) stays a read error.
    expect(code('file:/v/a.mkv: Input/output error\n', { kind: 'not-iso' })).toBe('Unreadable')
  })

  it('keeps the end of stderr as the detail, not as the creator-facing message', () => {
    const err = classifyFailure(MOOV_NOT_FOUND, { kind: 'not-iso' }) as UploadError
    expect(err.message).not.toMatch(/moov|0x55/)
    expect(err.detail).toMatch(/Invalid data found/)
  })
})
