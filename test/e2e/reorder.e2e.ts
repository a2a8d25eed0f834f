import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { useE2E } from './support/context'
import { bigVideo } from './support/videos'

const e2e = useE2E()

describe('queue order', () => {
  it('drag and keyboard reorder change what the engine uploads next', async () => {
    const dir = await e2e.tempDir()
    const files = [
      await bigVideo(join(dir, 'first.mkv'), 3),
      await bigVideo(join(dir, 'second.mkv'), 2),
      await bigVideo(join(dir, 'third.mkv'), 2),
    ]
    // One slot, 8 Mbit/s: "first" takes seconds, the others wait their turn.
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 1, bandwidthLimitMbps: 8 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    const engineOrder = () =>
      app
        .services!.engines.engine()!
        .list()
        .map((s) => s.name)
    await shell.drop(files)
    await queue.rowIn('first.mkv', 'uploading').waitFor()

    // Drag "third" above "second".
    await queue
      .grip('third.mkv')
      .dragTo(queue.row('second.mkv'), { targetPosition: { x: 300, y: 8 } })
    await expect.poll(engineOrder).toEqual(['first.mkv', 'third.mkv', 'second.mkv'])
    expect(await queue.names()).toEqual(['first.mkv', 'third.mkv', 'second.mkv'])

    // Keyboard: focus "second"'s handle and press Up.
    await queue.grip('second.mkv').focus()
    await app.page.keyboard.press('ArrowUp')
    await expect.poll(engineOrder).toEqual(['first.mkv', 'second.mkv', 'third.mkv'])
    expect(await queue.names()).toEqual(['first.mkv', 'second.mkv', 'third.mkv'])

    // The order is the priority: pausing "first" starts "second", "third" keeps waiting.
    await queue.pause('first.mkv')
    await queue.rowIn('second.mkv', 'uploading').waitFor()
    expect(await queue.row('third.mkv').getAttribute('data-state')).toBe('queued')
  })
})
