import { GetObjectCommand } from '@aws-sdk/client-s3'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openUploads, sha256OfFile, sha256OfObject } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { shot } from './support/browser'
import { useE2E } from './support/context'
import { bigVideo, smallVideo } from './support/videos'

const e2e = useE2E()

describe('queue: drop, thumbnails, progress, done', () => {
  it('uploads three dropped videos with their thumbnails, verified in S3', async () => {
    const dir = await e2e.tempDir()
    const files = [
      await smallVideo(join(dir, 'beach day.mp4'), { pattern: 'testsrc' }),
      await smallVideo(join(dir, 'interview.mp4'), { pattern: 'smptebars', seconds: 4 }),
      // ~11.5 MB raw video: 3 parts of 5 MiB, slow enough (bandwidth limit) to see progress move.
      await bigVideo(join(dir, 'b-roll.mkv'), 4),
    ]
    const bigSize = (await stat(files[2]!)).size
    const app = await e2e.launch({
      settings: { partSizeMiB: 5, concurrency: 2, bandwidthLimitMbps: 16 },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    await queue.empty.waitFor()
    await shot(app.page, '00-empty-queue')

    await shell.drop(files)
    await queue.rows.nth(2).waitFor()
    expect(await queue.rows.count()).toBe(3)

    // Progress moves: the big file is seen part-way, with a speed, before it is done.
    const seen = await queue.waitForPartialProgress('b-roll.mkv', bigSize)
    expect(seen).toBeGreaterThan(0)
    expect(seen).toBeLessThan(bigSize)
    for (const f of ['beach day.mp4', 'interview.mp4', 'b-roll.mkv']) {
      await queue.thumbnail(f).waitFor({ timeout: 60_000 })
    }
    await shot(app.page, '01-uploading') // the README's picture when b-roll is still moving
    await queue.waitForTotals({ done: 3, active: 0 })
    await shot(app.page, '02-all-done')

    // In S3: each video byte-identical, a JPEG thumbnail beside it, no multipart left open.
    const keys = await e2e.keys()
    for (const f of files) {
      const name = f.split('/').pop()!
      const key = keys.find((k) => k.endsWith(`/${name}`))
      expect(key, `object for ${name}`).toBeDefined()
      expect(await sha256OfObject(e2e.client, e2e.bucket, key!)).toBe(await sha256OfFile(f))
      const thumbKey = key!.slice(0, key!.lastIndexOf('/')) + '/thumbnail.jpg'
      expect(keys).toContain(thumbKey)
      const head = await e2e.head(thumbKey)
      expect(head.contentType).toBe('image/jpeg')
      const body = await e2e.client.send(
        new GetObjectCommand({ Bucket: e2e.bucket, Key: thumbKey }),
      )
      const bytes = await body.Body!.transformToByteArray()
      expect([...bytes.slice(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    }
    expect(await openUploads(e2e.client, e2e.bucket)).toEqual([])

    // The OS saw it: the power blocker was released; a "finished" notification went out.
    expect(app.blockers.size).toBe(0)
    expect(app.notifications.some((n) => /3 uploads finished/.test(n.title))).toBe(true)
  })
})
