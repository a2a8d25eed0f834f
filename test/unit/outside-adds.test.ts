/**
 * Adds from outside the page (OutsideAdds): gathered into one add, held for a page and a
 * destination, told once, and open questions asked again on a new page. A manual clock: nothing
 * waits on real time.
 */
import { describe, expect, it } from 'vitest'
import type { AddResult, EventName, EventPayloads } from '../../src/preload/contract'
import { GATHER_MAX_MS, GATHER_MS, OutsideAdds } from '../../src/main/services/outside-adds'
import type { AddSource } from '../../src/main/services/queue-service'

function clock() {
  let now = 0
  let next = 1
  const pending = new Map<number, { at: number; fn: () => void }>()
  return {
    timers: {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => {
        pending.set(next, { at: now + ms, fn })
        return next++
      },
      clearTimeout: (h: unknown) => void pending.delete(h as number),
    },
    advance(ms: number) {
      now += ms
      for (const [h, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          pending.delete(h)
          t.fn()
        }
      }
    },
  }
}

const result = (over: Partial<AddResult> = {}): AddResult => ({
  added: 0,
  skipped: [],
  skippedCount: 0,
  refused: [],
  ...over,
})

function setup() {
  const c = clock()
  const adds: { paths: string[]; source: AddSource }[] = []
  const sent: { name: EventName; payload: unknown }[] = []
  const state = {
    destination: true,
    questions: [] as NonNullable<AddResult['duplicates']>[],
  }
  const outside = new OutsideAdds({
    add: async (paths, source) => {
      adds.push({ paths, source })
      return result({ added: paths.length })
    },
    hasDestination: () => state.destination,
    openQuestions: () => state.questions,
    emit: <E extends EventName>(name: E, payload: EventPayloads[E]) =>
      void sent.push({ name, payload }),
    timers: c.timers,
  })
  const notices = () =>
    sent.filter((s) => s.name === 'onNotice').map((s) => (s.payload as { message: string }).message)
  return { outside, adds, sent, state, notices, ...c }
}

describe('OutsideAdds', () => {
  it('one open-file per file (macOS) within the gathering window make ONE add', async () => {
    const { outside, adds, advance } = setup()
    outside.pageReady()
    outside.add(['/v/a.mp4'], 'argv')
    advance(100)
    outside.add(['/v/b.mp4'], 'argv')
    advance(100)
    outside.add(['/v/c.mp4', '/v/a.mp4'], 'argv')
    advance(GATHER_MS - 1)
    expect(adds).toEqual([])
    advance(1)
    expect(adds).toEqual([{ paths: ['/v/a.mp4', '/v/b.mp4', '/v/c.mp4'], source: 'argv' }])
    await Promise.resolve()
  })

  it('a steady trickle is not held past GATHER_MAX_MS', () => {
    const { outside, adds, advance } = setup()
    outside.pageReady()
    for (let t = 0; t < GATHER_MAX_MS; t += GATHER_MS - 50) {
      outside.add([`/v/${t}.mp4`], 'argv')
      advance(GATHER_MS - 50)
    }
    expect(adds.length).toBeGreaterThanOrEqual(1)
    expect(adds[0]!.paths.length).toBeGreaterThan(1)
  })

  it('waits for a page that listens (window closed or loading), then delivers once', async () => {
    const { outside, adds, sent, advance } = setup()
    outside.pageReady()
    outside.pageGone()
    outside.add(['/v/a.mp4'], 'argv')
    advance(GATHER_MS)
    expect(adds).toEqual([])
    outside.pageReady()
    expect(adds).toEqual([{ paths: ['/v/a.mp4'], source: 'argv' }])
    await new Promise((r) => setImmediate(r))
    expect(sent.filter((s) => s.name === 'onAddResult')).toEqual([
      { name: 'onAddResult', payload: result({ added: 1 }) },
    ])
    outside.pageReady() // a reload: nothing is added twice
    expect(adds).toHaveLength(1)
  })

  it('without a destination says "choose where uploads go" once, whatever comes after', () => {
    const { outside, adds, state, notices, advance } = setup()
    state.destination = false
    outside.pageReady()
    outside.add(['/v/a.mp4'], 'argv')
    advance(GATHER_MS)
    outside.add(['/v/b.mp4'], 'dialog')
    advance(GATHER_MS)
    outside.pageReady() // the page reloads
    expect(notices()).toEqual([
      'Choose where uploads go first: the file you opened is added once you have.',
    ])
    state.destination = true
    outside.destinationReady()
    expect(adds).toEqual([{ paths: ['/v/a.mp4', '/v/b.mp4'], source: 'argv' }])
    // Another time without a destination is told again.
    state.destination = false
    outside.add(['/v/c.mp4'], 'argv')
    advance(GATHER_MS)
    expect(notices()).toHaveLength(2)
  })

  it('a new page is asked again the duplicate questions an earlier one left open', () => {
    const { outside, sent, state } = setup()
    const q = { token: '00000000-0000-4000-8000-000000000000', files: [] }
    state.questions = [q]
    outside.pageReady()
    expect(sent).toEqual([{ name: 'onAddResult', payload: result({ duplicates: q }) }])
  })
})
