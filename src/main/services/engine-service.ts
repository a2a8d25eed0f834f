/**
 * Owns the one engine of the app: built on the app's data dir for the destination the settings
 * (or the environment) name, rebuilt when settings that the engine takes at construction change,
 * and closed (journal flushed) on quit. Everything else asks it for `engine()`.
 */
import { join } from 'node:path'
import type { EditableSettings, InterruptedRow, SecretsInput } from '../../preload/contract'
import type { Emit } from '../ipc/handle'
import type { CoreFunctions } from './core'
import {
  mbpsToBytesPerSecond,
  type EngineApi,
  type InterruptedUpload,
  type TestConnectionResult,
} from './core-types'
import type { Destination } from './destination-config'
import { withSessionHeaders, type Logger } from './ports'
import type { ProgressRelay } from './progress-relay'
import { isActive } from './rows'
import type { SettingsService } from './settings'

export class SetupNeeded extends Error {
  constructor() {
    super('Choose where uploads go first: open Settings and add a bucket or a backend.')
    this.name = 'SetupNeeded'
  }
}

/** Settings the engine can change while running; any other change rebuilds it. */
const LIVE_KEYS: (keyof EditableSettings)[] = [
  'concurrency',
  'bandwidthLimitMbps',
  'notifications',
  'autoResume',
  'shareLinkHours',
]

function engineShape(s: EditableSettings, d: Destination | null): string {
  const rest: Partial<EditableSettings> = { ...s }
  for (const k of LIVE_KEYS) delete rest[k]
  return JSON.stringify({ rest, d })
}

export function toInterruptedRow(u: InterruptedUpload): InterruptedRow {
  return {
    id: u.id,
    name: u.name,
    size: u.size,
    bytesDone: u.bytesDone,
    destinationLabel: u.destinationLabel,
    updatedAt: u.updatedAt,
    locked: u.lockedBy !== undefined,
  }
}

export interface EngineServiceOptions {
  core: CoreFunctions
  settings: SettingsService
  /** Journal, locks and history: the CLI's default too (core/paths.ts defaultStateDir). */
  stateDir: string
  relay: ProgressRelay
  emit: Emit
  log: Logger
  /**
   * Headers the app session adds to a request for `url` (its cookies for that URL), read on each
   * request to the backend or the hook. None outside Electron.
   */
  sessionHeaders?: (url: string) => Promise<Record<string, string>>
}

export class EngineService {
  private current: EngineApi | null = null
  private destination: Destination | null = null
  private shape = ''
  private interruptedRows: InterruptedRow[] = []
  private readonly listeners = new Set<(engine: EngineApi | null) => void>()
  private closed = false

  constructor(private readonly opts: EngineServiceOptions) {}

  get stateDir(): string {
    return this.opts.stateDir
  }

  /** Shared with the CLI, which caches probes and posters in the same place. */
  get cacheDir(): string {
    return join(this.opts.stateDir, 'media-cache')
  }

  engine(): EngineApi | null {
    return this.current
  }

  /** The engine, or a plain "set up first" error for the page. */
  require(): EngineApi {
    if (!this.current) throw new SetupNeeded()
    return this.current
  }

  currentDestination(): Destination | null {
    return this.destination
  }

  interrupted(): InterruptedRow[] {
    return this.interruptedRows
  }

  /** Called with every new engine (or null): watchers and activity re-subscribe. */
  onEngine(listener: (engine: EngineApi | null) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async start(): Promise<void> {
    await this.build()
    await this.afterBuild(true)
  }

  /** Applies a settings change: live where the engine allows it, else a rebuild. */
  async apply(next: EditableSettings): Promise<void> {
    const { destination } = this.opts.settings.destination(next)
    if (engineShape(next, destination) === this.shape) {
      this.current?.setConcurrency(next.concurrency)
      this.current?.setBandwidthLimit(mbpsToBytesPerSecond(next.bandwidthLimitMbps))
      return
    }
    await this.rebuild()
  }

  /**
   * Rebuilds the engine (destination, templates, part size or secrets changed). Refused while files
   * are moving: closing would pause them and they would come back as "interrupted".
   */
  async rebuild(): Promise<void> {
    const moving = this.current?.list().some((s) => isActive(s.state)) ?? false
    if (moving) {
      throw new Error(
        'Uploads are in progress. Pause or finish them before changing where or how Upreel uploads.',
      )
    }
    const old = this.current
    // Failed and paused rows come along: a fixed secret or bucket should let "failed" files go
    // without dropping them again, and paused ones stay paused (their journal records resume).
    const carry = (old?.list() ?? [])
      .filter((s) => s.state === 'failed' || s.state === 'paused')
      .map((s) => ({ path: s.path, relativeDir: s.relativeDir, paused: s.state === 'paused' }))
    this.current = null
    if (old) await old.close()
    await this.build()
    if (this.current && carry.length > 0) {
      const engine: EngineApi = this.current
      const added = await engine.add(carry.map(({ path, relativeDir }) => ({ path, relativeDir })))
      await Promise.all(added.map((s, i) => (carry[i]?.paused ? engine.pause(s.id) : undefined)))
    }
    await this.afterBuild(false)
  }

  /** HeadBucket / backend health for a destination (maybe a draft), in plain words. */
  async testConnection(destination: Destination): Promise<TestConnectionResult> {
    if (destination.mode === 'backend' && this.opts.sessionHeaders) {
      const session = await this.opts.sessionHeaders(destination.url)
      destination = { ...destination, headers: withSessionHeaders(destination.headers, session) }
    }
    return this.opts.core.testConnection(destination)
  }

  /**
   * Checks that would refuse a rebuild, without doing it (the settings form asks first): with the
   * settings and the secrets typed with them.
   */
  canRebuild(next: EditableSettings, typed?: SecretsInput): boolean {
    const { destination } = this.opts.settings.destination(next, typed)
    if (engineShape(next, destination) === this.shape) return true
    return !(this.current?.list().some((s) => isActive(s.state)) ?? false)
  }

  private async build(): Promise<void> {
    if (this.closed) return
    const settings = this.opts.settings.get()
    const { destination } = this.opts.settings.destination()
    this.destination = destination
    this.shape = engineShape(settings, destination)
    this.current = destination
      ? await this.opts.core.createEngine({
          destination,
          settings,
          stateDir: this.stateDir,
          cacheDir: this.cacheDir,
          sessionHeaders: this.opts.sessionHeaders,
          log: (m) => this.opts.log.info(m),
        })
      : null
    this.opts.relay.attach(this.current)
    for (const l of this.listeners) l(this.current)
  }

  private async afterBuild(launch: boolean): Promise<void> {
    await this.refreshInterrupted()
    const settings = this.opts.settings.get()
    if (launch && settings.autoResume && this.interruptedRows.some((r) => !r.locked)) {
      await this.resumeInterrupted()
    }
  }

  async refreshInterrupted(): Promise<InterruptedRow[]> {
    const engine = this.current
    this.interruptedRows = engine ? (await engine.interrupted()).map(toInterruptedRow) : []
    this.opts.emit('onInterruptedChanged', this.interruptedRows)
    return this.interruptedRows
  }

  async resumeInterrupted(ids?: string[]): Promise<number> {
    const resumed = await this.require().resumeInterrupted(ids)
    await this.refreshInterrupted()
    return resumed.length
  }

  /** Aborts interrupted uploads on the server and forgets them (locked ones are left alone). */
  async discardInterrupted(ids?: string[]): Promise<number> {
    const engine = this.require()
    const targets = this.interruptedRows.filter((r) => !r.locked && (!ids || ids.includes(r.id)))
    let discarded = 0
    for (const r of targets) {
      await engine.abortInterrupted(r.id)
      discarded++
    }
    await this.refreshInterrupted()
    return discarded
  }

  /** Pauses everything and flushes the journal (quit). The service is done after this. */
  async close(): Promise<void> {
    this.closed = true
    const engine = this.current
    this.current = null
    this.opts.relay.flush()
    if (engine) await engine.close()
    this.opts.relay.dispose()
  }
}
