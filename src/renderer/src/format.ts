/** Display formatting for sizes, speeds and times (pure; unit-tested). */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** Decimal units (1 MB = 1,000,000 B), as file managers on macOS and most upload UIs show them. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—'
  let v = bytes
  let i = 0
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000
    i++
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${v.toFixed(digits)} ${UNITS[i]}`
}

export function formatSpeed(bytesPerSecond: number): string {
  if (!bytesPerSecond || bytesPerSecond <= 0) return ''
  return `${formatBytes(bytesPerSecond)}/s`
}

/** "2 h 5 min", "4 min", "35 s"; '' when unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0)
    return ''
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s left`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min left`
  const h = Math.floor(m / 60)
  const rest = m % 60
  return rest ? `${h} h ${rest} min left` : `${h} h left`
}

/** Video length as 1:02:03 or 2:03. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return ''
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m)
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`
}

export function formatResolution(width?: number, height?: number): string {
  if (!width || !height) return ''
  const p = Math.min(width, height)
  const label =
    p >= 2160 ? '4K' : p >= 1440 ? '1440p' : p >= 1080 ? '1080p' : p >= 720 ? '720p' : ''
  return label ? `${width}×${height} (${label})` : `${width}×${height}`
}

export function percent(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0
  return Math.max(0, Math.min(100, (done / total) * 100))
}

export function formatDate(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  })
}

const STATE_LABELS: Record<string, string> = {
  queued: 'Waiting',
  preparing: 'Preparing',
  uploading: 'Uploading',
  retrying: 'Retrying',
  paused: 'Paused',
  completing: 'Finishing',
  done: 'Uploaded',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

export function stateLabel(state: string, retryAttempt?: number): string {
  if (state === 'retrying' && retryAttempt) return `Retrying (${retryAttempt})…`
  return STATE_LABELS[state] ?? state
}
