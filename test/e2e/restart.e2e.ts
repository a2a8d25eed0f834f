import { ListPartsCommand } from '@aws-sdk/client-s3'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { S3Proxy } from '../support/proxy'
import { openUploads, sha256OfFile, sha256OfObject, testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { bigVideo } from './support/videos'

const e2e = useE2E()
let proxy: S3Proxy | undefined
afterEach(async () => {
  await proxy?.stop()
  proxy = undefined
})

describe('restart mid-upload', () => {
  it('shows the resume banner after a relaunch and finishes without re-sending a finished part', async () => {
    const dir = await e2e.tempDir()
    const file = await bigVideo(join(dir, 'long take.mkv'), 10) // ~28.8 MB → 6 parts of 5 MiB
    const size = (await stat(file)).size
    // A counting proxy in front of S3: every UploadPart the app sends is recorded.
    proxy = new S3Proxy(testServer().endpoint)
    const endpoint = await proxy.start()
    const settings = {
      partSizeMiB: 5,
      concurrency: 2,
      bandwidthLimitMbps: 40,
      s3: { endpoint },
    }
    const app = await e2e.launch({ settings })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([file])
    await app.page.waitForFunction(() => {
      const el = document.querySelector<HTMLElement>('[data-testid="upload-row"]')
      return Number(el?.dataset.partsDone ?? 0) >= 2
    })

    // Quit mid-upload: services close like the app quitting (pause, flush the journal).
    await app.restart()
    const [open] = await openUploads(e2e.client, e2e.bucket)
    expect(open).toBeDefined()
    const listed = await e2e.client.send(
      new ListPartsCommand({ Bucket: e2e.bucket, Key: open!.key, UploadId: open!.uploadId }),
    )
    const finished = (listed.Parts ?? []).map((p) => p.PartNumber!)
    expect(finished.length).toBeGreaterThanOrEqual(2)
    const putsBefore = proxy.partPuts(open!.uploadId).length

    // The relaunched app lists it and continues on "Resume all".
    await shell.resumeBanner.waitFor()
    await expect.poll(() => shell.resumeBanner.textContent()).toContain('long take.mkv')
    await shot(app.page, '04-resume-banner')
    await shell.resumeAllInterrupted.click()
    await shell.resumeBanner.waitFor({ state: 'detached' })
    await queue.waitForState('long take.mkv', 'done', 120_000)
    await expect.poll(() => queue.row('long take.mkv').textContent()).toContain('resumed')

    const puts = proxy.partPuts(open!.uploadId)
    for (const p of finished) {
      expect(
        puts.filter((n) => n === p),
        `part ${p} sent once`,
      ).toHaveLength(1)
    }
    expect(puts.length).toBeGreaterThan(putsBefore) // the rest was sent after the relaunch
    const key = (await e2e.keys()).find((k) => k.endsWith('/long take.mkv'))!
    expect(key).toBe(open!.key)
    expect(await sha256OfObject(e2e.client, e2e.bucket, key)).toBe(await sha256OfFile(file))
    expect((await e2e.head(key)).size).toBe(size)
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
  })

  it('resumes by itself on launch when the setting says so', async () => {
    const dir = await e2e.tempDir()
    const file = await bigVideo(join(dir, 'auto.mkv'), 6)
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 1, bandwidthLimitMbps: 40, autoResume: true },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([file])
    await queue.waitForBytes('auto.mkv', 5 * 1024 * 1024)
    await app.restart()
    await queue.waitForState('auto.mkv', 'done', 120_000)
    expect(await shell.resumeBanner.count()).toBe(0)
  })

  it('Discard (confirmed in main) aborts the interrupted upload on the server', async () => {
    const dir = await e2e.tempDir()
    const file = await bigVideo(join(dir, 'outtake.mkv'), 6)
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 1, bandwidthLimitMbps: 40 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([file])
    await queue.waitForBytes('outtake.mkv', 5 * 1024 * 1024)
    await app.restart()
    expect(
      (await openUploads(e2e.client, e2e.bucket)).some((u) => u.key.endsWith('/outtake.mkv')),
    ).toBe(true)
    await shell.resumeBanner.waitFor()

    app.dialog.messageAnswer = 1 // "Keep"
    await shell.discardInterrupted.click()
    await expect.poll(() => app.dialog.messages.length).toBe(1)
    expect(app.dialog.messages[0]).toContain('outtake.mkv')
    expect(await shell.resumeBanner.isVisible()).toBe(true)

    app.dialog.messageAnswer = 0 // "Discard"
    await shell.discardInterrupted.click()
    await shell.resumeBanner.waitFor({ state: 'detached' })
    expect(
      (await openUploads(e2e.client, e2e.bucket)).some((u) => u.key.endsWith('/outtake.mkv')),
    ).toBe(false)
  })

  it('"Clean up incomplete uploads" aborts stale records and server leftovers', async () => {
    const dir = await e2e.tempDir()
    const file = await bigVideo(join(dir, 'abandoned.mkv'), 6)
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 1, bandwidthLimitMbps: 40 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([file])
    await queue.waitForBytes('abandoned.mkv', 5 * 1024 * 1024)
    await app.restart()
    await shell.resumeBanner.waitFor()

    await shell.open('Settings')
    const settings = new SettingsPage(app.page)
    await settings.cleanupDays.fill('0')
    await settings.cleanupServer.check()
    await settings.cleanup.click()
    await settings.cleanupResult.waitFor()
    expect(await settings.cleanupResult.textContent()).toMatch(
      /Removed 1 unfinished upload from this computer/,
    )
    await shot(app.page, '14-settings-cleanup')
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
    await shell.open('Queue')
    expect(await shell.resumeBanner.count()).toBe(0)
  })
})
