import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { ActivityService } from '../../src/main/services/activity'
import type { EngineApi } from '../../src/main/services/core-types'
import type { OpenDialogLike } from '../../src/main/services/ports'
import { QuitGuard } from '../../src/main/services/quit-guard'
import type { QueueTotals, UploadState } from '../../src/preload/contract'

function dialogAnswering(response: number) {
  const showMessageBox = vi.fn(async (_options: unknown) => ({ response }))
  const dialog: OpenDialogLike = {
    showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    showMessageBox,
  }
  return { dialog, showMessageBox }
}

/** Resolves when `quit` is called (the guard quits asynchronously, after shutdown). */
function guardWith(active: number, response: number) {
  const { dialog, showMessageBox } = dialogAnswering(response)
  const order: string[] = []
  let quitted!: () => void
  const quit = new Promise<void>((r) => (quitted = r))
  const guard = new QuitGuard({
    dialog,
    activeCount: () => active,
    shutdown: async () => void order.push('shutdown'),
    quit: () => {
      order.push('quit')
      quitted()
    },
    exit: () => order.push('exit'),
  })
  return { guard, showMessageBox, order, quit }
}

describe('QuitGuard', () => {
  it('asks while uploads move; "Pause and quit" shuts down (journal flushed) before quitting', async () => {
    const { guard, showMessageBox, order, quit } = guardWith(3, 0)
    expect(guard.request()).toBe(false)
    expect(guard.request()).toBe(false) // a second Cmd+Q while asking does not ask twice
    await quit
    expect(showMessageBox).toHaveBeenCalledTimes(1)
    expect(showMessageBox.mock.calls[0]![0]).toMatchObject({
      message: '3 uploads are still in progress.',
    })
    expect(order).toEqual(['shutdown', 'quit'])
    expect(guard.request()).toBe(true) // the real quit now goes through
  })

  it('"Keep uploading" cancels the quit', async () => {
    const { guard, showMessageBox, order } = guardWith(1, 1)
    expect(guard.request()).toBe(false)
    await vi.waitFor(() => expect(showMessageBox).toHaveBeenCalled())
    await Promise.resolve()
    expect(order).toEqual([])
    expect(guard.request()).toBe(false) // asks again next time
    expect(showMessageBox).toHaveBeenCalledTimes(2)
  })

  it('does not ask when idle, but still shuts down first', async () => {
    const { guard, showMessageBox, order, quit } = guardWith(0, 1)
    expect(guard.request()).toBe(false)
    await quit
    expect(showMessageBox).not.toHaveBeenCalled()
    expect(order).toEqual(['shutdown', 'quit'])
  })
})

describe('QuitGuard with a shutdown that hangs', () => {
  it('leaves with exit() once the limit passes, instead of waiting forever', async () => {
    const { dialog } = dialogAnswering(0)
    const timers: { fn: () => void; ms: number }[] = []
    const order: string[] = []
    let exited!: () => void
    const exit = new Promise<void>((r) => (exited = r))
    const guard = new QuitGuard({
      dialog,
      activeCount: () => 1,
      shutdown: () => new Promise<void>(() => order.push('shutdown started')), // never ends
      quit: () => order.push('quit'),
      exit: () => {
        order.push('exit')
        exited()
      },
      shutdownLimitMs: 10_000,
      setTimeout: (fn, ms) => timers.push({ fn, ms }),
      clearTimeout: () => {},
    })
    expect(guard.request()).toBe(false)
    await vi.waitFor(() => expect(timers).toHaveLength(1))
    expect(timers[0]!.ms).toBe(10_000)
    expect(order).toEqual(['shutdown started'])
    timers[0]!.fn() // the clock reaches the limit
    await exit
    expect(order).toEqual(['shutdown started', 'exit'])
    expect(guard.request()).toBe(true)
  })

  it('a shutdown that fails still quits (and never exits early)', async () => {
    const { dialog } = dialogAnswering(0)
    const order: string[] = []
    let quitted!: () => void
    const quit = new Promise<void>((r) => (quitted = r))
    const guard = new QuitGuard({
      dialog,
      activeCount: () => 0,
      shutdown: () => Promise.reject(new Error('disk gone')),
      quit: () => {
        order.push('quit')
        quitted()
      },
      exit: () => order.push('exit'),
    })
    guard.request()
    await quit
    expect(order).toEqual(['quit'])
  })
})

function totals(p: Partial<QueueTotals>): QueueTotals {
  return {
    count: 1,
    active: 0,
    paused: 0,
    done: 0,
    failed: 0,
    cancelled: 0,
    unsized: 0,
    bytesTotal: 100,
    bytesSent: 0,
    speed: 0,
    etaSeconds: null,
    ...p,
  }
}

describe('ActivityService.update', () => {
  function setup() {
    let next = 1
    const started = new Set<number>()
    const blocker = {
      start: vi.fn(() => {
        started.add(next)
        return next++
      }),
      stop: vi.fn((id: number) => void started.delete(id)),
      isStarted: (id: number) => started.has(id),
    }
    const bar = { setProgressBar: vi.fn() }
    const activity = new ActivityService({
      blocker,
      progress: () => bar,
      notifier: { notify: vi.fn() },
      notificationsEnabled: () => true,
    })
    return { activity, blocker, bar, started }
  }

  it('holds one prevent-app-suspension blocker while files move, releases it after', () => {
    const { activity, blocker, started } = setup()
    activity.update(totals({ active: 2, bytesSent: 10 }))
    activity.update(totals({ active: 2, bytesSent: 20 }))
    expect(blocker.start).toHaveBeenCalledTimes(1)
    expect(blocker.start).toHaveBeenCalledWith('prevent-app-suspension')
    expect(activity.blocking).toBe(true)
    activity.update(totals({ active: 0, done: 1, bytesSent: 100 }))
    expect(started.size).toBe(0)
    expect(activity.blocking).toBe(false)
  })

  it('drives the taskbar bar: fraction while moving, paused mode, removed when idle', () => {
    const { activity, bar } = setup()
    activity.update(totals({ active: 1, bytesSent: 25 }))
    expect(bar.setProgressBar).toHaveBeenLastCalledWith(0.25, { mode: 'normal' })
    activity.update(totals({ active: 0, paused: 1, bytesSent: 40 }))
    expect(bar.setProgressBar).toHaveBeenLastCalledWith(0.4, { mode: 'paused' })
    activity.update(totals({ active: 0, done: 1, bytesSent: 100 }))
    expect(bar.setProgressBar).toHaveBeenLastCalledWith(-1)
  })
})

describe('ActivityService notifications', () => {
  /** An engine double for this pure unit: its events and the states list() reports. */
  function fakeEngine() {
    const emitter = new EventEmitter()
    let states: UploadState[] = []
    const engine = {
      on: (e: string, l: (...a: unknown[]) => void) => emitter.on(e, l),
      off: (e: string, l: (...a: unknown[]) => void) => emitter.off(e, l),
      list: () => states.map((state, i) => ({ id: String(i), state })),
    } as unknown as EngineApi
    return {
      engine,
      set: (next: UploadState[]) => (states = next),
      emit: (event: string, ...args: unknown[]) => emitter.emit(event, ...args),
    }
  }

  function setup() {
    const notify = vi.fn()
    const power = { sleeping: false }
    const activity = new ActivityService({
      blocker: { start: () => 1, stop: () => {}, isStarted: () => false },
      progress: () => null,
      notifier: { notify },
      notificationsEnabled: () => true,
      sleeping: () => power.sleeping,
    })
    const e = fakeEngine()
    activity.attach(e.engine)
    /** A relay batch after a change the engine sent no idle for (a row removed). */
    const relayBatch = () => {
      const list = e.engine.list()
      const count = (...st: UploadState[]) => list.filter((r) => st.includes(r.state)).length
      activity.update(
        totals({
          count: list.length,
          active: count('queued', 'preparing', 'uploading', 'retrying', 'completing'),
          paused: count('paused'),
          done: count('done'),
          failed: count('failed'),
        }),
      )
    }
    return { notify, activity, power, relayBatch, ...e }
  }

  it('"finished" when the batch really ended', () => {
    const { notify, set, emit } = setup()
    set(['done', 'done'])
    emit('completed', { name: 'a' })
    emit('completed', { name: 'b' })
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      '2 uploads finished',
      'Everything in the queue is up.',
    )
  })

  it('no "finished" when the engine goes idle because of Pause all: the batch goes on after Resume all', () => {
    const { notify, set, emit, activity } = setup()
    activity.pauseAll()
    set(['done', 'paused', 'paused'])
    emit('completed', { name: 'a' })
    emit('idle') // Pause all: nothing moves, but two files still have to go
    expect(notify).not.toHaveBeenCalled()
    // Resumed and finished later: one notification for the whole batch.
    activity.resumeAll()
    set(['done', 'done', 'done'])
    emit('completed', { name: 'b' })
    emit('completed', { name: 'c' })
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      '3 uploads finished',
      'Everything in the queue is up.',
    )
  })

  it('a batch that ends with failures says so', () => {
    const { notify, set, emit } = setup()
    set(['done', 'failed'])
    emit('completed', { name: 'a' })
    emit('failed', { name: 'b', error: { message: 'no' } })
    emit('idle')
    expect(notify).toHaveBeenCalledWith(
      'Upload finished',
      '1 could not be uploaded; see the queue.',
    )
  })
  it('files the user paused end the batch without them, and are mentioned; the counts start over', () => {
    const { notify, set, emit, relayBatch } = setup()
    set(['done', 'done', 'done', 'done', 'paused'])
    for (const name of ['a', 'b', 'c', 'd']) emit('completed', { name })
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      '4 uploads finished',
      '1 paused file waits in the queue.',
    )
    // The paused file is removed: no idle (the engine already was), nothing to tell.
    set(['done', 'done', 'done', 'done'])
    relayBatch()
    // Next day, one more upload: its own batch.
    set(['done', 'done', 'done', 'done', 'done'])
    emit('completed', { name: 'e' })
    emit('idle')
    expect(notify).toHaveBeenCalledTimes(2)
    expect(notify).toHaveBeenLastCalledWith('Upload finished', 'Everything in the queue is up.')
  })

  it('a batch held by Pause all whose paused files are then removed ends quietly, counts reset', () => {
    const { notify, set, emit, activity, relayBatch } = setup()
    set(['done', 'uploading', 'uploading'])
    emit('completed', { name: 'a' })
    activity.pauseAll()
    set(['done', 'paused', 'paused'])
    emit('idle')
    set(['done'])
    relayBatch() // the user removed both: the engine says nothing, the relay does
    expect(notify).not.toHaveBeenCalled()
    set(['done', 'done'])
    emit('completed', { name: 'b' })
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      'Upload finished',
      'Everything in the queue is up.',
    )
  })

  it('sleep holds the batch; after wake it ends with the count of the whole batch', () => {
    const { notify, set, emit, power } = setup()
    set(['done', 'uploading'])
    emit('completed', { name: 'a' })
    power.sleeping = true
    set(['done', 'paused'])
    emit('idle')
    expect(notify).not.toHaveBeenCalled()
    power.sleeping = false
    set(['done', 'done'])
    emit('completed', { name: 'b' })
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      '2 uploads finished',
      'Everything in the queue is up.',
    )
  })

  it("told once, whether the relay or the engine's idle sees the end first", () => {
    const { notify, set, emit, relayBatch } = setup()
    set(['done', 'done'])
    emit('completed', { name: 'a' })
    emit('completed', { name: 'b' })
    relayBatch()
    emit('idle')
    expect(notify).toHaveBeenCalledExactlyOnceWith(
      '2 uploads finished',
      'Everything in the queue is up.',
    )
  })

  it('a batch the user ends (cancelling the last file) is not announced', () => {
    const { notify, set, emit, relayBatch } = setup()
    set(['done', 'uploading'])
    emit('completed', { name: 'a' })
    relayBatch()
    set(['done', 'cancelled'])
    emit('idle')
    expect(notify).not.toHaveBeenCalled()
  })

  it('quitting (the engine pausing everything for the journal) is no batch ending', () => {
    const { notify, set, emit, activity } = setup()
    set(['done', 'uploading'])
    emit('completed', { name: 'a' })
    activity.dispose()
    set(['done', 'paused'])
    emit('idle')
    expect(notify).not.toHaveBeenCalled()
  })
})
