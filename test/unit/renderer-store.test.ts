import { describe, expect, it } from 'vitest'
import { AppStore } from '../../src/renderer/src/store/app-store'
import { UploadsStore, EMPTY_TOTALS } from '../../src/renderer/src/store/uploads-store'
import {
  formatBytes,
  formatDuration,
  formatEta,
  formatResolution,
  formatSpeed,
  percent,
  stateLabel,
} from '../../src/renderer/src/format'
import type { AddResult, UploadRow, UploadsBatch } from '../../src/preload/contract'

function row(id: string, patch: Partial<UploadRow> = {}): UploadRow {
  return {
    id,
    name: `${id}.mp4`,
    path: `/v/${id}.mp4`,
    relativeDir: '',
    size: 100,
    bytesSent: 0,
    state: 'queued',
    speed: 0,
    etaSeconds: null,
    partsTotal: 1,
    partsDone: 0,
    resumed: false,
    createdAt: 0,
    ...patch,
  }
}

function batch(seq: number, patch: Partial<UploadsBatch> = {}): UploadsBatch {
  return { seq, reset: false, upserts: [], removed: [], totals: EMPTY_TOTALS, ...patch }
}

describe('UploadsStore', () => {
  it('applies batches that arrived before the snapshot, skipping ones it already contains', () => {
    const s = new UploadsStore()
    s.apply(batch(4, { upserts: [row('a', { bytesSent: 10 })] }))
    s.apply(batch(5, { upserts: [row('a', { bytesSent: 50 })] }))
    expect(s.getSnapshot().ready).toBe(false)
    s.load({ seq: 4, rows: [row('a', { bytesSent: 10 }), row('b')], totals: EMPTY_TOTALS })
    expect(s.getSnapshot().rows.get('a')!.bytesSent).toBe(50)
    expect(s.getSnapshot().ids).toEqual(['a', 'b'])
    expect(s.getSnapshot().seq).toBe(5)
  })

  it('keeps unchanged rows as the same objects (memoised rows skip rendering)', () => {
    const s = new UploadsStore()
    s.load({ seq: 0, rows: [row('a'), row('b')], totals: EMPTY_TOTALS })
    const before = s.getSnapshot()
    s.apply(batch(1, { upserts: [row('b', { bytesSent: 5 })] }))
    const after = s.getSnapshot()
    expect(after).not.toBe(before)
    expect(after.rows.get('a')).toBe(before.rows.get('a'))
    expect(after.rows.get('b')).not.toBe(before.rows.get('b'))
    expect(after.ids).toBe(before.ids) // order untouched → list does not re-render
  })

  it('ignores stale batches, handles removal, order and reset; notifies subscribers', () => {
    const s = new UploadsStore()
    let calls = 0
    s.subscribe(() => calls++)
    s.load({ seq: 3, rows: [row('a'), row('b'), row('c')], totals: EMPTY_TOTALS })
    s.apply(batch(2, { removed: ['a'] }))
    expect(s.getSnapshot().ids).toEqual(['a', 'b', 'c'])
    s.apply(batch(4, { removed: ['b'], order: ['c', 'a'] }))
    expect(s.getSnapshot().ids).toEqual(['c', 'a'])
    s.apply(batch(5, { upserts: [row('d')] }))
    expect(s.getSnapshot().ids).toEqual(['c', 'a', 'd'])
    s.apply(batch(6, { reset: true, upserts: [row('z')], order: ['z'] }))
    expect([...s.getSnapshot().rows.keys()]).toEqual(['z'])
    expect(calls).toBe(4)
  })

  it('asks for a fresh snapshot when a batch is missing', () => {
    const s = new UploadsStore()
    let gaps = 0
    s.onGap = () => gaps++
    s.load({ seq: 1, rows: [], totals: EMPTY_TOTALS })
    s.apply(batch(3))
    expect(gaps).toBe(1)
  })

  it('moves a row locally and returns the order to send', () => {
    const s = new UploadsStore()
    s.load({ seq: 0, rows: [row('a'), row('b'), row('c')], totals: EMPTY_TOTALS })
    expect(s.move('c', 0)).toEqual(['c', 'a', 'b'])
    expect(s.getSnapshot().ids).toEqual(['c', 'a', 'b'])
    expect(s.move('c', -5)).toBeNull() // already first
    expect(s.move('nope', 1)).toBeNull()
  })
})

describe('format', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 KB'],
    [15_300_000, '15.3 MB'],
    [2_500_000_000, '2.50 GB'],
    [-1, '—'],
  ])('bytes %d → %s', (n, s) => expect(formatBytes(n)).toBe(s))

  it('speed, ETA, duration, resolution, percent, labels', () => {
    expect(formatSpeed(0)).toBe('')
    expect(formatSpeed(12_000_000)).toBe('12.0 MB/s')
    expect(formatEta(null)).toBe('')
    expect(formatEta(42)).toBe('42 s left')
    expect(formatEta(600)).toBe('10 min left')
    expect(formatEta(7500)).toBe('2 h 5 min left')
    expect(formatDuration(62)).toBe('1:02')
    expect(formatDuration(3723)).toBe('1:02:03')
    expect(formatResolution(1920, 1080)).toBe('1920×1080 (1080p)')
    expect(formatResolution(1080, 1920)).toBe('1080×1920 (1080p)')
    expect(formatResolution(320, 240)).toBe('320×240')
    expect(percent(50, 200)).toBe(25)
    expect(percent(0, 0)).toBe(0)
    expect(percent(300, 200)).toBe(100)
    expect(stateLabel('retrying', 3)).toBe('Retrying (3)…')
    expect(stateLabel('done')).toBe('Uploaded')
  })
})

describe('AppStore: duplicate questions', () => {
  const question = (token: string, name: string): AddResult => ({
    added: 0,
    skipped: [],
    skippedCount: 0,
    refused: [],
    duplicates: {
      token,
      files: [
        {
          name,
          relativeDir: '',
          previous: { destinationLabel: 's3://b', key: `videos/${name}`, completedAt: 0 },
        },
      ],
    },
  })

  it('queues questions that arrive together (three "Open with", one process each): none is lost', () => {
    const store = new AppStore()
    store.reportAdd(question('t1', 'a.mp4'))
    store.reportAdd(question('t2', 'b.mp4'))
    store.reportAdd(question('t3', 'c.mp4'))
    expect(store.getSnapshot().duplicates.map((d) => d.token)).toEqual(['t1', 't2', 't3'])
    store.answerDuplicates('t1')
    expect(store.getSnapshot().duplicates[0]!.files[0]!.name).toBe('b.mp4')
    store.answerDuplicates('t2')
    store.answerDuplicates('t3')
    expect(store.getSnapshot().duplicates).toEqual([])
  })

  it('a question asked again (a new page, or pageReady twice) is queued once', () => {
    const store = new AppStore()
    store.reportAdd(question('t1', 'a.mp4'))
    store.reportAdd(question('t1', 'a.mp4'))
    expect(store.getSnapshot().duplicates).toHaveLength(1)
  })
})
