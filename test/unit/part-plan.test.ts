import { describe, expect, it } from 'vitest'
import {
  GiB,
  MAX_OBJECT_SIZE,
  MiB,
  parseSize,
  partRange,
  planParts,
} from '../../src/main/core/part-plan'

describe('planParts', () => {
  it('sends an empty file and a 1-byte file as one request', () => {
    expect(planParts(0)).toEqual({ size: 0, partSize: 16 * MiB, partCount: 1, single: true })
    expect(planParts(1)).toMatchObject({ partCount: 1, single: true })
  })

  it('keeps exactly one part size in one request and goes multipart one byte above', () => {
    expect(planParts(5 * MiB, 5 * MiB)).toMatchObject({
      partSize: 5 * MiB,
      partCount: 1,
      single: true,
    })
    expect(planParts(5 * MiB + 1, 5 * MiB)).toMatchObject({
      partSize: 5 * MiB,
      partCount: 2,
      single: false,
    })
    expect(planParts(16 * MiB)).toMatchObject({ partCount: 1, single: true })
  })

  it('never exceeds 10,000 parts: 10,000 x part size fits, one byte more grows the part by a MiB', () => {
    expect(planParts(10_000 * 16 * MiB)).toMatchObject({ partSize: 16 * MiB, partCount: 10_000 })
    const over = planParts(10_000 * 16 * MiB + 1)
    expect(over.partSize).toBe(17 * MiB)
    expect(over.partCount).toBeLessThanOrEqual(10_000)
    expect(planParts(10_000 * 16 * MiB - 1)).toMatchObject({
      partSize: 16 * MiB,
      partCount: 10_000,
    })
  })

  it('rounds up to whole MiB and clamps to [5 MiB, 5 GiB]', () => {
    expect(planParts(100 * MiB, 1).partSize).toBe(5 * MiB)
    expect(planParts(100 * MiB, 7 * MiB + 3).partSize).toBe(8 * MiB)
    expect(planParts(100 * GiB, 6 * GiB).partSize).toBe(5 * GiB)
  })

  it('plans the 48.8 TiB maximum with 10,000 parts of 5 GiB, and refuses one byte more', () => {
    expect(planParts(MAX_OBJECT_SIZE)).toMatchObject({ partSize: 5 * GiB, partCount: 10_000 })
    expect(() => planParts(MAX_OBJECT_SIZE + 1)).toThrow(/at most 48\.8 TiB/)
  })

  it('makes every part equal but the last', () => {
    const plan = planParts(12 * MiB + 5, 5 * MiB)
    expect([1, 2, 3].map((n) => partRange(plan, n).length)).toEqual([5 * MiB, 5 * MiB, 2 * MiB + 5])
    expect(partRange(plan, 3).end).toBe(plan.size)
  })

  it('parses human sizes', () => {
    expect(parseSize('16MiB')).toBe(16 * MiB)
    expect(parseSize('16M')).toBe(16 * MiB)
    expect(parseSize('1.5 GiB')).toBe(1.5 * GiB)
    expect(parseSize('1024')).toBe(1024)
    expect(() => parseSize('lots')).toThrow(/not a size/)
  })
})
