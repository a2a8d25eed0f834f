/**
 * Smoothed transfer speed: an exponentially weighted moving average with a time constant, so
 * the number a creator reads neither jumps with every 256 KiB slice nor lags for minutes.
 */
export class SpeedMeter {
  private speed = 0
  private lastBytes = 0
  private lastAt = 0

  /** @param tauMs time constant: ~3 s makes ETA steady but still follow a real change in speed. */
  constructor(private readonly tauMs = 3000) {}

  sample(totalBytes: number, now: number): void {
    if (this.lastAt === 0) {
      this.lastAt = now
      this.lastBytes = totalBytes
      return
    }
    const dt = now - this.lastAt
    // Samples closer than 250 ms say more about socket buffering than about the link.
    if (dt < 250) return
    const instant = (Math.max(0, totalBytes - this.lastBytes) * 1000) / dt
    const alpha = 1 - Math.exp(-dt / this.tauMs)
    this.speed = this.speed === 0 ? instant : this.speed + alpha * (instant - this.speed)
    this.lastAt = now
    this.lastBytes = totalBytes
  }

  get bytesPerSecond(): number {
    return this.speed
  }

  reset(): void {
    this.speed = 0
    this.lastAt = 0
    this.lastBytes = 0
  }
}

/**
 * Seconds left at `bytesPerSecond`, rounded up (a creator reads "1 s left" until it is done);
 * null while the speed is unknown (nothing measured yet, or stalled under 1 byte per second).
 */
export function etaSeconds(bytesLeft: number, bytesPerSecond: number): number | null {
  if (!(bytesPerSecond > 1)) return null
  return Math.ceil(Math.max(0, bytesLeft) / bytesPerSecond)
}

/**
 * A token bucket shared by every transfer: `take` resolves when `bytes` may be sent. Burst is a
 * quarter second of the rate so the limit holds over short windows without stalling slices.
 */
export class Pacer {
  private rate = 0
  private tokens = 0
  private last = 0

  constructor(
    bytesPerSecond: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {
    this.setRate(bytesPerSecond)
  }

  setRate(bytesPerSecond: number): void {
    this.rate = Math.max(0, bytesPerSecond)
    this.tokens = this.rate / 4
    this.last = this.now()
  }

  get limited(): boolean {
    return this.rate > 0
  }

  async take(bytes: number, signal: AbortSignal): Promise<void> {
    while (this.rate > 0) {
      const t = this.now()
      this.tokens = Math.min(this.rate / 4, this.tokens + ((t - this.last) * this.rate) / 1000)
      this.last = t
      if (this.tokens >= bytes || this.tokens >= this.rate / 4) {
        this.tokens -= bytes
        return
      }
      const waitMs = Math.ceil(((bytes - this.tokens) * 1000) / this.rate)
      await this.sleep(Math.min(waitMs, 250), signal)
    }
  }
}
