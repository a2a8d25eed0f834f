/**
 * Files that arrive from outside the page: "Open with Upreel", a second launch, the menu's Add
 * Videos…. They go through main's add flow (AppServices.addPaths, as index.ts calls it), and what
 * came of it reaches the page like its own adds: a toast, and the duplicate question.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SetupPage } from './pages/setup-page'
import { SettingsPage } from './pages/settings-page'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

const e2e = useE2E()

describe('Open with Upreel', () => {
  it('a file opened again (already uploaded) asks, as a drop does', async () => {
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'again.mp4'))
    const app = await e2e.launch()
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([clip])
    await queue.waitForState('again.mp4', 'done')

    // A second launch / "Open with" with the same file.
    await app.services!.addPaths([clip], 'argv')
    await shell.duplicateDialog.waitFor()
    expect(await shell.duplicateDialog.textContent()).toContain('again.mp4')
    await shell.duplicateDialog.getByRole('button', { name: 'Upload again' }).click()
    await expect.poll(() => queue.rows.count()).toBe(2)
    await queue.waitForTotals({ done: 2, active: 0 })
  })

  it('three files opened one by one (one open-file or process each) make one question; a later one waits its turn', async () => {
    const dir = await e2e.tempDir()
    const clips = await Promise.all(
      ['one.mp4', 'two.mp4', 'three.mp4'].map((n) => smallVideo(join(dir, n))),
    )
    const app = await e2e.launch()
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop(clips)
    await queue.waitForTotals({ done: 3, active: 0 })

    // macOS sends one open-file per file; Windows starts one Upreel per file.
    for (const clip of clips) void app.services!.addPaths([clip], 'argv')
    const dialog = shell.duplicateDialog
    await dialog.waitFor()
    expect(await dialog.getByRole('heading').textContent()).toBe('3 files already uploaded')
    for (const n of ['one.mp4', 'two.mp4', 'three.mp4']) {
      expect(await dialog.textContent()).toContain(n)
    }

    // Another question while this one is open (the page's own drop) waits behind it.
    await shell.drop([clips[0]!])
    await shell.duplicatesWaiting.waitFor()
    await dialog.getByRole('button', { name: 'Skip them' }).click()
    await expect.poll(() => dialog.getByRole('heading').textContent()).toBe('Already uploaded')
    expect(await dialog.textContent()).toContain('one.mp4')
    await dialog.getByRole('button', { name: 'Upload again' }).click()
    await dialog.waitFor({ state: 'detached' })
    await queue.waitForTotals({ done: 4, active: 0, count: 4 })
  })

  it('files opened at first launch wait for the setup screen, then go', async () => {
    const s3 = testServer()
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'opened early.mp4'))
    const app = await e2e.launch({ direct: false, openWith: [clip] })
    const shell = new AppPage(app.page)
    const setup = new SetupPage(app.page)
    await setup.root.waitFor()
    await shell.toasts.filter({ hasText: 'Choose where uploads go first' }).waitFor()

    await setup.field('Bucket').fill(e2e.bucket)
    await setup.field(/^Endpoint/).fill(s3.endpoint)
    await setup.field(/Path-style/).check()
    await setup.field(/^Access key ID/).fill(s3.accessKeyId)
    await setup.field(/^Secret access key/).fill(s3.secretAccessKey)
    expect(await new SettingsPage(app.page).test()).toBe(true)
    await setup.start.click()

    const queue = new QueuePage(app.page)
    await queue.waitForState('opened early.mp4', 'done')
    expect((await e2e.keys()).some((k) => k.endsWith('/opened early.mp4'))).toBe(true)
  })
})
