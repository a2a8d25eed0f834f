import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openUploads, sha256OfFile, sha256OfObject } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { bigVideo } from './support/videos'

const e2e = useE2E()

describe('queue controls', () => {
  it('pauses and resumes one file; cancelling another leaves no multipart upload', async () => {
    const dir = await e2e.tempDir()
    const a = await bigVideo(join(dir, 'a-roll.mkv'), 4)
    const b = await bigVideo(join(dir, 'b-roll.mkv'), 4)
    const c = await bigVideo(join(dir, 'c-roll.mkv'), 3)
    const size = (await stat(a)).size
    // 12 Mbit/s ≈ 1.5 MB/s for everything: each 11.5 MB file takes ~8 s, room to act mid-way
    // (at 24 Mbit/s B was once finishing, its Cancel button gone, by the time it was clicked).
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 2, bandwidthLimitMbps: 12 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([a, b, c])

    // Pause A mid-upload.
    await queue.waitForPartialProgress('a-roll.mkv', size)
    await queue.pause('a-roll.mkv')
    await queue.waitForState('a-roll.mkv', 'paused')
    const pausedAt = Number(await queue.row('a-roll.mkv').getAttribute('data-bytes-sent'))

    // B takes the freed slots; cancel it once its multipart upload exists on the server.
    await queue.waitForPartialProgress('b-roll.mkv', size)
    const before = await openUploads(e2e.client, e2e.bucket)
    expect(before.some((u) => u.key.endsWith('/b-roll.mkv'))).toBe(true)
    await shot(app.page, '03-paused-and-uploading')
    await queue.cancel('b-roll.mkv')
    await queue.waitForState('b-roll.mkv', 'cancelled')
    // The row turns cancelled at once; the storage is told right after, in the background.
    await expect
      .poll(async () =>
        (await openUploads(e2e.client, e2e.bucket)).filter((u) => u.key.endsWith('/b-roll.mkv')),
      )
      .toEqual([])

    // A stayed where it was while paused, then finishes after Resume.
    expect(
      Number(await queue.row('a-roll.mkv').getAttribute('data-bytes-sent')),
    ).toBeLessThanOrEqual(pausedAt)
    await queue.resume('a-roll.mkv')
    await queue.waitForState('a-roll.mkv', 'done', 90_000)
    await queue.waitForState('c-roll.mkv', 'done', 90_000)

    const keys = await e2e.keys()
    const aKey = keys.find((k) => k.endsWith('/a-roll.mkv'))!
    expect(await sha256OfObject(e2e.client, e2e.bucket, aKey)).toBe(await sha256OfFile(a))
    expect(keys.some((k) => k.endsWith('/b-roll.mkv'))).toBe(false)
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
  })

  it('Pause all / Resume all, and "sleep": suspend pauses, resume continues', async () => {
    const dir = await e2e.tempDir()
    const a = await bigVideo(join(dir, 'sleepy.mkv'), 4)
    const size = (await stat(a)).size
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 2, bandwidthLimitMbps: 24 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([a])
    await queue.waitForPartialProgress('sleepy.mkv', size)
    expect(app.blockers.size).toBe(1) // prevent-app-suspension while moving

    await queue.pauseAll.click()
    await queue.waitForState('sleepy.mkv', 'paused')
    await queue.waitForTotals({ active: 0 })
    expect(app.blockers.size).toBe(0)
    await queue.resumeAll.click()
    await queue.rowIn('sleepy.mkv', 'uploading').waitFor()

    // The OS goes to sleep: the upload pauses; on wake it continues by itself.
    app.powerMonitor.emit('suspend')
    await queue.waitForState('sleepy.mkv', 'paused')
    app.powerMonitor.emit('resume')
    await queue.waitForState('sleepy.mkv', 'done', 90_000)
  })

  it('saving settings refuses while files move, and keeps paused rows paused across the rebuild', async () => {
    const dir = await e2e.tempDir()
    const a = await bigVideo(join(dir, 'keep me.mkv'), 4)
    const size = (await stat(a)).size
    const app = await e2e.launch({
      // 4 Mbit/s: the file is still moving while the settings screen is used.
      settings: { partSizeMiB: 5, concurrency: 1, bandwidthLimitMbps: 4 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    const settings = new SettingsPage(app.page)
    await shell.drop([a])
    await queue.waitForPartialProgress('keep me.mkv', size)

    await shell.open('Settings')
    await settings.field('Object key template').fill('clips/{uuid}/{filename}')
    await settings.save.click()
    await shell.toasts.filter({ hasText: 'Uploads are in progress' }).waitFor()

    await shell.open('Queue')
    await queue.pause('keep me.mkv')
    await queue.waitForState('keep me.mkv', 'paused')
    await shell.open('Settings')
    await settings.field(/^Bandwidth limit/).fill('0') // and lift the limit, to finish quickly
    await settings.save.click()
    await shell.toasts.filter({ hasText: 'Settings saved.' }).waitFor()
    await shell.open('Queue')
    await queue.waitForState('keep me.mkv', 'paused')
    expect(await shell.resumeBanner.count()).toBe(0)
    await queue.resume('keep me.mkv')
    await queue.waitForState('keep me.mkv', 'done', 90_000)
    // The journal record resumed (same key as before the rebuild), not a fresh upload.
    expect((await e2e.keys()).filter((k) => k.endsWith('/keep me.mkv'))).toEqual([
      expect.stringMatching(/^videos\//),
    ])
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
  })
})
