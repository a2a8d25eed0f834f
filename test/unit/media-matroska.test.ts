import { describe, expect, it } from 'vitest'
import { readElementHeader, scanMatroska } from '../../src/main/core/media/matroska'

/** An EBML element: ID bytes, a 1- or 8-byte size (undefined: "unknown"), then the data. */
function el(id: number[], data: Buffer | number, opts: { size?: number | 'unknown' } = {}) {
  const body = typeof data === 'number' ? Buffer.alloc(data) : data
  const declared = opts.size ?? body.length
  const size =
    declared === 'unknown'
      ? Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
      : declared < 127
        ? Buffer.from([0x80 | declared])
        : Buffer.concat([Buffer.from([0x01]), bigEndian(declared, 7)])
  return Buffer.concat([Buffer.from(id), size, body])
}
function bigEndian(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes)
  for (let i = bytes - 1; i >= 0; i--) {
    b[i] = n % 256
    n = Math.floor(n / 256)
  }
  return b
}
const EBML = [0x1a, 0x45, 0xdf, 0xa3]
const SEGMENT = [0x18, 0x53, 0x80, 0x67]
const CLUSTER = [0x1f, 0x43, 0xb6, 0x75]
const INFO = [0x15, 0x49, 0xa9, 0x66]
const header = el(EBML, 20)

function scan(file: Buffer) {
  return scanMatroska(async (pos, len) => file.subarray(pos, pos + len), file.length)
}

describe('readElementHeader', () => {
  it('reads 4-byte IDs, 1- and 8-byte sizes, and the unknown size', () => {
    expect(readElementHeader(el(EBML, 5))).toEqual({ id: 0x1a45dfa3, size: 5, headerLength: 5 })
    expect(readElementHeader(el(SEGMENT, 0, { size: 1_000_000 }))).toEqual({
      id: 0x18538067,
      size: 1_000_000,
      headerLength: 12,
    })
    expect(readElementHeader(el(SEGMENT, 0, { size: 'unknown' }))).toMatchObject({
      size: undefined,
    })
    expect(readElementHeader(Buffer.from([0x1a, 0x45]))).toBe('short')
    expect(readElementHeader(Buffer.from([0x00, 0x45]))).toBe('invalid')
  })
})

describe('scanMatroska', () => {
  it('passes a file whose Segment ends at the end of the file', async () => {
    expect(await scan(Buffer.concat([header, el(SEGMENT, 300)]))).toEqual({ kind: 'complete' })
  })

  it('catches a Segment that claims more than the file has (a copy cut short)', async () => {
    const whole = Buffer.concat([header, el(SEGMENT, 300)])
    const half = whole.subarray(0, 200)
    expect(await scan(half)).toEqual({
      kind: 'truncated',
      element: 'Segment',
      end: whole.length,
      fileSize: 200,
    })
  })

  it('catches a file that stops inside or right after the EBML header', async () => {
    expect((await scan(header.subarray(0, 3))).kind).toBe('not-matroska')
    expect(await scan(header.subarray(0, 10))).toMatchObject({ kind: 'truncated' })
    expect(await scan(header)).toMatchObject({ kind: 'truncated', element: 'EBML' })
    expect(await scan(Buffer.concat([header, Buffer.from(SEGMENT)]))).toMatchObject({
      kind: 'truncated',
      element: 'Segment',
    })
  })

  it('walks the children of an unknown-size Segment (live recordings) to find the cut', async () => {
    const children = [el(INFO, 30), el(CLUSTER, 500), el(CLUSTER, 500)]
    const live = Buffer.concat([header, el(SEGMENT, Buffer.concat(children), { size: 'unknown' })])
    expect(await scan(live)).toEqual({ kind: 'complete' })
    expect(await scan(live.subarray(0, live.length - 100))).toMatchObject({
      kind: 'truncated',
      element: 'Cluster',
    })
    // A cluster of unknown size (live streaming) cannot be followed: no verdict.
    const streaming = Buffer.concat([
      header,
      el(SEGMENT, Buffer.concat([el(INFO, 30), el(CLUSTER, 500, { size: 'unknown' })]), {
        size: 'unknown',
      }),
    ])
    expect(await scan(streaming)).toEqual({ kind: 'unknown' })
  })

  it('says not-matroska for anything else', async () => {
    expect(await scan(Buffer.from('These are my notes, not a video.\n'))).toEqual({
      kind: 'not-matroska',
    })
    expect(await scan(Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]))).toEqual({
      kind: 'not-matroska',
    })
  })
})
