import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import { formatEta, formatRow, ProgressPrinter } from '../../src/main/core/cli/progress'
import type { CliIo } from '../../src/main/core/cli/main'

const MiB = 1024 * 1024
const ESC = String.fromCharCode(27)

function snap(p: Partial<UploadSnapshot> = {}): UploadSnapshot {
  return {
    id: 'a',
    path: '/v/clip.mp4',
    name: 'clip.mp4',
    relativeDir: '',
    size: 16 * MiB,
    bytesSent: 0,
    state: 'queued',
    speed: 0,
    etaSeconds: null,
    partSize: 5 * MiB,
    partsTotal: 4,
    partsDone: 0,
    resumed: false,
    createdAt: 0,
    updatedAt: 0,
    ...p,
  }
}

/** Kana and CJK ideographs take two columns in a terminal. */
const WIDE = /[\u3000-\u9fff]/
/** Fills the second column of a wide character on the screen. */
const FILLER = '\u{F0000}'

/**
 * A minimal terminal: text, newline (to column 0, as a tty's output processing does), cursor up
 * (ESC [ n A), erase to the end of the screen (ESC [ J) and auto-wrap off/on (ESC [ ? 7 l/h).
 * Any other escape fails the test. Lines wider than `columns` wrap unless auto-wrap is off.
 */
class Screen {
  lines: string[] = ['']
  private row = 0
  private col = 0
  private wrap = true

  constructor(private readonly columns = 1000) {}

  write(text: string) {
    for (let i = 0; i < text.length;) {
      if (text[i] === ESC) {
        const end = text.slice(i).search(/[A-Za-z]/)
        const seq = text.slice(i, i + end + 1)
        if (seq.startsWith(`${ESC}[?7`)) this.wrap = seq.endsWith('h')
        else if (/^\[\d+A$/.test(seq.slice(1)))
          this.row = Math.max(0, this.row - Number(seq.slice(2, -1)))
        else if (seq === `${ESC}[J`) {
          this.lines[this.row] = (this.lines[this.row] ?? '').slice(0, this.col)
          this.lines.length = this.row + 1
        } else throw new Error(`unexpected escape ${JSON.stringify(seq)}`)
        i += seq.length
        continue
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!)
      i += ch.length
      if (ch === '\n') {
        this.newline()
        continue
      }
      const cells = WIDE.test(ch) ? [ch, FILLER] : [...Array(ch.length)].map((_, k) => ch[k]!)
      if (this.col + cells.length > this.columns) {
        if (!this.wrap) continue // auto-wrap off: cut at the margin
        this.newline()
      }
      const row = [...(this.lines[this.row] ?? '')]
      while (row.length < this.col) row.push(' ')
      row.splice(this.col, cells.length, ...cells)
      this.lines[this.row] = row.join('')
      this.col += cells.length
    }
  }

  private newline() {
    this.row++
    this.col = 0
    while (this.lines.length <= this.row) this.lines.push('')
  }

  /** What the screen shows, up to the cursor's (empty) line. */
  get shown(): string[] {
    const out = this.lines.map((l) => l.split(FILLER).join(''))
    while (out.length && out[out.length - 1] === '') out.pop()
    return out
  }
}

function terminal(columns?: number) {
  const screen = new Screen(columns)
  const io: CliIo = {
    out: (l) => screen.write(l + '\n'),
    err: (l) => screen.write(l + '\n'),
    write: (t) => screen.write(t),
    columns: () => columns,
    isTTY: true,
    env: {},
  }
  return { screen, io }
}

function log() {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false, env: {} }
  return { out, err, io }
}

describe('progress line', () => {
  it('shows state, name, percent, bytes, speed and ETA within the terminal width', () => {
    const s = snap({ state: 'uploading', bytesSent: 8 * MiB, speed: 2 * MiB, etaSeconds: 4 })
    const tail = ' 50%  8.00 MiB/16.0 MiB  2.00 MiB/s  ETA 4s'
    expect(formatRow(s, 200)).toBe(`uploading  ${'clip.mp4'.padEnd(40)}  ${tail}`)
    // 80 columns: the name column shrinks so the line ends before the margin.
    const narrow = formatRow(s, 79)
    expect(narrow).toBe(`uploading  ${'clip.mp4'.padEnd(79 - 11 - 2 - tail.length)}  ${tail}`)
    expect(narrow).toHaveLength(79)
  })

  it('shortens a long name, not the numbers, and never cuts a character in half', () => {
    const s = snap({
      state: 'uploading',
      name: 'a very long file name from the camera card, take 12, final.mp4',
      bytesSent: 3 * MiB,
      speed: 1.5 * MiB,
      etaSeconds: 9,
    })
    const row = formatRow(s, 79)
    expect(row.length).toBeLessThanOrEqual(79)
    expect(row).toMatch(
      /^uploading {2}a very long file name.*… {2} 18% {2}3\.00 MiB\/16\.0 MiB {2}1\.50 MiB\/s {2}ETA 9s$/,
    )
    const emoji = formatRow(snap({ name: '🎬'.repeat(60) }), 79)
    expect(emoji).toContain('…')
    expect(emoji).not.toMatch(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
    )
  })

  it('rounds a slow speed to whole bytes and leaves speed and ETA out while nothing moves', () => {
    const slow = formatRow(
      snap({ state: 'uploading', bytesSent: 100, speed: 523.6, etaSeconds: 32_000 }),
      200,
    )
    expect(slow).toMatch(/ {2}524 B\/s {2}ETA 8h53m$/)
    const paused = formatRow(snap({ state: 'paused', bytesSent: 4 * MiB }), 200)
    expect(paused).toMatch(/^paused {5}clip\.mp4 +25% {2}4\.00 MiB\/16\.0 MiB$/)
    expect(formatRow(snap({ state: 'retrying', retryAttempt: 3 }), 200)).toMatch(
      /^retrying \(3\) clip\.mp4 +0% {2}0 B\/16\.0 MiB$/,
    )
    expect(formatRow(snap({ size: 0 }), 200)).toMatch(/ {2}0% {2}0 B\/0 B$/)
    expect(formatRow(snap({ state: 'completing', bytesSent: 17 * MiB }), 200)).toMatch(/ 100% /)
  })

  it('formats ETAs as seconds, minutes or hours', () => {
    expect(formatEta(0)).toBe('0s')
    expect(formatEta(59)).toBe('59s')
    expect(formatEta(4.2)).toBe('5s')
    expect(formatEta(60)).toBe('1m00s')
    expect(formatEta(3599)).toBe('59m59s')
    expect(formatEta(3600)).toBe('1h00m')
    expect(formatEta(90_061)).toBe('25h01m')
  })
})

describe('live progress on a terminal', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('redraws one line per active file in place, below what was printed before', () => {
    const { screen, io } = terminal()
    io.err('skipped /v/notes.txt: not a video')
    const p = new ProgressPrinter(io, false)
    const a = snap({ state: 'uploading', bytesSent: 4 * MiB, speed: MiB, etaSeconds: 12 })
    const b = snap({ id: 'b', path: '/v/b.mp4', name: 'b.mp4', state: 'queued' })
    p.changed(a)
    p.changed(b)
    expect(screen.shown).toEqual(['skipped /v/notes.txt: not a video'])
    vi.advanceTimersByTime(250)
    expect(screen.shown).toEqual(['skipped /v/notes.txt: not a video', formatRow(a), formatRow(b)])

    const a2 = { ...a, bytesSent: 8 * MiB, etaSeconds: 8 }
    p.changed(a2)
    vi.advanceTimersByTime(250)
    vi.advanceTimersByTime(250)
    expect(screen.shown).toEqual(['skipped /v/notes.txt: not a video', formatRow(a2), formatRow(b)])

    const done = {
      ...a2,
      state: 'done' as const,
      bytesSent: 16 * MiB,
      bucket: 'bkt',
      key: 'v/clip.mp4',
    }
    p.completed(done)
    expect(screen.shown).toEqual([
      'skipped /v/notes.txt: not a video',
      'done       /v/clip.mp4 → bkt/v/clip.mp4',
    ])
    vi.advanceTimersByTime(250)
    p.failed({ ...b, state: 'failed', error: { code: 'AccessDenied', message: 'Refused.' } })
    vi.advanceTimersByTime(250)
    p.stop()
    expect(screen.shown).toEqual([
      'skipped /v/notes.txt: not a video',
      'done       /v/clip.mp4 → bkt/v/clip.mp4',
      'failed     /v/b.mp4: Refused.',
    ])
  })

  it('fits the terminal width, so a narrow terminal does not leave stale lines behind', () => {
    const { screen, io } = terminal(50)
    const p = new ProgressPrinter(io, false)
    const name = 'ファイル名の長いビデオ'.repeat(4) + '.mp4'
    for (let i = 1; i <= 5; i++) {
      p.changed(
        snap({ state: 'uploading', name, bytesSent: i * MiB, speed: MiB, etaSeconds: 16 - i }),
      )
      vi.advanceTimersByTime(250)
      // Wide characters take two columns: what is still too wide is cut, never wrapped.
      expect(screen.shown).toHaveLength(1)
      expect(screen.shown[0]).toMatch(new RegExp(`${i}\\.00 MiB/16\\.0 MiB`))
    }
    p.stop()
    expect(screen.shown).toEqual([])
  })

  it('prints a note (the Ctrl-C hint, a warning, a debug line) above the block, never under it', () => {
    const { screen, io } = terminal()
    const p = new ProgressPrinter(io, false)
    // Before any file: nothing drawn, the line is just printed.
    p.note('upreel: no sign-in for http://api')
    const a = snap({ state: 'uploading', bytesSent: 4 * MiB, speed: MiB, etaSeconds: 12 })
    const b = snap({ id: 'b', path: '/v/b.mp4', name: 'b.mp4', state: 'uploading' })
    p.changed(a)
    p.changed(b)
    vi.advanceTimersByTime(250)
    const hint = 'upreel: pausing (journal flushed; run `upreel resume` to continue)'
    p.note(hint)
    // At once, not at the next tick: the block is back below the line.
    expect(screen.shown).toEqual([
      'upreel: no sign-in for http://api',
      hint,
      formatRow(a),
      formatRow(b),
    ])
    const pa = { ...a, state: 'paused' as const }
    const pb = { ...b, state: 'paused' as const }
    p.changed(pa)
    p.changed(pb)
    vi.advanceTimersByTime(250)
    expect(screen.shown).toEqual([
      'upreel: no sign-in for http://api',
      hint,
      formatRow(pa),
      formatRow(pb),
    ])
    p.stop()
    p.note('debug: after the display')
    io.err('0 completed, 0 failed, interrupted')
    expect(screen.shown).toEqual([
      'upreel: no sign-in for http://api',
      hint,
      'debug: after the display',
      '0 completed, 0 failed, interrupted',
    ])
  })

  it('stays quiet between redraws and stops redrawing once stopped', () => {
    const writes: string[] = []
    const io: CliIo = { ...terminal().io, write: (t) => writes.push(t) }
    const p = new ProgressPrinter(io, false)
    p.changed(snap({ state: 'uploading' }))
    expect(writes).toEqual([])
    vi.advanceTimersByTime(1000)
    expect(writes).toHaveLength(4)
    p.stop()
    vi.advanceTimersByTime(1000)
    expect(writes).toHaveLength(5) // the final erase, then nothing
  })
})

describe('progress in a log (not a terminal)', () => {
  it('prints each state change once and every tenth of the file, with no escape codes', () => {
    const { out, err, io } = log()
    const p = new ProgressPrinter(io, false)
    const s = snap()
    p.changed(s)
    p.changed({ ...s, state: 'preparing' })
    p.changed({ ...s, state: 'preparing' })
    for (let i = 0; i <= 16; i++) {
      p.changed({ ...s, state: 'uploading', bytesSent: i * MiB, speed: MiB, etaSeconds: 16 - i })
    }
    p.changed({ ...s, state: 'completing', bytesSent: 16 * MiB })
    p.completed({ ...s, state: 'done', bytesSent: 16 * MiB, bucket: 'bkt', key: 'v/clip.mp4' })
    p.stop()
    expect(err.slice(0, 3)).toEqual([
      'queued     /v/clip.mp4',
      'preparing  /v/clip.mp4',
      'uploading  /v/clip.mp4',
    ])
    const tenths = err.filter((l) => /^uploading +clip\.mp4/.test(l))
    expect(tenths.map((l) => /(\d+)%/.exec(l)![1])).toEqual([
      '12',
      '25',
      '31',
      '43',
      '50',
      '62',
      '75',
      '81',
      '93',
    ])
    expect(tenths[0]).toMatch(/2\.00 MiB\/16\.0 MiB {2}1\.00 MiB\/s {2}ETA 14s$/)
    expect(err.at(-1)).toBe('completing /v/clip.mp4')
    expect(out).toEqual(['done       /v/clip.mp4 → bkt/v/clip.mp4'])
    expect([...out, ...err].join('\n')).not.toContain(ESC)
  })

  it('starts the tenths again when the upload restarts from zero, and says why it failed', () => {
    const { err, io } = log()
    const p = new ProgressPrinter(io, false)
    const s = snap({ state: 'uploading', speed: MiB, etaSeconds: 1 })
    p.changed({ ...s, bytesSent: 9 * MiB })
    p.changed({ ...s, state: 'preparing', notice: 'The file changed', bytesSent: 0 })
    p.changed({ ...s, bytesSent: 0 })
    p.changed({ ...s, bytesSent: 2 * MiB })
    p.failed({
      ...s,
      state: 'failed',
      error: { code: 'NoSuchBucket', message: 'The bucket does not exist.', detail: 'HTTP 404' },
    })
    expect(err).toEqual([
      'uploading  /v/clip.mp4',
      expect.stringMatching(/^uploading +clip\.mp4 +56%/),
      'preparing  /v/clip.mp4 (The file changed)',
      'uploading  /v/clip.mp4',
      expect.stringMatching(/^uploading +clip\.mp4 +12%/),
      'failed     /v/clip.mp4: The bucket does not exist. [HTTP 404]',
    ])
  })

  it('with --json: one object per line, progress at most once a second per file', () => {
    vi.useFakeTimers()
    try {
      vi.setSystemTime(10_000)
      const { out, err, io } = log()
      const p = new ProgressPrinter(io, true)
      const s = snap({ state: 'uploading', speed: MiB, etaSeconds: 3 })
      p.changed(s)
      for (let i = 1; i <= 10; i++) {
        vi.setSystemTime(10_000 + i * 300)
        p.changed({ ...s, bytesSent: i * MiB })
      }
      p.completed({ ...s, state: 'done', bucket: 'bkt', key: 'k', etag: 'e' })
      const lines = out.map((l) => JSON.parse(l) as { type: string })
      expect(lines.map((l) => l.type)).toEqual([
        'state',
        'progress',
        'progress',
        'progress',
        'completed',
      ])
      expect(lines.at(-1)).toMatchObject({
        type: 'completed',
        path: '/v/clip.mp4',
        bucket: 'bkt',
        key: 'k',
        etag: 'e',
      })
      expect(err).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })
})
