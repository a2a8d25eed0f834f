/**
 * The engine in backend mode: the real UploadEngine (and the real CLI with --backend) signing
 * through the reference backend with CompanionStore, bytes going to the real S3 server through a
 * counting proxy (the backend signs for the proxy's address, so every part PUT is seen).
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { readdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import type { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { createMediaPort } from '../../src/main/core/media'
import { ALICE_TOKEN, startTestBackend, type TestBackend } from '../support/backend'
import { jsonLines, spawnCli } from '../support/cli'
import { randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { journalParts, untilJournaled } from '../support/journal'
import { mediaFixtures } from '../support/media-fixtures'
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
const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>
let proxy: S3Proxy
let proxyUrl: string
let backend: TestBackend

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-bemode')
  tmp = await tempDir('upreel-bemode-')
  proxy = new S3Proxy(testServer().endpoint)
  proxyUrl = await proxy.start()
  backend = await startTestBackend({ bucket, s3Endpoint: proxyUrl })
})
afterAll(async () => {
  await backend?.close()
  await proxy?.stop()
  await tmp?.cleanup()
})

const stateDir = (name: string) => join(tmp.dir, 'state-' + name)
const storeFor = (b: TestBackend) => createCompanionStore({ baseUrl: b.url, headers: b.auth() })

async function uploadIdOf(engine: UploadEngine): Promise<string> {
  const [rec] = await engine.records()
  return rec!.uploadId!
}

describe('engine in backend mode (reference backend + CompanionStore)', () => {
  it.each([
    ['1 byte', 1],
    ['5 MiB + 1', 5 * MiB + 1],
    ['~100 MiB', 100 * MiB + 12345],
  ])('uploads %s byte-identical under the user prefix', async (label, size) => {
    const file = await randomFile(join(tmp.dir, `clip ${size} é.mp4`), size)
    const engine = testEngine({
      store: storeFor(backend),
      stateDir: stateDir('sizes'),
      preferredPartSize: 5 * MiB,
    })
    const [s] = await engine.add([{ path: file }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.error, label).toBeUndefined()
    expect(done.state).toBe('done')
    expect(done.bytesSent).toBe(size)
    expect(done.bucket).toBe(bucket)
    // The backend chose the key (the engine's template is only a wish in backend mode).
    expect(done.key).toMatch(new RegExp(`^users/alice/[0-9a-f-]{36}/clip ${size} é\\.mp4$`))
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: done.key! }))
    expect(head.ContentType).toBe('video/mp4')
    expect(head.ContentLength).toBe(size)
    expect(head.Metadata?.['original-filename']).toBe(
      `=?UTF-8?B?${Buffer.from(`clip ${size} é.mp4`).toString('base64')}?=`,
    )
    expect(await openUploads(client, bucket)).toEqual([])
    await engine.close()
  })

  it('pauses mid-upload and resumes without re-sending finished parts', async () => {
    const file = await randomFile(join(tmp.dir, 'pause.mov'), 60 * MiB)
    const engine = testEngine({
      store: storeFor(backend),
      stateDir: stateDir('pause'),
      preferredPartSize: 5 * MiB,
      concurrency: 2,
      bandwidthLimit: 40 * MiB,
    })
    const [s] = await engine.add([{ path: file }])
    await waitFor(engine, s!.id, (x) => x.partsDone >= 3)
    await engine.pause(s!.id)
    const paused = engine.get(s!.id)!
    expect(paused.state).toBe('paused')
    const uploadId = await uploadIdOf(engine)
    const journaled = new Set((await engine.records())[0]!.parts.map((p) => p.n))
    expect(journaled.size).toBeGreaterThanOrEqual(3)
    const before = proxy.partPuts(uploadId).length
    engine.setBandwidthLimit(0)
    engine.resume(s!.id)
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.error).toBeUndefined()
    expect(done.state).toBe('done')
    const after = proxy.partPuts(uploadId).slice(before)
    // No part finished at pause is sent again, none twice. A part whose bytes all reached S3 just
    // as the pause aborted it is adopted on resume (its ETag matches the local MD5), not re-sent:
    // so at most the 2 parts in flight may be missing from this count.
    expect(after.filter((n) => journaled.has(n))).toEqual([])
    expect(new Set(after).size).toBe(after.length)
    expect(after.length).toBeLessThanOrEqual(12 - journaled.size)
    expect(after.length).toBeGreaterThanOrEqual(12 - journaled.size - 2)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await engine.close()
  })

  it('cancel aborts through the backend: nothing left on the server or in the journal', async () => {
    const file = await randomFile(join(tmp.dir, 'cancel.mp4'), 40 * MiB)
    const engine = testEngine({
      store: storeFor(backend),
      stateDir: stateDir('cancel'),
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 20 * MiB,
    })
    const [s] = await engine.add([{ path: file }])
    const mid = await waitFor(engine, s!.id, (x) => x.partsDone >= 1)
    expect(await openUploads(client, bucket, mid.key)).toHaveLength(1)
    await engine.cancel(s!.id)
    expect(engine.get(s!.id)!.state).toBe('cancelled')
    // The server is told right after, in the background: whenIdle waits for it.
    await engine.whenIdle()
    expect(await openUploads(client, bucket, mid.key)).toEqual([])
    expect(await engine.records()).toEqual([])
    const aborts = backend.logs.filter((l) => l.route === 'abort' && l.status === 200)
    expect(aborts.length).toBeGreaterThanOrEqual(1)
    await engine.close()
  })

  it('a URL that expires before S3 sees the PUT (2 s lifetime, 3 s stall) is re-signed and the upload completes', async () => {
    const short = await startTestBackend({ bucket, s3Endpoint: proxyUrl, urlExpiresSeconds: 2 })
    const file = await randomFile(join(tmp.dir, 'expiry.mp4'), 30 * MiB)
    let stalled = 0
    proxy.decide = (r) =>
      r.method === 'PUT' && r.partNumber === 2 && stalled++ === 0
        ? { kind: 'stall', ms: 3000 }
        : { kind: 'pass' }
    try {
      const engine = testEngine({
        store: storeFor(short),
        stateDir: stateDir('expiry'),
        preferredPartSize: 5 * MiB,
        concurrency: 2,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      // The journal record is gone once done: the backend's log names the upload.
      const uploadId = short.logs.find((l) => l.route === 'create')!.uploadId as string
      const sent = proxy.partPuts(uploadId)
      // Part 2 twice (the stalled, expired one and its re-signed retry), every other part once:
      // no URL signed ahead was handed out dead while the upload ran past the lifetime.
      expect(sent.filter((n) => n === 2)).toHaveLength(2)
      expect(sent.length).toBe(7)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      await engine.close()
    } finally {
      proxy.decide = () => ({ kind: 'pass' })
      await short.close()
    }
  })

  it('survives the backend going away mid-upload and coming back (same data dir)', async () => {
    const file = await randomFile(join(tmp.dir, 'outage.mp4'), 40 * MiB)
    const engine = testEngine({
      store: storeFor(backend),
      stateDir: stateDir('outage'),
      preferredPartSize: 5 * MiB,
      concurrency: 2,
      bandwidthLimit: 20 * MiB,
    })
    const [s] = await engine.add([{ path: file }])
    await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
    const uploadId = await uploadIdOf(engine)
    await backend.stop()
    try {
      // The engine needs a signature within a window of parts, or, on a crowded machine where
      // every part was signed before the stop, the backend's Complete: either way it meets the
      // closed port and says so while it tries again (state 'retrying' for a part; 'completing'
      // with the notice for Complete).
      const waiting = await waitFor(
        engine,
        s!.id,
        (x) => x.state === 'retrying' || (x.state === 'completing' && !!x.notice),
        30_000,
      )
      expect(waiting.notice).toMatch(/^Retrying: |^Waiting for the network/)
    } finally {
      // The rest of the file needs the backend, whatever happened above.
      await backend.start()
    }
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.error).toBeUndefined()
    expect(done.state).toBe('done')
    const sent = proxy.partPuts(uploadId)
    expect(sent.length).toBe(8)
    expect(new Set(sent).size).toBe(8)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await engine.close()
  })

  it('puts the poster beside the video (thumbnail-for) when media is on', async () => {
    const fx = await mediaFixtures()
    const engine = testEngine({
      store: storeFor(backend),
      stateDir: stateDir('poster'),
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
    })
    const [s] = await engine.add([{ path: fx.clip }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.error).toBeUndefined()
    expect(done.notice).toBeUndefined()
    expect(done.thumbnailKey).toBe(done.key!.replace(/[^/]+$/, 'thumbnail.jpg'))
    // The probe results travel through the backend into the video's metadata.
    const video = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: done.key! }))
    expect(video.Metadata).toMatchObject({ width: '320', height: '240', codec: 'h264' })
    expect(Number(video.Metadata!.duration)).toBeCloseTo(4, 1)
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: done.thumbnailKey! }),
    )
    expect(head.ContentType).toBe('image/jpeg')
    expect(await sha256OfObject(client, bucket, done.thumbnailKey!)).toBe(
      await sha256OfFile(done.thumbnailPath!),
    )
    await engine.close()
  })
})

// ---------------------------------------------------------------------------------- the CLI

describe('upreel CLI with --backend', () => {
  let hook: Server
  let hookUrl: string
  const hookBodies: Record<string, unknown>[] = []
  let hookStatus = 202

  beforeAll(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        hookBodies.push(
          JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        )
        res.statusCode = hookStatus
        res.end('{}')
      })
    })
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/processing`
  })
  afterAll(async () => {
    await new Promise((r) => hook?.close(r))
  })

  const backendArgs = () => [
    '--backend',
    backend.url,
    '--header',
    `Authorization: Bearer ${ALICE_TOKEN}`,
  ]

  it('survives SIGKILL: resumes through the backend, sends no finished part again, leaves nothing behind', async () => {
    const file = await randomFile(join(tmp.dir, 'crash.mp4'), 100 * MiB)
    const state = stateDir('crash')
    const common = [
      ...backendArgs(),
      '--state-dir',
      state,
      '--json',
      '--no-media',
      '--part-size',
      '5MiB',
      '--concurrency',
      '4',
      '--limit-rate',
      '40MiB',
    ]
    const kills: { mark: number; journaled: Map<string, Set<number>> }[] = []
    let journaledBefore = 0
    for (let i = 0; i < 3; i++) {
      const child = spawnCli(i === 0 ? ['upload', file, ...common] : ['resume', ...common])
      await untilJournaled(state, journaledBefore + 2)
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)))
      child.kill('SIGKILL')
      const out = await child.output
      expect(out.signal).toBe('SIGKILL')
      const journaled = await journalParts(state)
      journaledBefore = [...journaled.values()].reduce((sum, p) => sum + p.size, 0)
      kills.push({ mark: proxy.requests.length, journaled })
    }
    const last = await spawnCli(['resume', ...common]).output
    expect(last.code, last.stderr).toBe(0)
    const completed = jsonLines(last.stdout).find((l) => l.type === 'completed')!
    expect(completed.resumed).toBe(true)
    expect(completed.key).toMatch(/^users\/alice\//)
    expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
      await sha256OfFile(file),
    )
    expect(await openUploads(client, bucket)).toEqual([])
    expect(
      await readdir(join(state, 'uploads')).then((f) => f.filter((n) => n.endsWith('.jsonl'))),
    ).toEqual([])
    for (const k of kills) {
      const resent = proxy.requests
        .slice(k.mark)
        .filter(
          (r) =>
            r.method === 'PUT' &&
            r.partNumber &&
            k.journaled.get(r.uploadId ?? '')?.has(r.partNumber),
        )
      expect(resent).toEqual([])
    }
  })

  it('--hook receives {key, bucket, size, etag, metadata, thumbnailKey} after the upload', async () => {
    const fx = await mediaFixtures()
    hookBodies.length = 0
    hookStatus = 202
    const run = await spawnCli([
      'upload',
      fx.clip,
      ...backendArgs(),
      '--hook',
      hookUrl,
      '--state-dir',
      stateDir('hook'),
      '--json',
    ]).output
    expect(run.code, run.stderr).toBe(0)
    const completed = jsonLines(run.stdout).find((l) => l.type === 'completed')!
    expect(hookBodies).toHaveLength(1)
    const body = hookBodies[0]!
    expect(body).toMatchObject({
      key: completed.key,
      bucket,
      size: completed.size,
      etag: completed.etag,
      thumbnailKey: (completed.key as string).replace(/[^/]+$/, 'thumbnail.jpg'),
    })
    expect(body.metadata).toMatchObject({ filename: 'clip.mp4' })
  })

  it('a failing hook leaves the upload completed, with a notice, exit code 0', async () => {
    const file = await randomFile(join(tmp.dir, 'hookfail.mp4'), 6 * MiB)
    hookBodies.length = 0
    hookStatus = 500
    try {
      const run = await spawnCli([
        'upload',
        file,
        ...backendArgs(),
        '--hook',
        hookUrl,
        '--state-dir',
        stateDir('hookfail'),
        '--json',
        '--no-media',
      ]).output
      expect(run.code, run.stderr).toBe(0)
      const completed = jsonLines(run.stdout).find((l) => l.type === 'completed')!
      expect(completed.notice).toMatch(/processing request failed.*HTTP 500/)
      expect(hookBodies.length).toBeGreaterThan(1)
      expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
        await sha256OfFile(file),
      )
    } finally {
      hookStatus = 202
    }
  })
})
