import { readdir, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseLog } from '../../src/main/core/journal/file-journal'
import { ALICE_TOKEN, startTestBackend, type TestBackend } from '../support/backend'
import { openUploads, sha256OfFile, sha256OfObject } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { bigVideo, smallVideo } from './support/videos'

const e2e = useE2E()
let backend: TestBackend | undefined
let hook: Server | undefined
afterEach(async () => {
  await backend?.close()
  backend = undefined
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()))
  hook = undefined
})

/** A platform's "process this upload" endpoint: records what Upreel posts. */
async function startHook(): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = []
  hook = createServer((req, res) => {
    let data = ''
    req.on('data', (c) => (data += c))
    req.on('end', () => {
      bodies.push(JSON.parse(data))
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/process`, bodies }
}

describe('backend mode (the reference backend)', () => {
  it('uploads through presigned URLs from the backend, with thumbnail and processing hook', async () => {
    backend = await startTestBackend({ bucket: e2e.bucket })
    const processing = await startHook()
    const dir = await e2e.tempDir()
    const small = await smallVideo(join(dir, 'vlog.mp4'))
    const big = await bigVideo(join(dir, 'studio.mkv'), 4) // multipart through the backend
    const app = await e2e.launch({
      direct: false,
      settings: {
        mode: 'backend',
        backend: { url: backend.url, hookUrl: processing.url },
        partSizeMiB: 5,
      },
      secrets: { backendToken: ALICE_TOKEN },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    expect(await shell.destination.textContent()).toBe(backend.url)

    await shell.drop([small, big])
    await queue.waitForTotals({ done: 2, active: 0 })
    await queue.thumbnail('vlog.mp4').waitFor()
    await shot(app.page, '08-backend-done')

    // The backend chose the keys (alice's prefix); the bytes and the posters are there.
    const keys = await e2e.keys()
    for (const f of [small, big]) {
      const name = f.split('/').pop()!
      const key = keys.find((k) => k.endsWith(name))
      expect(key, name).toBeDefined()
      expect(key).toMatch(/alice/)
      expect(await sha256OfObject(e2e.client, e2e.bucket, key!)).toBe(await sha256OfFile(f))
    }
    expect(keys.filter((k) => k.endsWith('.jpg')).length).toBe(2)
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])
    // The processing hook heard about both, with the key the backend chose.
    await expect.poll(() => processing.bodies.length, { timeout: 10_000 }).toBe(2)
    expect(processing.bodies).toContainEqual(
      expect.objectContaining({ key: keys.find((k) => k.endsWith('vlog.mp4')) }),
    )

    await shell.open('Settings')
    const settings = new SettingsPage(app.page)
    expect(await settings.test()).toBe(true)
  })

  it('a wrong token is explained on the row', async () => {
    backend = await startTestBackend({ bucket: e2e.bucket })
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'teaser.mp4'))
    const app = await e2e.launch({
      direct: false,
      settings: { mode: 'backend', backend: { url: backend.url } },
      secrets: { backendToken: 'wrong-token' },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await shell.drop([clip])
    await queue.waitForState('teaser.mp4', 'failed')
    expect(await queue.error('teaser.mp4').textContent()).toMatch(/sign-in|token|401|not accept/i)
    // The failed file's record says where it was going (never the token), so `upreel resume`
    // with no destination flags can pick up what the app left.
    const uploads = join(app.opts.dataDir, 'state', 'uploads')
    const [name] = (await readdir(uploads)).filter((n) => n.endsWith('.jsonl'))
    const journal = await readFile(join(uploads, name!), 'utf8')
    expect(parseLog(journal)!.record.destination.connection).toEqual({
      mode: 'backend',
      url: backend.url,
    })
    expect(journal).not.toContain('wrong-token')
  })
})
