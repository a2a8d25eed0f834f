import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openUploads, testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

const e2e = useE2E()

describe('wrong credentials', () => {
  it('say so in plain words on the row and in Test connection; with the secret fixed it uploads', async () => {
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'premiere.mp4'))
    const app = await e2e.launch({ secrets: { secretAccessKey: 'not-the-secret' } })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([clip])
    await queue.waitForState('premiere.mp4', 'failed')
    const message = await queue.error('premiere.mp4').textContent()
    expect(message).toMatch(/secret access key does not match the access key ID/)
    await shot(app.page, '06-wrong-credentials-row')
    // One notification for the failure (failures are gathered for 1.5 s before telling).
    await expect
      .poll(() => app.notifications.map((n) => n.title), { timeout: 10_000 })
      .toContain('Upload failed: premiere.mp4')

    await shell.open('Settings')
    const settings = new SettingsPage(app.page)
    expect(await settings.test()).toBe(false)
    const text = await settings.result.textContent()
    // HEAD has no error body; Test connection asks again with a listing to name the cause.
    expect(text).toMatch(/secret access key does not match the access key ID/)
    await shot(app.page, '07-wrong-credentials-test')

    // Fix the secret in the form, test again (draft secret, not saved yet), save, retry.
    await app.page
      .getByTestId('s3-secret')
      .fill((await import('../support/s3')).testServer().secretAccessKey)
    expect(await settings.test()).toBe(true)
    await settings.save.click()
    await shell.toasts.filter({ hasText: 'Settings saved.' }).waitFor()
    // The failed row comes along to the rebuilt engine and goes with the fixed secret.
    await shell.open('Queue')
    await queue.waitForState('premiere.mp4', 'done')
    expect(await queue.rows.count()).toBe(1)
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
  })

  it('fixing the access key id AND the secret together: one save, and the failed row goes', async () => {
    const s3 = testServer()
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'both wrong.mp4'))
    const app = await e2e.launch({
      settings: { s3: { accessKeyId: 'AKIAWRONGWRONGWRONG1' } },
      secrets: { secretAccessKey: 'not-the-secret-either' },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([clip])
    await queue.waitForState('both wrong.mp4', 'failed')

    await shell.open('Settings')
    await app.page.getByTestId('s3-access-key').fill(s3.accessKeyId)
    await app.page.getByTestId('s3-secret').fill(s3.secretAccessKey)
    await new SettingsPage(app.page).save.click()
    // Saved as one step: no "Uploads are in progress" from a rebuild with the old secret.
    await shell.toasts.filter({ hasText: 'Settings saved.' }).waitFor()
    expect(await shell.toasts.filter({ hasText: 'in progress' }).count()).toBe(0)
    const view = await app.page.evaluate(() => window.upreel.getSettings())
    expect(view.settings.s3.accessKeyId).toBe(s3.accessKeyId)
    expect(view.secrets.secretAccessKey).toBe(true)
    await shell.open('Queue')
    await queue.waitForState('both wrong.mp4', 'done')
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
  })

  it('a missing bucket is named as such in Test connection', async () => {
    const app = await e2e.launch({ settings: { s3: { bucket: 'no-such-bucket-upreel' } } })
    const shell = new AppPage(app.page)
    await shell.open('Settings')
    const settings = new SettingsPage(app.page)
    expect(await settings.test()).toBe(false)
    expect(await settings.result.textContent()).toMatch(/bucket/i)
  })
})
