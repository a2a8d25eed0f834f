import { describe, expect, it, vi } from 'vitest'
import { ActivityService } from '../../src/main/services/activity'
import type { OpenDialogLike } from '../../src/main/services/ports'
import { QuitGuard } from '../../src/main/services/quit-guard'
import type { QueueTotals } from '../../src/preload/contract'

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
