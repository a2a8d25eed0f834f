import { describe, expect, it } from 'vitest'
import { scanIsoBmff } from '../../src/main/core/media/iso-bmff'

function box(type: string, payload: number): Buffer {
  const b = Buffer.alloc(8 + payload)
  b.writeUInt32BE(8 + payload, 0)
  b.write(type, 4, 'latin1')
  return b
}

function largeBox(type: string, declaredSize: bigint, actualPayload: number): Buffer {
  const b = Buffer.alloc(16 + actualPayload)
  b.writeUInt32BE(1, 0)
  b.write(type, 4, 'latin1')
  b.writeBigUInt64BE(declaredSize, 8)
  return b
}

async function scan(file: Buffer, reads?: number[]) {
  return scanIsoBmff(async (position, length) => {
    reads?.push(position)
    return file.subarray(position, position + length)
  }, file.length)
}

describe('scanIsoBmff', () => {
  it('walks a complete MP4 with moov at the end in one read per box', async () => {
    const file = Buffer.concat([
      box('ftyp', 24),
      box('free', 0),
      box('mdat', 5000),
      box('moov', 300),
    ])
    const reads: number[] = []
    expect(await scan(file, reads)).toEqual({ kind: 'complete', hasMoov: true })
    expect(reads).toHaveLength(4)
  })

  it('sees an MP4 cut in half: the mdat runs past the end and moov is gone', async () => {
    const whole = Buffer.concat([box('ftyp', 24), box('mdat', 5000), box('moov', 300)])
    const result = await scan(whole.subarray(0, 2000))
    expect(result).toMatchObject({
      kind: 'truncated',
      box: 'mdat',
      boxEnd: 32 + 5008,
      fileSize: 2000,
    })
  })

  it('sees a fast-start MP4 cut in half: moov intact, data missing', async () => {
    const whole = Buffer.concat([box('ftyp', 24), box('moov', 300), box('mdat', 5000)])
    expect(await scan(whole.subarray(0, whole.length - 10))).toMatchObject({
      kind: 'truncated',
      box: 'mdat',
    })
  })

  it('follows 64-bit sizes (mdat over 4 GiB)', async () => {
    const file = Buffer.concat([
      box('ftyp', 24),
      largeBox('mdat', 16n + 100n, 100),
      box('moov', 50),
    ])
    expect(await scan(file)).toEqual({ kind: 'complete', hasMoov: true })
    const cut = Buffer.concat([box('ftyp', 24), largeBox('mdat', 5_000_000_000n, 100)])
    expect(await scan(cut)).toMatchObject({
      kind: 'truncated',
      box: 'mdat',
      boxEnd: 32 + 5_000_000_000,
    })
  })

  it('accepts a last box of size 0 (runs to the end of the file)', async () => {
    const mdat = box('mdat', 100)
    mdat.writeUInt32BE(0, 0)
    expect(await scan(Buffer.concat([box('ftyp', 24), box('moov', 50), mdat]))).toEqual({
      kind: 'complete',
      hasMoov: true,
    })
  })

  it('reports a complete file without moov (recording stopped before the index was written)', async () => {
    expect(await scan(Buffer.concat([box('ftyp', 24), box('mdat', 100)]))).toEqual({
      kind: 'complete',
      hasMoov: false,
    })
  })

  it('says not-iso for text, even text whose first bytes look like a big box', async () => {
    expect(await scan(Buffer.from('hello world, these are notes\n'))).toEqual({ kind: 'not-iso' })
    expect(await scan(Buffer.from('\x1aE\xdf\xa3 matroska'))).toEqual({ kind: 'not-iso' })
  })

  it('gives no verdict on garbage after a valid start', async () => {
    const garbage = Buffer.from([0, 0, 0, 20, 0xff, 0x00, 0x01, 0x02, ...Array(12).fill(0)])
    expect(await scan(Buffer.concat([box('ftyp', 24), garbage]))).toEqual({ kind: 'unknown' })
  })

  it('sees a header cut in the middle', async () => {
    const file = Buffer.concat([box('ftyp', 24), Buffer.from([0, 0, 1])])
    expect(await scan(file)).toMatchObject({ kind: 'truncated', box: 'header' })
  })
})
