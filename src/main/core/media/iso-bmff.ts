/**
 * A walk over the top-level boxes of an ISO BMFF file (MP4, MOV, M4V, 3GP): the container almost
 * every camera and phone writes. It tells a file that was cut short (a copy, download or recording
 * that stopped) from one that is not a video at all, which ffmpeg cannot: for both it says "moov
 * atom not found" (it picks the MP4 reader from the extension), and for a "fast start" MP4 cut in
 * half it says nothing, because the index at the front is intact and only the data is missing.
 *
 * Each box starts with its size, so following sizes from box to box costs one 16-byte read per box
 * (ftyp, free, mdat, moov: four reads for a typical 2-hour file).
 */

export type IsoScan =
  /** Does not start like an ISO BMFF file. */
  | { kind: 'not-iso' }
  /** Boxes chain exactly to the end of the file. */
  | { kind: 'complete'; hasMoov: boolean }
  /** A box claims more bytes than the file has. */
  | { kind: 'truncated'; box: string; boxEnd: number; fileSize: number }
  /** Garbage where a box header should be, or too many boxes to walk: no verdict. */
  | { kind: 'unknown' }

/** Reads up to `length` bytes at `position`; fewer at end of file. */
export type ReadAt = (position: number, length: number) => Promise<Buffer>

/** Box types an ISO BMFF file can start with (ISO/IEC 14496-12 plus QuickTime's wide/pnot). */
const FIRST_BOX_TYPES = new Set([
  'ftyp',
  'styp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'pnot',
  'uuid',
  'sidx',
])

/** Fragmented recordings can hold thousands of moof/mdat pairs; past this we give no verdict. */
const MAX_BOXES = 10_000

export async function scanIsoBmff(read: ReadAt, fileSize: number): Promise<IsoScan> {
  let position = 0
  let hasMoov = false
  for (let count = 0; position < fileSize; count++) {
    if (count >= MAX_BOXES) return { kind: 'unknown' }
    const header = await read(position, 16)
    const type = header.length >= 8 ? header.toString('latin1', 4, 8) : ''
    if (count === 0 && !FIRST_BOX_TYPES.has(type)) return { kind: 'not-iso' }
    if (header.length < 8) {
      return { kind: 'truncated', box: 'header', boxEnd: position + 8, fileSize }
    }
    if (!/^[\x20-\x7e]{4}$/.test(type)) return { kind: 'unknown' }
    let size = header.readUInt32BE(0)
    let headerSize = 8
    if (size === 1) {
      // 64-bit "largesize" follows the type: how a 4 GiB+ mdat is written.
      if (header.length < 16)
        return { kind: 'truncated', box: type, boxEnd: position + 16, fileSize }
      size = Number(header.readBigUInt64BE(8))
      headerSize = 16
    }
    if (type === 'moov') hasMoov = true
    // Size 0: "this box runs to the end of the file" (a last mdat written without seeking back).
    if (size === 0) return { kind: 'complete', hasMoov }
    if (size < headerSize) return { kind: 'unknown' }
    if (position + size > fileSize) {
      return { kind: 'truncated', box: type, boxEnd: position + size, fileSize }
    }
    position += size
  }
  return { kind: 'complete', hasMoov }
}
