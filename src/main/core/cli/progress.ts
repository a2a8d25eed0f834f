import type { UploadSnapshot } from '../engine/types'
import { formatBytes } from '../part-plan'
import type { CliIo } from './main'

/** Redraws at most 4 times a second: enough to read, cheap on a slow terminal. */
const REDRAW_MS = 250
/** JSON progress lines at most once a second per file: for logs and scripts, not eyes. */
const JSON_PROGRESS_MS = 1000

/**
 * Live progress for humans (one line per file, redrawn in place on a terminal, state changes
 * only otherwise) or one JSON object per line for scripts.
 */
export class ProgressPrinter {
  private readonly rows = new Map<string, UploadSnapshot>()
  private readonly lastJson = new Map<string, number>()
  private readonly lastState = new Map<string, string>()
  private drawn = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {
    if (!json && io.isTTY) this.timer = setInterval(() => this.redraw(), REDRAW_MS)
  }

  changed(s: UploadSnapshot): void {
    this.rows.set(s.id, s)
    const stateChanged = this.lastState.get(s.id) !== s.state
    this.lastState.set(s.id, s.state)
    if (this.json) {
      const now = Date.now()
      if (stateChanged && s.state !== 'done' && s.state !== 'failed') {
        this.io.out(
          JSON.stringify({
            type: 'state',
            id: s.id,
            path: s.path,
            state: s.state,
            notice: s.notice,
          }),
        )
      } else if (
        now - (this.lastJson.get(s.id) ?? 0) >= JSON_PROGRESS_MS &&
        s.state === 'uploading'
      ) {
        this.lastJson.set(s.id, now)
        this.io.out(
          JSON.stringify({
            type: 'progress',
            id: s.id,
            path: s.path,
            bytesSent: s.bytesSent,
            size: s.size,
            speed: s.speed,
            etaSeconds: s.etaSeconds,
          }),
        )
      }
    } else if (!this.io.isTTY && stateChanged && s.state !== 'done' && s.state !== 'failed') {
      this.io.err(`${s.state.padEnd(10)} ${s.path}${s.notice ? ` (${s.notice})` : ''}`)
    }
  }

  completed(s: UploadSnapshot): void {
    this.rows.set(s.id, s)
    if (this.json) {
      this.io.out(
        JSON.stringify({
          type: 'completed',
          id: s.id,
          path: s.path,
          bucket: s.bucket,
          key: s.key,
          size: s.size,
          etag: s.etag,
          location: s.location,
          thumbnailKey: s.thumbnailKey,
          resumed: s.resumed,
          notice: s.notice,
        }),
      )
    } else {
      this.clear()
      this.io.out(`done       ${s.path} → ${s.bucket}/${s.key}${s.notice ? `  (${s.notice})` : ''}`)
    }
  }

  failed(s: UploadSnapshot): void {
    this.rows.set(s.id, s)
    if (this.json) {
      this.io.out(
        JSON.stringify({
          type: 'failed',
          id: s.id,
          path: s.path,
          error: s.error?.message,
          code: s.error?.code,
          detail: s.error?.detail,
        }),
      )
    } else {
      this.clear()
      this.io.err(
        `failed     ${s.path}: ${s.error?.message ?? 'unknown error'}${s.error?.detail ? ` [${s.error.detail}]` : ''}`,
      )
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.clear()
  }

  private clear() {
    if (this.drawn > 0) {
      this.io.err(`\x1b[${this.drawn}A\x1b[J`.replace(/\n$/, ''))
      this.drawn = 0
    }
  }

  private redraw() {
    const active = [...this.rows.values()].filter(
      (s) => !['done', 'failed', 'cancelled'].includes(s.state),
    )
    this.clear()
    const lines = active.slice(0, 20).map(formatRow)
    if (active.length > 20) lines.push(`… and ${active.length - 20} more`)
    if (lines.length) this.io.err(lines.join('\n'))
    this.drawn = lines.length ? lines.length + 1 : 0
  }
}

export function formatRow(s: UploadSnapshot): string {
  const pct = s.size ? Math.floor((s.bytesSent / s.size) * 100) : 0
  const speed = s.speed ? `${formatBytes(s.speed)}/s` : ''
  const eta = s.etaSeconds !== null ? `ETA ${formatEta(s.etaSeconds)}` : ''
  const name = s.name.length > 40 ? s.name.slice(0, 37) + '…' : s.name
  return `${s.state.padEnd(10)} ${name.padEnd(40)} ${String(pct).padStart(3)}%  ${formatBytes(s.bytesSent)}/${formatBytes(s.size)}  ${speed}  ${eta}`.trimEnd()
}

export function formatEta(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}
