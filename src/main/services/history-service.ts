/**
 * Finished uploads: the list, "copy URL", "copy share link" (presigned GET), "show in folder".
 * The page names entries by history id only; main looks up key, bucket and path itself.
 */
import type { CleanupSummary, HistoryRow } from '../../preload/contract'
import type { CoreFunctions } from './core'
import type { HistoryEntry } from './core-types'
import type { Destination } from './destination-config'
import type { EngineService } from './engine-service'
import type { ClipboardLike, ShellLike } from './ports'

const DAY_MS = 24 * 60 * 60 * 1000
/** S3 presigned URLs live at most 7 days with SigV4 (168 h). */
export const MAX_SHARE_HOURS = 168

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}

/** The object's address: what S3 reported, else built from the destination it went to. */
export function objectUrl(entry: HistoryEntry, dest: Destination | null): string {
  if (entry.location && /^https?:\/\//.test(entry.location)) return entry.location
  if (dest?.mode === 's3' && dest.bucket === entry.bucket) {
    if (dest.endpoint) {
      const base = dest.endpoint.replace(/\/+$/, '')
      return `${base}/${entry.bucket}/${encodeKey(entry.key)}`
    }
    return dest.forcePathStyle
      ? `https://s3.${dest.region}.amazonaws.com/${entry.bucket}/${encodeKey(entry.key)}`
      : `https://${entry.bucket}.s3.${dest.region}.amazonaws.com/${encodeKey(entry.key)}`
  }
  return `s3://${entry.bucket}/${entry.key}`
}

export class HistoryService {
  constructor(
    private readonly opts: {
      core: CoreFunctions
      engines: EngineService
      clipboard: ClipboardLike
      shell: ShellLike
      now?: () => number
    },
  ) {}

  private canShare(entry: HistoryEntry): boolean {
    const dest = this.opts.engines.currentDestination()
    return dest?.mode === 's3' && dest.bucket === entry.bucket
  }

  async list(): Promise<HistoryRow[]> {
    const engine = this.opts.engines.engine()
    if (!engine) return []
    return (await engine.history()).map((h) => ({
      id: h.id,
      name: h.name,
      path: h.path,
      size: h.size,
      destinationLabel: h.destinationLabel,
      bucket: h.bucket,
      key: h.key,
      completedAt: h.completedAt,
      hasThumbnail: !!h.thumbnailKey,
      canShare: this.canShare(h),
    }))
  }

  private async entry(id: string): Promise<HistoryEntry> {
    const engine = this.opts.engines.require()
    const found = (await engine.history()).find((h) => h.id === id)
    if (!found) throw new Error('That upload is no longer in the history.')
    return found
  }

  async copyUrl(id: string): Promise<{ url: string }> {
    const url = objectUrl(await this.entry(id), this.opts.engines.currentDestination())
    this.opts.clipboard.writeText(url)
    return { url }
  }

  async copyShareLink(id: string, hours: number): Promise<{ url: string; expiresAt: number }> {
    const entry = await this.entry(id)
    const dest = this.opts.engines.currentDestination()
    if (!dest || dest.mode !== 's3' || dest.bucket !== entry.bucket) {
      throw new Error(
        'Share links need direct access to the bucket this video went to. In backend mode, ask your platform for a link.',
      )
    }
    const h = Math.max(1, Math.min(MAX_SHARE_HOURS, Math.round(hours)))
    const url = await this.opts.core.presignGetUrl(dest, entry.key, h)
    this.opts.clipboard.writeText(url)
    return { url, expiresAt: (this.opts.now?.() ?? Date.now()) + h * 3600_000 }
  }

  async reveal(id: string): Promise<void> {
    this.opts.shell.showItemInFolder((await this.entry(id)).path)
  }

  async cleanup(olderThanDays: number, server: boolean): Promise<CleanupSummary> {
    const engine = this.opts.engines.require()
    // The server is listed under the engine's own key template's static start.
    const report = await engine.cleanup({ olderThanMs: olderThanDays * DAY_MS, server })
    await this.opts.engines.refreshInterrupted()
    return {
      journalRecords: report.journalRecords.length,
      serverUploads: report.serverUploads.filter((u) => u.aborted).length,
      failures: report.serverUploads
        .filter((u) => !u.aborted)
        .map((u) => `${u.key}: ${u.error ?? 'not aborted'}`)
        .concat(report.kept.map((k) => `${k.path}: ${k.reason}`))
        .concat(report.serverSkipped ? [report.serverSkipped] : []),
    }
  }
}
