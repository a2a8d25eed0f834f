/** Engine snapshot → the row the renderer sees (no local thumbnail path; totals for the header). */
import type { UploadSnapshot } from '../core/engine/types'
import type { QueueTotals, UploadRow } from '../../preload/contract'

const ACTIVE = new Set(['queued', 'preparing', 'uploading', 'retrying', 'completing'])

/** A short, stable number per poster path, so a new poster gets a new URL (cache busting). */
function pathVersion(path: string): number {
  let h = 0
  for (let i = 0; i < path.length; i++) h = (h * 31 + path.charCodeAt(i)) >>> 0
  return h
}

export function toRow(
  s: UploadSnapshot,
  thumbUrl: (id: string, version: number) => string,
): UploadRow {
  return {
    id: s.id,
    name: s.name,
    path: s.path,
    relativeDir: s.relativeDir,
    size: s.size,
    bytesSent: s.bytesSent,
    state: s.state,
    speed: s.speed,
    etaSeconds: s.etaSeconds,
    partsTotal: s.partsTotal,
    partsDone: s.partsDone,
    bucket: s.bucket,
    key: s.key,
    notice: s.notice,
    error: s.error,
    retryAttempt: s.retryAttempt,
    media: s.media,
    thumbnailUrl: s.thumbnailPath ? thumbUrl(s.id, pathVersion(s.thumbnailPath)) : undefined,
    resumed: s.resumed,
    createdAt: s.createdAt,
    completedAt: s.completedAt,
  }
}

export function isActive(state: string): boolean {
  return ACTIVE.has(state)
}

export function totalsOf(list: readonly UploadSnapshot[]): QueueTotals {
  const t: QueueTotals = {
    count: list.length,
    active: 0,
    paused: 0,
    done: 0,
    failed: 0,
    cancelled: 0,
    unsized: 0,
    bytesTotal: 0,
    bytesSent: 0,
    speed: 0,
    etaSeconds: null,
  }
  for (const s of list) {
    if (ACTIVE.has(s.state)) t.active++
    else if (s.state === 'paused') t.paused++
    else if (s.state === 'done') t.done++
    else if (s.state === 'failed') t.failed++
    else if (s.state === 'cancelled') t.cancelled++
    if (s.state === 'cancelled') continue
    if (s.size === 0 && s.state !== 'done') t.unsized++
    t.bytesTotal += s.size
    t.bytesSent += s.state === 'done' ? s.size : Math.min(s.bytesSent, s.size)
    t.speed += s.speed
  }
  if (t.speed > 0 && t.active > 0) {
    // Bytes still to send by the rows that will move (paused and failed ones wait for the user).
    let left = 0
    for (const s of list) if (ACTIVE.has(s.state)) left += Math.max(0, s.size - s.bytesSent)
    t.etaSeconds = Math.ceil(left / t.speed)
  }
  return t
}

/**
 * How far the whole queue is, 0…1: by bytes when every size is known, else by files (a byte
 * fraction over the few files prepared so far would read 100 % with 999 still waiting).
 */
export function queueFraction(t: QueueTotals): number {
  const files = t.count - t.cancelled
  if (t.unsized > 0) return files > 0 ? t.done / files : 0
  return t.bytesTotal > 0 ? Math.min(1, t.bytesSent / t.bytesTotal) : 0
}
