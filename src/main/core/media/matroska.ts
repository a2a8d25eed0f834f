/**
 * Is a Matroska/WebM file cut short? ffmpeg does not say: a half-copied MKV or WebM opens, reports
 * the duration its header promises, and only the missing frames are missing. The file itself
 * knows: the EBML header is followed by one Segment element whose size (when the muxer wrote it,
 * as every finished file has) says where the file ends. Two small reads.
 *
 * A Segment of "unknown" size (a live recording, or one whose writer crashed before it could go
 * back and fill it in) is walked instead: its top-level children (SeekHead, Info, Tracks,
 * Cluster…) each carry their size, so a child that runs past the end of the file is the cut.
 * Clusters of unknown size (live streaming) end the walk with no verdict.
 *
 * Element layout (RFC 9559): an ID of 1–4 bytes whose leading zeros give its length, then a size
 * as a variable-length integer of 1–8 bytes, then the data.
 */
import type { ReadAt } from './iso-bmff'

export type MatroskaScan =
  /** Does not start with the EBML magic. */
  | { kind: 'not-matroska' }
  /** The Segment (or every element in it) ends within the file. */
  | { kind: 'complete' }
  /** An element claims more bytes than the file has. */
  | { kind: 'truncated'; element: string; end: number; fileSize: number }
  /** Something we cannot follow (unknown sizes all the way, odd IDs, too many elements). */
  | { kind: 'unknown' }

const EBML = 0x1a45dfa3
const SEGMENT = 0x18538067
const CLUSTER = 0x1f43b675
/** One read per element of an unknown-size Segment; a 2-hour file has a few thousand clusters. */
const MAX_ELEMENTS = 10_000
/** Enough for the longest ID (4) and size (8). */
const HEADER_READ = 12

interface ElementHeader {
  id: number
  /** undefined: the "unknown size" value (all value bits set). */
  size: number | undefined
  headerLength: number
}

/** The element header at the start of `buf`: 'short' when `buf` ends inside it. */
export function readElementHeader(buf: Buffer): ElementHeader | 'short' | 'invalid' {
  if (buf.length < 1) return 'short'
  const idLength = vintLength(buf[0]!)
  if (idLength === 0 || idLength > 4) return 'invalid'
  if (buf.length < idLength + 1) return 'short'
  let id = 0
  for (let i = 0; i < idLength; i++) id = id * 256 + buf[i]!
  const sizeLength = vintLength(buf[idLength]!)
  if (sizeLength === 0) return 'invalid'
  if (buf.length < idLength + sizeLength) return 'short'
  // The first byte keeps only the bits after its length marker.
  let size = buf[idLength]! & (0xff >> sizeLength)
  let allOnes = size === 0xff >> sizeLength
  for (let i = 1; i < sizeLength; i++) {
    const b = buf[idLength + i]!
    size = size * 256 + b
    allOnes &&= b === 0xff
  }
  return { id, size: allOnes ? undefined : size, headerLength: idLength + sizeLength }
}

/** Length of a variable-length integer from its first byte (1–8), 0 when the byte is 0. */
function vintLength(first: number): number {
  for (let n = 1; n <= 8; n++) if (first & (0x80 >> (n - 1))) return n
  return 0
}

export async function scanMatroska(read: ReadAt, fileSize: number): Promise<MatroskaScan> {
  const first = readElementHeader(await read(0, HEADER_READ))
  if (typeof first === 'string' || first.id !== EBML) {
    // Four bytes of magic are enough to say "this is EBML", even in a file shorter than a header.
    const magic = await read(0, 4)
    return magic.length === 4 && magic.readUInt32BE(0) === EBML
      ? { kind: 'truncated', element: 'EBML', end: HEADER_READ, fileSize }
      : { kind: 'not-matroska' }
  }
  if (first.size === undefined) return { kind: 'unknown' }
  const segmentAt = first.headerLength + first.size
  if (segmentAt >= fileSize) {
    return { kind: 'truncated', element: 'EBML', end: segmentAt + 1, fileSize }
  }
  const segment = readElementHeader(await read(segmentAt, HEADER_READ))
  if (segment === 'short') {
    return { kind: 'truncated', element: 'Segment', end: segmentAt + HEADER_READ, fileSize }
  }
  if (segment === 'invalid' || segment.id !== SEGMENT) return { kind: 'unknown' }
  const dataStart = segmentAt + segment.headerLength
  if (segment.size !== undefined) {
    const end = dataStart + segment.size
    return end > fileSize
      ? { kind: 'truncated', element: 'Segment', end, fileSize }
      : { kind: 'complete' }
  }
  // Unknown-size Segment: walk its children to the end of the file.
  let position = dataStart
  for (let count = 0; position < fileSize; count++) {
    if (count >= MAX_ELEMENTS) return { kind: 'unknown' }
    const child = readElementHeader(await read(position, HEADER_READ))
    if (child === 'short') {
      return { kind: 'truncated', element: 'element header', end: position + HEADER_READ, fileSize }
    }
    if (child === 'invalid' || child.size === undefined) return { kind: 'unknown' }
    const end = position + child.headerLength + child.size
    if (end > fileSize) {
      return {
        kind: 'truncated',
        element: child.id === CLUSTER ? 'Cluster' : `0x${child.id.toString(16)}`,
        end,
        fileSize,
      }
    }
    position = end
  }
  return { kind: 'complete' }
}
