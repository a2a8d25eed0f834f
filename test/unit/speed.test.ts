/**
 * The speed a row shows (an EWMA with a 3 s time constant over byte totals) and the ETA derived
 * from it. Time is passed in, so these are exact: no clock, no sleeps.
 */
import { describe, expect, it } from 'vitest'
import { etaSeconds, SpeedMeter } from '../../src/main/core/engine/speed'

const MiB = 1024 * 1024
/** Wall-clock ms, as Date.now() gives them. */
const T = 1_790_000_000_000

/** Feeds `rate` bytes/s for `ms`, one sample every `step` ms; returns the new totals. */
function feed(
  m: SpeedMeter,
  from: { bytes: number; at: number },
  rate: number,
  ms: number,
  step = 500,
) {
  let { bytes, at } = from
  for (let t = step; t <= ms; t += step) {
    bytes += (rate * step) / 1000
    at += step
    m.sample(bytes, at)
  }
  return { bytes, at }
}

describe('SpeedMeter', () => {
  it('knows nothing from one sample; a steady rate reads exactly that rate', () => {
    const m = new SpeedMeter()
    m.sample(0, T + 1000)
    expect(m.bytesPerSecond).toBe(0)
    feed(m, { bytes: 0, at: T + 1000 }, 2 * MiB, 5000)
    expect(m.bytesPerSecond).toBe(2 * MiB)
  })

  it('ignores samples closer than 250 ms (socket buffering), then counts their bytes in the next', () => {
    const m = new SpeedMeter()
    m.sample(0, T)
    m.sample(4 * MiB, T + 100) // a burst into the socket buffer: not a speed
    expect(m.bytesPerSecond).toBe(0)
    m.sample(4 * MiB, T + 1000)
    expect(m.bytesPerSecond).toBe(4 * MiB)
  })

  it('follows a change of speed with a 3 s time constant: 63 % of the way after 3 s', () => {
    const m = new SpeedMeter()
    m.sample(0, T)
    const at1 = feed(m, { bytes: 0, at: T }, 1 * MiB, 3000)
    expect(m.bytesPerSecond).toBe(1 * MiB)
    feed(m, at1, 3 * MiB, 3000)
    // 1 + (3 − 1)(1 − e^−1): the same whatever the sampling interval.
    expect(m.bytesPerSecond / MiB).toBeCloseTo(1 + 2 * (1 - Math.exp(-1)), 9)
    const m2 = new SpeedMeter()
    m2.sample(0, T)
    const at2 = feed(m2, { bytes: 0, at: T }, 1 * MiB, 3000, 300)
    feed(m2, at2, 3 * MiB, 3000, 300)
    expect(m2.bytesPerSecond / MiB).toBeCloseTo(1 + 2 * (1 - Math.exp(-1)), 9)
  })

  it('a stall decays the speed instead of dropping it to 0 at once; bytes going back count as 0', () => {
    const m = new SpeedMeter()
    m.sample(0, T)
    const at = feed(m, { bytes: 0, at: T }, 2 * MiB, 2000)
    m.sample(at.bytes, at.at + 3000) // 3 s without a byte
    expect(m.bytesPerSecond / MiB).toBeCloseTo(2 * Math.exp(-1), 9)
    // A part that failed and starts again lowers the total: never a negative speed.
    m.sample(at.bytes - MiB, at.at + 6000)
    expect(m.bytesPerSecond / MiB).toBeCloseTo(2 * Math.exp(-2), 9)
  })

  it('reset() forgets everything: the next sample is a new baseline', () => {
    const m = new SpeedMeter()
    m.sample(0, T)
    feed(m, { bytes: 0, at: T }, 2 * MiB, 2000)
    m.reset()
    expect(m.bytesPerSecond).toBe(0)
    m.sample(50 * MiB, T + 10_000)
    expect(m.bytesPerSecond).toBe(0)
    m.sample(51 * MiB, T + 11_000)
    expect(m.bytesPerSecond).toBe(MiB)
  })
})

describe('etaSeconds', () => {
  it('is the bytes left at the smoothed speed, rounded up', () => {
    expect(etaSeconds(10 * MiB, 2 * MiB)).toBe(5)
    expect(etaSeconds(10 * MiB + 1, 2 * MiB)).toBe(6)
    expect(etaSeconds(0, 2 * MiB)).toBe(0)
  })

  it('is unknown (null) before any speed is measured or while stalled', () => {
    expect(etaSeconds(10 * MiB, 0)).toBeNull()
    expect(etaSeconds(10 * MiB, 0.5)).toBeNull()
    expect(etaSeconds(10 * MiB, Number.NaN)).toBeNull()
  })
})
