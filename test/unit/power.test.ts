import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import type { EngineApi, UploadSnapshot } from '../../src/main/services/core-types'
import { silentLogger } from '../../src/main/services/ports'
import { ONLINE_POLL_MS, PowerService } from '../../src/main/services/power'
import type { UploadState } from '../../src/preload/contract'

/** An engine double for this pure unit: rows with states, and the calls PowerService makes. */
function fakeEngine(rows: { id: string; state: UploadState; code?: string }[]) {
  const calls: string[] = []
  const snap = (r: (typeof rows)[number]) =>
    ({
      id: r.id,
      state: r.state,
      error: r.code ? { code: r.code, message: r.code } : undefined,
    }) as UploadSnapshot
  const engine = {
    list: () => rows.map(snap),
    get: (id: string) => {
      const r = rows.find((x) => x.id === id)
      return r && snap(r)
    },
    pause: async (id: string) => {
      calls.push(`pause ${id}`)
      rows.find((x) => x.id === id)!.state = 'paused'
    },
    resume: (id: string) => void calls.push(`resume ${id}`),
    retry: (id: string) => void calls.push(`retry ${id}`),
    retryNow: () => void calls.push('retryNow'),
  } as unknown as EngineApi
  return { engine, calls, rows }
}

/** The poll's clock: the test moves it, nothing sleeps. */
function setup(rows: Parameters<typeof fakeEngine>[0], online = true) {
  const e = fakeEngine(rows)
  const monitor = new EventEmitter()
  const net = { online }
  const polls: { fn: () => void; ms: number }[] = []
  const cleared: unknown[] = []
  const power = new PowerService({
    monitor: monitor as never,
    engine: () => e.engine,
    isOnline: () => net.online,
    log: silentLogger,
    setInterval: (fn, ms) => {
      polls.push({ fn, ms })
      return polls.length
    },
    clearInterval: (h) => void cleared.push(h),
  })
  const tick = () => {
    for (const p of polls) p.fn()
  }
  return { ...e, monitor, net, polls, tick, cleared, power }
}

describe('PowerService: when the network comes back, continue', () => {
  it('polls the network every ONLINE_POLL_MS', () => {
    const { polls } = setup([])
    expect(polls.map((p) => p.ms)).toEqual([ONLINE_POLL_MS])
  })

  it('offline → online: waiting parts go now and files failed for network reasons are retried', () => {
    const { net, tick, calls } = setup(
      [
        { id: 'a', state: 'retrying' },
        { id: 'net', state: 'failed', code: 'NetworkError' },
        { id: 'timeout', state: 'failed', code: 'Timeout' },
        { id: 'denied', state: 'failed', code: 'AccessDenied' },
        { id: 'paused', state: 'paused' },
        { id: 'done', state: 'done' },
      ],
      true,
    )
    tick()
    expect(calls).toEqual([]) // online all along: nothing to do
    net.online = false
    tick()
    tick()
    expect(calls).toEqual([]) // offline: nothing to do either
    net.online = true
    tick()
    // Only network failures are retried; the wrong key stays failed; a paused file stays paused.
    expect(calls).toEqual(['retryNow', 'retry net', 'retry timeout'])
    tick()
    expect(calls).toHaveLength(3) // once per return, not on every poll
  })

  it('starting offline counts: the first online poll is a return', () => {
    const { net, tick, calls } = setup([{ id: 'x', state: 'failed', code: 'ECONNRESET' }], false)
    tick()
    expect(calls).toEqual([])
    net.online = true
    tick()
    expect(calls).toEqual(['retryNow', 'retry x'])
  })

  it('no engine (nothing set up yet): the return is noticed and nothing breaks', () => {
    const monitor = new EventEmitter()
    let online = false
    const polls: (() => void)[] = []
    new PowerService({
      monitor: monitor as never,
      engine: () => null,
      isOnline: () => online,
      log: silentLogger,
      setInterval: (fn) => polls.push(fn),
      clearInterval: () => {},
    })
    online = true
    expect(() => polls[0]!()).not.toThrow()
  })

  it('dispose stops the poll and the power listeners', () => {
    const { power, cleared, monitor } = setup([])
    power.dispose()
    expect(cleared).toEqual([1])
    expect(monitor.listenerCount('suspend')).toBe(0)
    expect(monitor.listenerCount('resume')).toBe(0)
  })
})

describe('PowerService: sleep and wake', () => {
  it('pauses what moves on suspend and resumes exactly those on resume', async () => {
    const { monitor, calls, rows, power } = setup([
      { id: 'moving', state: 'uploading' },
      { id: 'queued', state: 'queued' },
      { id: 'mine', state: 'paused' }, // paused by the user before the sleep
    ])
    expect(power.sleeping).toBe(false)
    monitor.emit('suspend')
    // Said from the start of the pauses (the batch they hold is not over: ActivityService).
    expect(power.sleeping).toBe(true)
    await vi.waitFor(() => expect(calls).toEqual(['pause moving', 'pause queued']))
    expect(rows.map((r) => r.state)).toEqual(['paused', 'paused', 'paused'])
    monitor.emit('resume')
    expect(power.sleeping).toBe(false)
    expect(calls.slice(2)).toEqual(['resume moving', 'resume queued'])
  })
})
