import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256OfFile } from '../support/s3'
import { createHash } from 'node:crypto'
import { AppPage } from './pages/app-page'
import { HistoryPage } from './pages/history-page'
import { QueuePage } from './pages/queue-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

const e2e = useE2E()

describe('history', () => {
  it('copies the object URL and a working share link, reveals the file, warns on duplicates', async () => {
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'keynote.mp4'), { pattern: 'rgbtestsrc' })
    const app = await e2e.launch()
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([clip])
    await queue.waitForState('keynote.mp4', 'done')

    await shell.open('History')
    const history = new HistoryPage(app.page)
    await history.row('keynote.mp4').waitFor()
    await shot(app.page, '09-history')

    await history.copyUrl('keynote.mp4')
    await expect.poll(() => app.clipboard.length).toBe(1)
    const key = (await e2e.keys()).find((k) => k.endsWith('/keynote.mp4'))!
    expect(app.clipboard[0]).toContain(`/${e2e.bucket}/`)
    expect(app.clipboard[0]).toContain(key.split('/').map(encodeURIComponent).join('/'))

    // The share link is a presigned GET: anyone can download the exact bytes with it.
    await history.copyShareLink('keynote.mp4')
    await expect.poll(() => app.clipboard.length).toBe(2)
    const link = app.clipboard[1]!
    expect(link).toMatch(/X-Amz-Expires=86400/)
    const res = await fetch(link)
    expect(res.status).toBe(200)
    const body = Buffer.from(await res.arrayBuffer())
    expect(createHash('sha256').update(body).digest('hex')).toBe(await sha256OfFile(clip))

    await history.reveal('keynote.mp4')
    await expect.poll(() => app.revealed).toEqual([clip])

    // The same file again: held back with a warning; "Upload again" goes ahead.
    await shell.open('Queue')
    await shell.drop([clip])
    await shell.duplicateDialog.waitFor()
    expect(await shell.duplicateDialog.textContent()).toContain('keynote.mp4')
    await shot(app.page, '10-duplicate-warning')
    await shell.duplicateDialog.getByRole('button', { name: 'Skip it' }).click()
    await shell.duplicateDialog.waitFor({ state: 'detached' })
    expect(await queue.rows.count()).toBe(1)
    await shell.drop([clip])
    await shell.duplicateDialog.getByRole('button', { name: 'Upload again' }).click()
    await queue.rows.nth(1).waitFor()
    await queue.waitForTotals({ done: 2, active: 0 })
    expect((await e2e.keys()).filter((k) => k.endsWith('/keynote.mp4'))).toHaveLength(2)
  })
})
