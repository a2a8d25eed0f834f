import type { UploadSnapshot } from '../engine/types'
import { formatBytes } from '../part-plan'
import type { CliIo } from './main'

/** Redraws at most 4 times a second: enough to read, cheap on a slow terminal. */
const REDRAW_MS = 250
/** JSON progress lines at most once a second per file: for logs and scripts, not eyes. */
const JSON_PROGRESS_MS = 1000
/** Width assumed when the terminal does not say (the classic 80 columns). */
const DEFAULT_COLUMNS = 80
/** Rows drawn at most; the rest are summed up in one line. */
const MAX_ROWS = 20

/**
 * Live progress for humans (one line per file, redrawn in place on a terminal; state changes and
 * every tenth of a file otherwise, for logs) or one JSON object per line for scripts.
 */
export class ProgressPrinter {
  private readonly rows = new Map<string, UploadSnapshot>()
  private readonly lastJson = new Map<string, number>()
  private readonly lastState = new Map<string, string>()
  /** Log mode: the last tenth of each file printed. */
  private readonly lastTenth = new Map<string, number>()
  /** Lines of the live block on screen; the cursor sits at the start of the line below it. */
  private drawn = 0
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly live: boolean

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {
    // Redrawing in place needs a terminal and raw writes (a line-based `err` adds a newline).
    this.live = !json && io.isTTY && !!io.write
  }

  /**
   * A line for stderr (a warning, a hint, a debug line) while the live block may be on screen:
   * written straight to the terminal, the next redraw would move up over it and erase it, and
   * leave a stale row of the block behind. So the block is erased, the line printed where it was,
   * and the block drawn again below it.
   */
  note(line: string): void {
    if (!this.live || this.stopped) {
      this.io.err(line)
      return
    }
    this.clear()
    this.io.err(line)
    if (this.timer) this.redraw()
  }

  changed(s: UploadSnapshot): void {
    // The timer starts with the first file, not before: a command that ends before any (nothing
    // to upload, an error while scanning) leaves no interval keeping the process alive.
    if (this.live && !this.timer && !this.stopped) {
      this.timer = setInterval(() => this.redraw(), REDRAW_MS)
    }
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
    } else if (!this.live) {
      // A log (CI, a pipe): no redraws, so a line per state change and per tenth of the file.
      if (stateChanged && s.state !== 'done' && s.state !== 'failed') {
        this.io.err(`${s.state.padEnd(10)} ${s.path}${s.notice ? ` (${s.notice})` : ''}`)
      }
      const tenth = s.size ? Math.floor((s.bytesSent / s.size) * 10) : 0
      const last = this.lastTenth.get(s.id) ?? 0
      if (tenth < last) {
        this.lastTenth.set(s.id, tenth) // restarted from zero (the file changed)
      } else if (s.state === 'uploading' && tenth > last && tenth < 10) {
        this.lastTenth.set(s.id, tenth)
        this.io.err(formatRow(s, Infinity))
      }
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
    this.stopped = true
    clearInterval(this.timer)
    this.clear()
  }

  /** Moves up over the live block and erases it: what is printed next takes its place. */
  private clear() {
    if (this.drawn > 0) this.io.write!(eraseUp(this.drawn))
    this.drawn = 0
  }

  private redraw() {
    const active = [...this.rows.values()].filter(
      (s) => !['done', 'failed', 'cancelled'].includes(s.state),
    )
    // A line as wide as the terminal wraps (or leaves the cursor hanging at the margin), and
    // then the block takes more rows than the count used to erase it.
    const width = Math.max(20, this.io.columns?.() || DEFAULT_COLUMNS) - 1
    const lines = active.slice(0, MAX_ROWS).map((s) => formatRow(s, width))
    if (active.length > MAX_ROWS) lines.push(`… and ${active.length - MAX_ROWS} more`)
    if (!lines.length && !this.drawn) return
    // One write: erase and redraw together, so the terminal never shows the block half gone.
    // Auto-wrap is off while drawing: a line still too wide (a character measured wrong) is
    // cut by the terminal instead of taking a second row that the next erase would miss.
    this.io.write!(
      (this.drawn ? eraseUp(this.drawn) : '') +
        NO_WRAP +
        lines.map((l) => l + '\n').join('') +
        WRAP,
    )
    this.drawn = lines.length
  }
}

/** DECAWM off / on (xterm, VTE, iTerm2, Windows Terminal). */
const NO_WRAP = '\x1b[?7l'
const WRAP = '\x1b[?7h'

/** Cursor up `n` lines (to column 0: every line drawn ended with a newline), erase to the end. */
function eraseUp(n: number): string {
  return `\x1b[${n}A\x1b[J`
}

/**
 * One file's progress line: state, name, percent, bytes, speed and ETA, at most `width` terminal
 * columns (the name is shortened first, so the numbers stay visible on a narrow terminal).
 */
export function formatRow(s: UploadSnapshot, width = DEFAULT_COLUMNS - 1): string {
  const pct = s.size ? Math.min(100, Math.floor((s.bytesSent / s.size) * 100)) : 0
  const state = s.state === 'retrying' && s.retryAttempt ? `retrying (${s.retryAttempt})` : s.state
  const speed = s.speed ? `${formatBytes(Math.round(s.speed))}/s` : ''
  const eta = s.etaSeconds !== null ? `ETA ${formatEta(s.etaSeconds)}` : ''
  const head = `${state.padEnd(10)} `
  const tail = [
    `${String(pct).padStart(3)}%`,
    `${formatBytes(s.bytesSent)}/${formatBytes(s.size)}`,
    speed,
    eta,
  ]
    .filter(Boolean)
    .join('  ')
  const nameWidth = Math.max(8, Math.min(40, width - head.length - tail.length - 2))
  const name = fit(s.name, nameWidth)
  return fit(`${head}${name}${' '.repeat(nameWidth - columnsOf(name))}  ${tail}`, width)
}

/** The text cut to `width` columns, with … where it was cut. By code point: never half an emoji. */
function fit(text: string, width: number): string {
  if (columnsOf(text) <= width) return text
  let out = ''
  let used = 0
  for (const ch of text) {
    const w = charColumns(ch.codePointAt(0)!)
    if (used + w > width - 1) break
    out += ch
    used += w
  }
  return out + '…'
}

function columnsOf(text: string): number {
  let n = 0
  for (const ch of text) n += charColumns(ch.codePointAt(0)!)
  return n
}

/**
 * Columns a character takes in a terminal: 2 for East Asian wide and fullwidth characters and
 * emoji, 0 for combining accents (macOS file names are decomposed), 1 otherwise. Close enough to
 * wcwidth for file names; what it misses, auto-wrap being off while drawing cuts.
 */
function charColumns(cp: number): number {
  if (cp >= 0x300 && cp <= 0x36f) return 0
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  return wide ? 2 : 1
}

/** 42s, 3m07s, 2h05m: seconds only while they matter. */
export function formatEta(seconds: number): string {
  const t = Math.max(0, Math.ceil(seconds))
  if (t < 60) return `${t}s`
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`
}
