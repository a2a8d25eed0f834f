import { UploadError } from './errors'

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

/** S3 minimum part size, except the last part (5 MiB). */
export const MIN_PART_SIZE = 5 * MiB
/** S3 maximum part size (5 GiB). */
export const MAX_PART_SIZE = 5 * GiB
/** S3 maximum number of parts in one multipart upload. */
export const MAX_PARTS = 10_000
/** Largest object a multipart upload can hold with 5 GiB parts (≈ 48.8 TiB). */
export const MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
/** Preferred part size: 16 MiB keeps 8 slots at ~128 MiB of buffers and parts quick to retry. */
export const DEFAULT_PART_SIZE = 16 * MiB

export interface PartPlan {
  size: number
  partSize: number
  partCount: number
  /** One request (PutObject) instead of a multipart upload: the file fits in one part. */
  single: boolean
}

/**
 * partSize = max(preferred, ceil(size / 10000)) rounded up to a whole MiB, clamped to
 * [5 MiB, 5 GiB]. All parts are partSize but the last. Files of one part or less go up whole.
 */
export function planParts(size: number, preferred = DEFAULT_PART_SIZE): PartPlan {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid file size ${size}`)
  if (size > MAX_OBJECT_SIZE) {
    throw new UploadError({
      code: 'FileTooLarge',
      message: `This file is ${formatBytes(size)}; S3 accepts at most ${formatBytes(MAX_OBJECT_SIZE)} in one object (10,000 parts of 5 GiB).`,
    })
  }
  const wanted = Math.max(preferred, Math.ceil(size / MAX_PARTS))
  const rounded = Math.ceil(wanted / MiB) * MiB
  const partSize = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, rounded))
  const partCount = size === 0 ? 1 : Math.ceil(size / partSize)
  return { size, partSize, partCount, single: size <= partSize }
}

/** Byte range [start, end) of a 1-based part number. */
export function partRange(plan: { size: number; partSize: number }, partNumber: number) {
  const start = (partNumber - 1) * plan.partSize
  const end = Math.min(plan.size, start + plan.partSize)
  return { start, end, length: end - start }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

/** "16MiB", "16M", "5 GiB", "16777216" → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text)
  if (!m) throw new Error(`not a size: "${text}" (try 16MiB)`)
  const mult = { '': 1, k: 1024, m: MiB, g: GiB, t: 1024 * GiB }[m[2]!.toLowerCase()]!
  return Math.round(Number(m[1]) * mult)
}
