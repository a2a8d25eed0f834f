/**
 * Sleep and network. On suspend, pause what is moving (a socket frozen across sleep otherwise
 * times out part by part and burns retries); on resume, continue exactly those. When the network
 * comes back, parts waiting out a retry delay go at once and files that failed for network reasons
 * are retried. Files the user paused stay paused.
 */
import type { EngineApi } from './core-types'
import type { Logger, PowerMonitorLike } from './ports'
import { isActive } from './rows'

/** How often to look at the network while files are waiting on it (5 s: cheap, quick enough). */
export const ONLINE_POLL_MS = 5000

/** Error codes that mean "the network", worth retrying when it is back. */
const NETWORK_CODES = new Set([
  'NetworkError',
  'Offline',
  'Timeout',
  'RequestTimeout',
  'ECONNRESET',
])

export interface PowerOptions {
  monitor: PowerMonitorLike
  engine: () => EngineApi | null
  /** Electron's net.isOnline(). */
  isOnline: () => boolean
  log: Logger
  setInterval?: (fn: () => void, ms: number) => unknown
  clearInterval?: (h: unknown) => void
}

export class PowerService {
  private pausedBySleep = new Set<string>()
  private online = true
  private poll: unknown = null

  private readonly onSuspend = (): void => void this.suspend()
  private readonly onResume = (): void => this.wake()

  constructor(private readonly opts: PowerOptions) {
    opts.monitor.on('suspend', this.onSuspend)
    opts.monitor.on('resume', this.onResume)
    const every = opts.setInterval ?? ((fn, ms) => setInterval(fn, ms))
    this.online = opts.isOnline()
    this.poll = every(() => this.checkNetwork(), ONLINE_POLL_MS)
  }

  /** Files are paused for sleep (from suspend until wake): their batch is held, not over. */
  get sleeping(): boolean {
    return this.pausedBySleep.size > 0
  }

  async suspend(): Promise<void> {
    const engine = this.opts.engine()
    if (!engine) return
    const moving = engine.list().filter((s) => isActive(s.state))
    if (moving.length === 0) return
    for (const s of moving) this.pausedBySleep.add(s.id)
    this.opts.log.info(`power: suspend, pausing ${moving.length} upload(s)`)
    await Promise.all(moving.map((s) => engine.pause(s.id)))
  }

  wake(): void {
    const engine = this.opts.engine()
    const ids = [...this.pausedBySleep]
    this.pausedBySleep.clear()
    if (!engine || ids.length === 0) return
    this.opts.log.info(`power: resume, continuing ${ids.length} upload(s)`)
    for (const id of ids) if (engine.get(id)?.state === 'paused') engine.resume(id)
  }

  /** Polled; also callable directly (tests, the e2e harness). */
  checkNetwork(): void {
    const now = this.opts.isOnline()
    const cameBack = now && !this.online
    this.online = now
    if (cameBack) this.networkBack()
  }

  networkBack(): void {
    const engine = this.opts.engine()
    if (!engine) return
    this.opts.log.info('power: network is back')
    // The engine waits out its own backoff; this skips the wait.
    engine.retryNow()
    for (const s of engine.list()) {
      if (s.state === 'failed' && s.error && NETWORK_CODES.has(s.error.code)) engine.retry(s.id)
    }
  }

  dispose(): void {
    this.opts.monitor.off('suspend', this.onSuspend)
    this.opts.monitor.off('resume', this.onResume)
    const clear = this.opts.clearInterval ?? ((h) => clearInterval(h as NodeJS.Timeout))
    if (this.poll !== null) clear(this.poll)
    this.poll = null
  }
}
