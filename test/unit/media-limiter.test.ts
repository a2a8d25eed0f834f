import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/main/core/media/limiter'

/** A job that runs until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void
  const done = new Promise<void>((r) => (release = r))
  return {
    job: async () => {
      log.push(`start ${name}`)
      await done
      log.push(`end ${name}`)
      return name
    },
    release: () => release(),
  }
}

describe('createLimiter', () => {
  it('runs at most `concurrency` jobs at once', async () => {
    const limiter = createLimiter(2)
    const log: string[] = []
    const gates = ['a', 'b', 'c'].map((n) => gate(log, n))
    const results = gates.map((g) => limiter.run(g.job))
    await Promise.resolve()
    await Promise.resolve()
    expect(limiter.running).toBe(2)
    expect(limiter.queued).toBe(1)
    expect(log).toEqual(['start a', 'start b'])
    gates[0]!.release()
    await results[0]
    await new Promise((r) => setImmediate(r))
    expect(log).toContain('start c')
    gates[1]!.release()
    gates[2]!.release()
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c'])
    expect(limiter.running).toBe(0)
  })

  it('starts queued jobs in the order they were asked', async () => {
    const limiter = createLimiter(1)
    const log: string[] = []
    const gates = ['busy', 'a', 'b'].map((n) => gate(log, n))
    const runs = gates.map((g) => limiter.run(g.job))
    for (const g of gates.slice().reverse()) g.release()
    await Promise.all(runs)
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start busy', 'start a', 'start b'])
  })

  it('drops a queued job when its signal aborts, and frees nothing it did not hold', async () => {
    const limiter = createLimiter(1)
    const log: string[] = []
    const busy = gate(log, 'busy')
    const first = limiter.run(busy.job)
    const controller = new AbortController()
    let ran = false
    const queued = limiter.run(
      async () => {
        ran = true
      },
      { signal: controller.signal },
    )
    controller.abort()
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' })
    expect(limiter.queued).toBe(0)
    busy.release()
    await first
    expect(ran).toBe(false)
    expect(limiter.running).toBe(0)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const limiter = createLimiter(1)
    await expect(limiter.run(async () => 1, { signal: AbortSignal.abort() })).rejects.toMatchObject(
      {
        name: 'AbortError',
      },
    )
  })

  it('frees the slot when a job throws', async () => {
    const limiter = createLimiter(1)
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limiter.run(async () => 'next')).toBe('next')
  })
})
