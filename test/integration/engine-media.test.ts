import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import { createMediaPort } from '../../src/main/core/media'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import type { PendingHook } from '../../src/main/core/journal/types'
import type { MediaPort, PutSmallInput } from '../../src/main/core/ports'
import { directStore, tempDir, testEngine } from '../support/engine'
import { ffmpeg, mediaFixtures, type MediaFixtures } from '../support/media-fixtures'
import { S3Proxy } from '../support/proxy'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const MiB = 1024 * 1024

describe('engine with probe and thumbnails (direct mode, real ffmpeg)', () => {
  const client = testClient()
  let bucket: string
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let fx: MediaFixtures
  let proxy: S3Proxy
  let endpoint: string
  let big: string

  beforeAll(async () => {
    bucket = await freshBucket(client)
    tmp = await tempDir()
    fx = await mediaFixtures()
    proxy = new S3Proxy(testServer().endpoint)
    endpoint = await proxy.start()
    // ~6 MiB of lossless 720p: more than one 5 MiB part, so the video goes up as multipart.
    big = join(tmp.dir, 'big clip.mp4')
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30:duration=3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-qp',
      '0',
      '-pix_fmt',
      'yuv420p',
      big,
    ])
  })
  afterAll(async () => {
    await proxy.stop()
    await tmp.cleanup()
  })

  it('puts the poster beside the video and the probe results in its metadata; refuses non-videos before touching the server', async () => {
    const engine = testEngine({
      store: directStore(bucket, endpoint),
      stateDir: join(tmp.dir, 'state'),
      preferredPartSize: 5 * MiB,
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
    })
    let firstPartAt = 0
    let thumbAt = 0
    const seenBefore = proxy.requests.length
    engine.on('changed', (s: UploadSnapshot) => {
      if (s.path === big && s.thumbnailPath && !thumbAt) {
        thumbAt = Date.now()
        firstPartAt = proxy.requests
          .slice(seenBefore)
          .some((r) => r.method === 'PUT' && r.partNumber)
          ? 1
          : 0
      }
    })
    // A camera's MP4 under an extension no table knows: its Content-Type comes from the probe.
    const odd = join(tmp.dir, 'CLIP0001.video')
    await copyFile(fx.clip, odd)
    const added = await engine.add([
      { path: big },
      { path: fx.rotated },
      { path: fx.textAsMp4 },
      { path: fx.truncated },
      { path: fx.audioOnly },
      { path: odd },
    ])
    await engine.whenIdle()
    const [video, rotated, text, truncated, audio, oddVideo] = added.map((a) => engine.get(a.id)!)

    expect(video!.state, video!.error?.message).toBe('done')
    expect(await sha256OfObject(client, bucket, video!.key!)).toBe(await sha256OfFile(big))
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: video!.key! }))
    expect(head.Metadata).toMatchObject({ width: '1280', height: '720', codec: 'h264' })
    expect(Number(head.Metadata!.duration)).toBeCloseTo(3, 1)
    expect(video!.thumbnailKey).toBe(video!.key!.replace(/[^/]+$/, 'thumbnail.jpg'))
    // The history knows the poster too (it is stored after the video's entry is first written).
    const entry = (await engine.history()).find((h) => h.key === video!.key)
    expect(entry?.thumbnailKey).toBe(video!.thumbnailKey)
    const thumb = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: video!.thumbnailKey! }),
    )
    expect(thumb.ContentType).toBe('image/jpeg')
    const bytes = Buffer.concat(await (thumb.Body as Readable).toArray())
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
    // The thumbnail never holds the transfer back: a part was already on the wire when it was made.
    expect(firstPartAt, 'first part in flight before the thumbnail was done').toBe(1)

    expect(rotated!.state).toBe('done')
    expect(rotated!.media).toMatchObject({ width: 720, height: 1280 })
    const rhead = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: rotated!.key! }))
    expect(rhead.Metadata).toMatchObject({ width: '720', height: '1280' })
    expect(oddVideo!.state, oddVideo!.error?.message).toBe('done')
    const ohead = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: oddVideo!.key! }))
    expect(ohead.ContentType).toBe('video/mp4')
    expect(head.ContentType).toBe('video/mp4')

    expect(text!.state).toBe('failed')
    expect(text!.error!.code).toBe('NotVideo')
    expect(['Truncated', 'Unreadable']).toContain(truncated!.error?.code)
    expect(audio!.error?.code).toBe('NotVideo')
    // Refused before anything was created: no key, no journal record, no open upload.
    const records = await engine.records()
    for (const bad of [text!, truncated!, audio!]) {
      expect(bad.key).toBeUndefined()
      expect(records.some((r) => r.id === bad.id)).toBe(false)
    }
    expect(await openUploads(client, bucket)).toEqual([])
    await engine.close()
  })

  it('makes the poster again after a pause cut it short (sleep pauses uploads too)', async () => {
    const real = createMediaPort({ cacheDir: join(tmp.dir, 'media-cache-pause') })
    let calls = 0
    let firstCall!: () => void
    const firstCalled = new Promise<void>((resolve) => (firstCall = resolve))
    const media: MediaPort = {
      probe: (path, signal) => real.probe(path, signal),
      thumbnail: async (path, info, signal) => {
        if (++calls === 1) {
          firstCall()
          // Held until the pause aborts it: the pause lands during the thumbnail every time.
          await new Promise((resolve) => signal!.addEventListener('abort', resolve, { once: true }))
        }
        return real.thumbnail(path, info, signal)
      },
    }
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state-pause'),
      preferredPartSize: 5 * MiB,
      media,
    })
    const [s] = await engine.add([{ path: big }])
    await firstCalled
    await engine.pause(s!.id)
    expect(engine.get(s!.id)!.state).toBe('paused')
    engine.resume(s!.id)
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state, done.error?.message).toBe('done')
    expect(calls).toBe(2)
    expect(done.notice).toBeUndefined()
    expect(done.thumbnailKey).toBe(done.key!.replace(/[^/]+$/, 'thumbnail.jpg'))
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: done.thumbnailKey }),
    )
    expect(head.ContentType).toBe('image/jpeg')
    await engine.close()
  })

  it('says on the row when the video went up without a poster', async () => {
    const real = createMediaPort({ cacheDir: join(tmp.dir, 'media-cache-nothumb') })
    const media: MediaPort = {
      probe: (path, signal) => real.probe(path, signal),
      // A real ffmpeg failure: asked for a picture from a file that has none.
      thumbnail: (_path, info, signal) => real.thumbnail(fx.audioOnly, info, signal),
    }
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state-nt'),
      media,
    })
    const [s] = await engine.add([{ path: fx.clip }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state).toBe('done')
    expect(done.thumbnailKey).toBeUndefined()
    expect(done.notice).toMatch(/uploaded, but without a thumbnail: .*could not make a thumbnail/)
    await engine.close()
  })

  it("sends the poster with the video's object options (ACL, encryption, storage class)", async () => {
    const store = directStore(bucket)
    const sent: PutSmallInput[] = []
    const putSmall = store.putSmall.bind(store)
    store.putSmall = (input) => {
      sent.push(input)
      return putSmall(input)
    }
    const engine = testEngine({
      store,
      stateDir: join(tmp.dir, 'state-acl'),
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      objectOptions: { acl: 'public-read' },
    })
    const [s] = await engine.add([{ path: fx.clip }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state, done.error?.message).toBe('done')
    // Swift's s3api (s3_acl off) answers every GetObjectAcl with the owner alone and refuses SSE,
    // so the server cannot show the result: check what the store was asked to send, which the
    // real PutObject then carries as x-amz-acl.
    const video = sent.find((p) => p.key === done.key)
    const poster = sent.find((p) => p.key === done.thumbnailKey)
    expect(video?.options).toEqual({ acl: 'public-read' })
    expect(poster?.options).toEqual(video?.options)
    await engine.close()
  })

  it('a resumed video’s poster goes with the options the video was started with, not today’s', async () => {
    const dir = join(tmp.dir, 'state-acl-resume')
    const media = createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') })
    const first = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      bandwidthLimit: 4 * MiB,
      media,
      objectOptions: { acl: 'public-read' },
    })
    const [s] = await first.add([{ path: big }])
    await new Promise<void>((resolve) => {
      const on = (x: UploadSnapshot) => {
        if (x.id === s!.id && x.partsDone >= 1) {
          first.off('changed', on)
          resolve()
        }
      }
      first.on('changed', on)
    })
    await first.close()
    // Settings changed meanwhile: private from now on.
    const store = directStore(bucket)
    const sent: PutSmallInput[] = []
    const putSmall = store.putSmall.bind(store)
    store.putSmall = (input) => {
      sent.push(input)
      return putSmall(input)
    }
    const second = testEngine({ store, stateDir: dir, media, objectOptions: {} })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.state, done.error?.message).toBe('done')
    expect(done.thumbnailKey).toBeDefined()
    expect(sent.find((p) => p.key === done.thumbnailKey)?.options).toEqual({ acl: 'public-read' })
    await second.close()
  })

  it('the processing hook owed after a crash includes the poster once the poster is stored', async () => {
    const dir = join(tmp.dir, 'state-hook')
    const journal = new FileJournal(dir)
    // What a crash while the hook is being sent would leave for the next start to replay.
    let owed: PendingHook | undefined
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      afterComplete: async (snap) => {
        owed = await journal.pendingHook(snap.id)
      },
    })
    const [s] = await engine.add([{ path: fx.clip }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state, done.error?.message).toBe('done')
    expect(done.thumbnailKey).toBeDefined()
    expect(owed?.snapshot).toMatchObject({ key: done.key, thumbnailKey: done.thumbnailKey })
    // Sent: owed no more.
    expect(await journal.pendingHooks()).toEqual([])
    await engine.close()
  })

  it("puts the poster in the video's own {uuid} folder: stories/{uuid}/original.mp4 + thumbnail.jpg", async () => {
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state-stories'),
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      keyTemplate: 'stories/{uuid}/original.mp4',
      thumbnailKeyTemplate: 'stories/{uuid}/thumbnail.jpg',
    })
    const [s] = await engine.add([{ path: fx.clip }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.key).toMatch(/^stories\/[0-9a-f-]{36}\/original\.mp4$/)
    expect(done.thumbnailKey).toBe(done.key!.replace('original.mp4', 'thumbnail.jpg'))
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: done.thumbnailKey }),
    )
    expect(head.ContentType).toBe('image/jpeg')
    await engine.close()
  })

  it('gives each video of a shared folder its own poster ({dir}/{basename}.jpg)', async () => {
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state-shared'),
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      keyTemplate: 'shared/{relativeDir}/{filename}',
    })
    const added = await engine.add([
      { path: fx.clip, relativeDir: 'shoot' },
      { path: fx.rotated, relativeDir: 'shoot' },
    ])
    await engine.whenIdle()
    const [a, b] = added.map((x) => engine.get(x.id)!)
    expect(a!.thumbnailKey).toBe('shared/shoot/clip.jpg')
    expect(b!.thumbnailKey).toBe('shared/shoot/rotated.jpg')
    // Two posters, each its own video's: the rotated one is portrait.
    const size = async (key: string) =>
      (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength
    expect(await size(a!.thumbnailKey!)).toBeGreaterThan(0)
    expect(await sha256OfObject(client, bucket, b!.thumbnailKey!)).toBe(
      await sha256OfFile(b!.thumbnailPath!),
    )
    expect(await sha256OfObject(client, bucket, a!.thumbnailKey!)).toBe(
      await sha256OfFile(a!.thumbnailPath!),
    )
    await engine.close()
  })

  it('uploads any file when "upload all file types" is on, without a poster', async () => {
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state-all'),
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      requireVideo: false,
    })
    const [s] = await engine.add([{ path: fx.textAsMp4 }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state).toBe('done')
    expect(done.thumbnailKey).toBeUndefined()
    expect(done.notice).toMatch(/without video details/)
    await engine.close()
  })
})
