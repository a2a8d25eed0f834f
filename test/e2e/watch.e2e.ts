import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

const e2e = useE2E()

describe('watch folders', () => {
  it('adds a video that appears in a watched folder once it stops growing', async () => {
    const dir = await e2e.tempDir()
    const source = await smallVideo(join(dir, 'source.mp4'))
    const inbox = join(dir, 'Camera inbox')
    await mkdir(inbox)
    await copyFile(source, join(inbox, 'already there.mp4'))
    const app = await e2e.launch()
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)

    await shell.open('Settings')
    app.dialog.openAnswers.push([inbox]) // the folder picker runs in main
    const settings = new SettingsPage(app.page)
    await settings.addWatchFolder.click()
    await settings.watchFolders.filter({ hasText: inbox }).waitFor()

    await shell.open('Queue')
    await copyFile(source, join(inbox, 'new clip.mp4'))
    await queue.waitForState('new clip.mp4', 'done', 60_000)
    await shell.toasts.filter({ hasText: 'Watch folder: 1 added.' }).waitFor()
    // What was in the folder before watching started is left alone.
    expect(await queue.names()).toEqual(['new clip.mp4'])

    // A copy of something already uploaded is not uploaded again, and the user is told.
    await copyFile(source, join(inbox, 'same again.mp4'))
    await shell.toasts.filter({ hasText: 'Watch folder: 0 added, 1 skipped.' }).waitFor()

    // Settings survive a relaunch, and so does the watch.
    await app.restart()
    const other = await smallVideo(join(dir, 'other.mp4'), { pattern: 'smptebars' })
    await copyFile(other, join(inbox, 'after restart.mp4'))
    await queue.waitForState('after restart.mp4', 'done', 60_000)
  })
})
