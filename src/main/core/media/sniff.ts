/**
 * A first look at a file's opening bytes: does it start like a video container? One 4 KiB read, so
 * a folder of thousands of clips is judged in well under a second where an ffprobe per file would
 * take minutes. It only says "yes, a video container" or "not sure": a "not sure" file is probed
 * (./probe.ts has the last word), and a container that says yes is still probed by the engine
 * before anything is uploaded.
 */
import { open } from 'node:fs/promises'

export type Sniff = 'video-container' | 'unsure'

/** Enough for three MPEG-TS packets (188 bytes) or M2TS packets (192), and every magic below. */
const SNIFF_BYTES = 4096

/** Top-level ISO BMFF box types a MP4/MOV/3GP can start with (ftyp almost always). */
const ISO_FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot'])
/** ftyp brands of audio-only MP4 variants (iTunes audio, audiobooks, Flash audio). */
const ISO_AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B '])
const ASF_GUID = Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex')
const EBML = Buffer.from([0x1a, 0x45, 0xdf, 0xa3])
/** SMPTE Universal Label prefix every MXF partition pack starts with. */
const MXF_KEY = Buffer.from([0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01])

/** Judges `head`, the first bytes of a file (pure, for tests). */
export function sniffBytes(head: Buffer): Sniff {
  const at = (offset: number, magic: Buffer | string): boolean => {
    const m = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : magic
    return head.length >= offset + m.length && head.subarray(offset, offset + m.length).equals(m)
  }
  if (head.length >= 12 && ISO_FIRST_BOXES.has(head.toString('latin1', 4, 8))) {
    if (head.toString('latin1', 4, 8) !== 'ftyp') return 'video-container'
    // An .m4a renamed .mp4 starts like a video: let the probe say it is audio.
    return ISO_AUDIO_BRANDS.has(head.toString('latin1', 8, 12)) ? 'unsure' : 'video-container'
  }
  if (at(0, EBML)) return 'video-container' // Matroska, WebM
  if (at(0, 'RIFF') && at(8, 'AVI ')) return 'video-container'
  if (at(0, ASF_GUID)) return 'video-container' // WMV, ASF
  if (at(0, 'FLV\x01')) return 'video-container'
  if (at(0, MXF_KEY)) return 'video-container'
  if (at(0, 'OggS')) return 'video-container' // only reached for .ogv (scan filters by extension)
  // MPEG program stream (.mpg, .vob) and elementary video (.m2v): pack or sequence header.
  if (at(0, Buffer.from([0, 0, 1, 0xba])) || at(0, Buffer.from([0, 0, 1, 0xb3]))) {
    return 'video-container'
  }
  // MPEG-TS: a sync byte every 188 bytes; M2TS (Blu-ray, AVCHD .mts): every 192, after a 4-byte
  // timestamp.
  // Every packet in the 4 KiB must agree (21 of them), at least 3: a text file can start with "G".
  for (const [first, stride] of [
    [0, 188],
    [4, 192],
  ] as const) {
    let packets = 0
    for (let i = first; i < head.length; i += stride, packets++) if (head[i] !== 0x47) break
    if (packets >= 3 && first + packets * stride >= head.length) return 'video-container'
  }
  return 'unsure'
}

/** sniffBytes() on the start of the file at `path`; 'unsure' when it cannot be read. */
export async function sniffFile(path: string): Promise<Sniff> {
  let fh
  try {
    fh = await open(path, 'r')
    const buf = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0)
    return sniffBytes(buf.subarray(0, bytesRead))
  } catch {
    // Unreadable: the probe (or the engine's row) says why in its own words.
    return 'unsure'
  } finally {
    await fh?.close().catch(() => undefined)
  }
}
