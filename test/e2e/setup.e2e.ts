import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { SetupPage } from './pages/setup-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

const e2e = useE2E()
const saved: Record<string, string | undefined> = {}
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

describe('first launch', () => {
  it('opens on the setup screen, tests the bucket with lifecycle advice, then starts', async () => {
    const s3 = testServer()
    const app = await e2e.launch({ direct: false, colorScheme: 'dark' })
    const setup = new SetupPage(app.page)
    await setup.root.waitFor()
    await shot(app.page, '11-setup-dark')

    await setup.field('Bucket').fill(e2e.bucket)
    await setup.field(/^Endpoint/).fill(s3.endpoint)
    await setup.field(/Path-style/).check()
    await setup.field(/^Access key ID/).fill(s3.accessKeyId)
    await setup.field(/^Secret access key/).fill(s3.secretAccessKey)
    const settings = new SettingsPage(app.page)
    expect(await settings.test()).toBe(true)
    // Swift has no lifecycle rules: Upreel advises the AbortIncompleteMultipartUpload rule.
    expect(await settings.advice.textContent()).toMatch(/AbortIncompleteMultipartUpload/)
    await shot(app.page, '12-setup-tested')
    await setup.start.click()

    const shell = new AppPage(app.page)
    await new QueuePage(app.page).empty.waitFor()
    expect(await shell.destination.textContent()).toContain(`s3://${e2e.bucket}`)
    // The secret went into safeStorage, and the page only ever learns "set".
    const view = await app.page.evaluate(() => window.upreel.getSettings())
    expect(view.secrets.secretAccessKey).toBe(true)
    expect(JSON.stringify(view)).not.toContain(s3.secretAccessKey)
  })

  it('honours AWS_* / S3 environment variables: no setup screen, uploads go there', async () => {
    const s3 = testServer()
    const env = {
      AWS_S3_BUCKET: e2e.bucket,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    }
    // The SDK's default credential chain reads this process's environment, as in the app.
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k]
      process.env[k] = v
    }
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'from env.mp4'))
    const app = await e2e.launch({ direct: false, env })
    const shell = new AppPage(app.page)
    expect(await shell.destination.textContent()).toContain('(from environment)')
    await shell.drop([clip])
    await new QueuePage(app.page).waitForState('from env.mp4', 'done')
    expect((await e2e.keys()).some((k) => k.endsWith('/from env.mp4'))).toBe(true)
  })
})

describe('saved settings that are not valid any more', () => {
  it('a key template an older Upreel accepted is named in a banner and in Settings; uploads go to the default it names', async () => {
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'old template.mp4'))
    // No per-file part: every file would overwrite the one before (refused since this stop).
    const app = await e2e.launch({ storedAsIs: { keyTemplate: 'uploads/video.mp4' } })
    const shell = new AppPage(app.page)
    await shell.settingsProblems.waitFor()
    await shot(app.page, '15-settings-problems')
    expect(await shell.settingsProblems.textContent()).toMatch(
      /Key template: it must contain \{uuid\} or \{filename\}.*Using the default, videos\/\{uuid\}\/\{filename\}\./,
    )

    await shell.drop([clip])
    await new QueuePage(app.page).waitForState('old template.mp4', 'done')
    const keys = await e2e.keys()
    expect(keys.some((k) => /^videos\/[0-9a-f-]{36}\/old template\.mp4$/.test(k))).toBe(true)
    expect(keys).not.toContain('uploads/video.mp4')

    await shell.settingsProblems.getByRole('button', { name: 'Check settings' }).click()
    const settings = new SettingsPage(app.page)
    await settings.problems.waitFor()
    expect(await settings.problems.textContent()).toContain('Key template')
    expect(await settings.field(/^Object key template/).inputValue()).toBe(
      'videos/{uuid}/{filename}',
    )
    await settings.save.click()
    await settings.problems.waitFor({ state: 'detached' })
    expect((await app.page.evaluate(() => window.upreel.getSettings())).problems).toEqual([])
    await shell.open('Queue')
    expect(await shell.settingsProblems.count()).toBe(0)
  })
})
