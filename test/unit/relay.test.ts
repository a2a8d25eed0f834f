import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import {
  ProgressRelay,
  RELAY_INTERVAL_MS,
  type Timers,
} from '../../src/main/services/progress-relay'
import { queueFraction, toRow, totalsOf } from '../../src/main/services/rows'
import type { UploadsBatch } from '../../src/preload/contract'

/** A scripted event source standing in for the engine (pure relay test: no transfers). */
class FakeEngine extends EventEmitter {
  rows: UploadSnapshot[] = []
  list(): UploadSnapshot[] {
    return this.rows.map((r) => ({ ...r }))
  }
  change(id: string, patch: Partial<UploadSnapshot>): void {
    const i = this.rows.findIndex((r) => r.id === id)
    this.rows[i] = { ...this.rows[i]!, ...patch }
    this.emit('changed', this.rows[i])
  }
}

function snap(id: string, patch: Partial<UploadSnapshot> = {}): UploadSnapshot {
  return {
    id,
    path: `/v/${id}.mp4`,
    name: `${id}.mp4`,
    relativeDir: '',
    size: 1000,
    bytesSent: 0,
    state: 'queued',
    speed: 0,
    etaSeconds: null,
    partSize: 1000,
    partsTotal: 1,
    partsDone: 0,
    resumed: false,
    createdAt: 0,
    updatedAt: 0,
    ...patch,
  }
}

/** Deterministic timers: time only moves when the test says so. */
class ManualTimers implements Timers {
  t = 0
  private queue: { at: number; fn: () => void; id: number }[] = []
  private nextId = 1
  now = () => this.t
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++
    this.queue.push({ at: this.t + ms, fn, id })
    return id
  }
  clearTimeout = (h: unknown) => {
    this.queue = this.queue.filter((q) => q.id !== h)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at)
      const next = this.queue[0]
      if (!next || next.at > end) break
      this.queue.shift()
      this.t = next.at
      next.fn()
    }
    this.t = end
  }
}

function setup(n: number) {
  const engine = new FakeEngine()
  engine.rows = Array.from({ length: n }, (_, i) => snap(`f${i}`))
  const timers = new ManualTimers()
  const batches: UploadsBatch[] = []
  const relay = new ProgressRelay({
    send: (b) => batches.push(b),
    toRow: (s) => toRow(s, (id, v) => `upreel://app/thumb/${id}?v=${v}`),
    timers,
  })
  relay.attach(engine)
  timers.advance(0)
  return { engine, timers, batches, relay }
}

describe('ProgressRelay', () => {
  it('sends at most ~10 batches a second whatever the number of files', () => {
    const { engine, timers, batches } = setup(1000)
    batches.length = 0
    // 1,000 files × a progress event every 10 ms for 2 s = 200,000 engine events.
    for (let ms = 0; ms < 2000; ms += 10) {
      for (const r of engine.rows) engine.change(r.id, { state: 'uploading', bytesSent: ms / 2 })
      timers.advance(10)
    }
    timers.advance(RELAY_INTERVAL_MS)
    expect(batches.length).toBeLessThanOrEqual(2000 / RELAY_INTERVAL_MS + 1)
    expect(batches.length).toBeGreaterThanOrEqual(2000 / RELAY_INTERVAL_MS - 1)
    // The last batch carries the latest state of every row.
    const last = new Map<string, number>()
    for (const b of batches) for (const r of b.upserts) last.set(r.id, r.bytesSent)
    expect(last.size).toBe(1000)
    expect([...last.values()].every((v) => v === 995)).toBe(true)
  })

  it('sends only the rows that changed, once each per batch', () => {
    const { engine, timers, batches } = setup(100)
    batches.length = 0
    for (let i = 0; i < 50; i++) engine.change('f3', { bytesSent: i })
    engine.change('f7', { state: 'paused' })
    timers.advance(RELAY_INTERVAL_MS)
    expect(batches).toHaveLength(1)
    expect(batches[0]!.upserts.map((r) => r.id).sort()).toEqual(['f3', 'f7'])
    expect(batches[0]!.upserts.find((r) => r.id === 'f3')!.bytesSent).toBe(49)
    expect(batches[0]!.order).toBeUndefined()
    expect(batches[0]!.totals.paused).toBe(1)
  })

  it('first batch after a quiet spell goes out on the next tick, not after a full interval', () => {
    const { engine, timers, batches } = setup(3)
    timers.advance(5000)
    batches.length = 0
    engine.change('f1', { bytesSent: 10 })
    timers.advance(0)
    expect(batches).toHaveLength(1)
  })

  it('reports removals and new order, and numbers batches in sequence', () => {
    const { engine, timers, batches } = setup(3)
    engine.rows.reverse()
    engine.emit('changed', engine.rows[0])
    timers.advance(RELAY_INTERVAL_MS)
    engine.rows = engine.rows.filter((r) => r.id !== 'f1')
    engine.emit('removed', 'f1')
    timers.advance(RELAY_INTERVAL_MS)
    const [first, reordered, removed] = batches
    expect(first!.reset).toBe(true)
    expect(reordered!.order).toEqual(['f2', 'f1', 'f0'])
    expect(removed!.removed).toEqual(['f1'])
    expect(removed!.upserts).toEqual([])
    expect(batches.map((b) => b.seq)).toEqual([1, 2, 3])
  })

  it('a snapshot carries the current seq; attach(null) resets the page to empty', () => {
    const { relay, timers, batches } = setup(2)
    expect(relay.snapshot().seq).toBe(1)
    expect(relay.snapshot().rows).toHaveLength(2)
    relay.attach(null)
    timers.advance(RELAY_INTERVAL_MS)
    expect(batches.at(-1)).toMatchObject({ reset: true, upserts: [], seq: 2 })
    expect(relay.snapshot().rows).toEqual([])
  })

  it('stops listening after dispose', () => {
    const { engine, relay, timers, batches } = setup(2)
    relay.dispose()
    const n = batches.length
    engine.change('f0', { bytesSent: 5 })
    timers.advance(1000)
    expect(batches).toHaveLength(n)
    expect(engine.listenerCount('changed')).toBe(0)
  })
})

describe('rows', () => {
  it('replaces the local thumbnail path with a versioned app URL', () => {
    const row = toRow(
      snap('a', { thumbnailPath: '/home/me/.config/Upreel/cache/x.jpg' }),
      (id, v) => `u://t/${id}?v=${v}`,
    )
    expect(row.thumbnailUrl).toMatch(/^u:\/\/t\/a\?v=\d+$/)
    expect(JSON.stringify(row)).not.toContain('.config/Upreel/cache')
  })

  it('totals count bytes of everything but cancelled rows, ETA over moving rows', () => {
    const t = totalsOf([
      snap('a', { state: 'uploading', bytesSent: 500, speed: 100 }),
      snap('b', { state: 'done', bytesSent: 1000 }),
      snap('c', { state: 'cancelled', bytesSent: 200 }),
      snap('d', { state: 'paused', bytesSent: 100 }),
    ])
    expect(t).toMatchObject({ count: 4, active: 1, done: 1, cancelled: 1, paused: 1 })
    expect(t.bytesTotal).toBe(3000)
    expect(t.bytesSent).toBe(1600)
    expect(t.etaSeconds).toBe(5)
  })

  it('queue fraction counts files while some sizes are unknown, bytes once all are known', () => {
    const waiting = totalsOf([
      snap('a', { state: 'done', bytesSent: 1000 }),
      snap('b', { state: 'queued', size: 0 }),
      snap('c', { state: 'queued', size: 0 }),
      snap('d', { state: 'queued', size: 0 }),
    ])
    expect(waiting.unsized).toBe(3)
    expect(queueFraction(waiting)).toBe(0.25) // not 100 % of the one known size
    const known = totalsOf([
      snap('a', { state: 'done', bytesSent: 1000 }),
      snap('b', { state: 'uploading', bytesSent: 500 }),
    ])
    expect(known.unsized).toBe(0)
    expect(queueFraction(known)).toBe(0.75)
  })
})
