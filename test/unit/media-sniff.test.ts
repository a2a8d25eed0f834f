import { describe, expect, it } from 'vitest'
import { sniffBytes } from '../../src/main/core/media/sniff'

const box = (type: string, brand = 'isom') =>
  Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from(type + brand, 'latin1'), Buffer.alloc(12)])

/** `count` transport packets of `size` bytes with the sync byte at `first`. */
function packets(first: number, size: number, count: number): Buffer {
  const buf = Buffer.alloc(first + size * count, 0xff)
  for (let i = 0; i < count; i++) buf[first + i * size] = 0x47
  return buf
}

describe('sniffBytes', () => {
  it('recognises the containers cameras, phones and editors write', () => {
    expect(sniffBytes(box('ftyp'))).toBe('video-container')
    expect(sniffBytes(box('ftyp', 'qt  '))).toBe('video-container')
    expect(sniffBytes(box('mdat'))).toBe('video-container')
    expect(sniffBytes(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f]))).toBe('video-container')
    expect(sniffBytes(Buffer.from('RIFF\x10\x00\x00\x00AVI LIST', 'latin1'))).toBe(
      'video-container',
    )
    expect(sniffBytes(Buffer.from('3026b2758e66cf11a6d900aa0062ce6c00', 'hex'))).toBe(
      'video-container',
    )
    expect(sniffBytes(Buffer.from('FLV\x01\x05', 'latin1'))).toBe('video-container')
    expect(sniffBytes(Buffer.from([0, 0, 1, 0xba, 0x44]))).toBe('video-container')
    expect(sniffBytes(Buffer.from('060e2b34020501010d01020101020400', 'hex'))).toBe(
      'video-container',
    )
    expect(sniffBytes(packets(0, 188, 21))).toBe('video-container') // MPEG-TS
    expect(sniffBytes(packets(4, 192, 21))).toBe('video-container') // M2TS / AVCHD .mts
  })

  it('is unsure about everything else, so that the probe decides', () => {
    expect(sniffBytes(Buffer.from('These are my notes for the shoot.\n'))).toBe('unsure')
    expect(sniffBytes(Buffer.alloc(0))).toBe('unsure')
    expect(sniffBytes(Buffer.from('ffd8ffe000104a464946', 'hex'))).toBe('unsure') // JPEG
    expect(sniffBytes(Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'))).toBe('unsure')
    // An .m4a renamed .mp4: an ISO file, but with an audio brand.
    expect(sniffBytes(box('ftyp', 'M4A '))).toBe('unsure')
    // A text that happens to start with "G", or has it every 188 bytes for a while.
    const text = Buffer.from('G'.padEnd(4096, 'x'))
    expect(sniffBytes(text)).toBe('unsure')
    const almost = packets(0, 188, 21)
    almost[188 * 10] = 0x20
    expect(sniffBytes(almost)).toBe('unsure')
  })
})
