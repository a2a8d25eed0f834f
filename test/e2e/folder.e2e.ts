import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { copies, smallVideo } from './support/videos'

const e2e = useE2E()

describe('folders', () => {
  it('walks nested folders, skips junk and non-videos and says how many', async () => {
    const dir = await e2e.tempDir()
    const shoot = join(dir, 'shoot')
    const clip = await smallVideo(join(dir, 'source.mp4'), { seconds: 2 })
    await copies(clip, [
      join(shoot, 'clip A.mp4'),
      join(shoot, 'day 2', 'clip B.mp4'),
      join(shoot, 'day 2', 'raw', 'clip C.mov'),
    ])
    // What cameras, editors and operating systems leave beside footage.
    const junk = [
      join(shoot, '.DS_Store'),
      join(shoot, '._clip A.mp4'),
      join(shoot, 'day 2', 'Thumbs.db'),
      join(shoot, 'day 2', 'desktop.ini'),
      join(shoot, 'notes.txt'),
      join(shoot, 'day 2', 'raw', 'cover.png'),
    ]
    for (const j of junk) await writeFile(j, 'junk')
    await mkdir(join(shoot, '.hidden'))
    await writeFile(join(shoot, '.hidden', 'secret.mp4'), 'x')
    // A symlink loop must not trap the walk.
    await symlink(shoot, join(shoot, 'day 2', 'loop'))

    const app = await e2e.launch({ settings: { concurrency: 2 } })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([shoot])
    await queue.rows.nth(2).waitFor()
    await shot(app.page, '05-folder-added')

    expect(await queue.rows.count()).toBe(3)
    expect(await queue.folderOf('clip A.mp4').textContent()).toBe('shoot')
    expect(await queue.folderOf('clip B.mp4').textContent()).toBe('shoot/day 2')
    expect(await queue.folderOf('clip C.mov').textContent()).toBe('shoot/day 2/raw')
    // 6 junk files + the hidden folder + the loop = 8 skipped, counted in the toast.
    const toast = shell.toasts.filter({ hasText: 'added' })
    await toast.waitFor()
    expect(await toast.textContent()).toMatch(/3 added · 8 skipped \(/)

    await queue.waitForTotals({ done: 3, active: 0 })
    const keys = await e2e.keys()
    expect(keys.filter((k) => /clip [ABC]\.(mp4|mov)$/.test(k))).toHaveLength(3)
    expect(keys.some((k) => /DS_Store|Thumbs|desktop\.ini|notes|cover|secret/.test(k))).toBe(false)
  })

  it('refuses what is not a regular file or folder, and the app data folder', async () => {
    const app = await e2e.launch()
    const shell = new AppPage(app.page)
    await shell.drop(['/dev/zero', join(app.opts.dataDir, 'settings.json'), '/nonexistent.mp4'])
    const toast = shell.toasts.first()
    await toast.waitFor()
    const text = await toast.textContent()
    expect(text).toContain('zero: Not a regular file or folder.')
    expect(text).toContain("settings.json: Upreel's own data folder cannot be uploaded.")
    expect(text).toContain('nonexistent.mp4: It no longer exists or cannot be read.')
    expect(await new QueuePage(app.page).rows.count()).toBe(0)
  })

  it("a symlink inside a dropped folder does not reach Upreel's own data folder", async () => {
    const dir = await e2e.tempDir()
    const shoot = join(dir, 'shoot')
    await smallVideo(join(shoot, 'take 1.mp4'))
    // Every file type allowed, so settings.json would be "a file like any other".
    const app = await e2e.launch({ settings: { allFileTypes: true } })
    await symlink(app.opts.dataDir, join(shoot, 'link'))
    await symlink(join(app.opts.dataDir, 'settings.json'), join(shoot, 'notes.mp4'))
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([shoot])
    const toast = shell.toasts.filter({ hasText: 'added' })
    await toast.waitFor()
    expect(await toast.textContent()).toMatch(/^1 added · \d+ skipped/)
    await queue.waitForState('take 1.mp4', 'done')
    expect(await queue.names()).toEqual(['take 1.mp4'])
    expect((await e2e.keys()).some((k) => /settings\.json|notes\.mp4|journal/.test(k))).toBe(false)
  })
})
