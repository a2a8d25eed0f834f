import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { appendFile, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { scanInputs } from '../../src/main/core/scan'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
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

describe('upload engine against the real S3 server (direct mode)', () => {
  const client = testClient()
  let bucket: string
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let proxy: S3Proxy
  let proxyUrl: string

  beforeAll(async () => {
    bucket = await freshBucket(client)
    tmp = await tempDir()
    proxy = new S3Proxy(testServer().endpoint)
    proxyUrl = await proxy.start()
  })
  afterAll(async () => {
    await proxy.stop()
    await tmp.cleanup()
  })

  const stateDir = (name: string) => join(tmp.dir, 'state-' + name)

  it.each([
    ['1 byte', 1],
    ['exactly 5 MiB', 5 * MiB],
    ['5 MiB + 1', 5 * MiB + 1],
    ['~100 MiB', 100 * MiB + 12345],
  ])('uploads %s byte-identical, with metadata and Content-Type', async (label, size) => {
    const file = await randomFile(join(tmp.dir, `clip ${size} é.mp4`), size)
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('sizes'),
      preferredPartSize: 5 * MiB,
    })
    const [s] = await engine.add([{ path: file }])
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.error, label).toBeUndefined()
    expect(done.state).toBe('done')
    expect(done.bytesSent).toBe(size)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: done.key! }))
    expect(head.ContentType).toBe('video/mp4')
    expect(head.ContentLength).toBe(size)
    expect(head.Metadata?.['original-filename']).toBe(
      `=?UTF-8?B?${Buffer.from(`clip ${size} é.mp4`).toString('base64')}?=`,
    )
    expect(done.key).toMatch(new RegExp(`^videos/[0-9a-f-]{36}/clip ${size} é\\.mp4$`))
    // One part or less goes up in one request; more becomes a multipart object.
    expect(head.ETag!.includes('-')).toBe(size > 5 * MiB)
    expect(await openUploads(client, bucket)).toEqual([])
    await engine.close()
  })

  it('pauses mid-upload and resumes without re-sending finished parts', async () => {
    const file = await randomFile(join(tmp.dir, 'pause.mov'), 60 * MiB)
    const engine = testEngine({
      store: directStore(bucket, proxyUrl),
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
    const doneAtPause = paused.partsDone
    const [rec] = await engine.records()
    const uploadId = rec!.uploadId!
    const journaledAtPause = new Set(rec!.parts.map((p) => p.n))
    expect(journaledAtPause.size).toBe(doneAtPause)
    const before = proxy.partPuts(uploadId).length
    engine.setBandwidthLimit(0)
    engine.resume(s!.id)
    await engine.whenIdle()
    const done = engine.get(s!.id)!
    expect(done.state).toBe('done')
    const after = proxy.partPuts(uploadId).slice(before)
    // Parts finished at pause time are not sent again, and nothing is sent twice. (A part in
    // flight at the pause may have reached the server whole: resume adopts it, so the count of
    // PUTs after resume is at most, not exactly, the parts that were missing.)
    expect(after.some((n) => journaledAtPause.has(n))).toBe(false)
    expect(new Set(after).size).toBe(after.length)
    expect(after.length).toBeLessThanOrEqual(12 - doneAtPause)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await engine.close()
  })

  it('cancel aborts the multipart upload: nothing is left on the server or in the journal', async () => {
    const file = await randomFile(join(tmp.dir, 'cancel.mp4'), 40 * MiB)
    const engine = testEngine({
      store: directStore(bucket),
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
    expect(engine.get(s!.id)!.notice).toBeUndefined()
    expect(await openUploads(client, bucket, mid.key)).toEqual([])
    expect(await engine.records()).toEqual([])
    await engine.close()
  })

  it('cancel or pause while CreateMultipartUpload is on its way leaves no stray upload behind', async () => {
    const file = await randomFile(join(tmp.dir, 'creating.mp4'), 12 * MiB)
    // Hold every CreateMultipartUpload for 800 ms in the proxy: it reaches S3 after we gave up on it.
    proxy.decide = (r) =>
      r.method === 'POST' && r.url.includes('uploads') && !r.uploadId
        ? { kind: 'stall', ms: 800 }
        : { kind: 'pass' }
    const creates = () =>
      proxy.requests.filter((r) => r.method === 'POST' && r.url.includes('uploads') && !r.uploadId)
        .length
    try {
      const engine = testEngine({
        store: directStore(bucket, proxyUrl),
        stateDir: stateDir('creating'),
        preferredPartSize: 5 * MiB,
      })
      const before = creates()
      const [a] = await engine.add([{ path: file }])
      await waitFor(engine, a!.id, (x) => x.state === 'preparing')
      for (const end = Date.now() + 10_000; creates() === before;) {
        if (Date.now() > end) throw new Error('CreateMultipartUpload never sent')
        await new Promise((r) => setTimeout(r, 5))
      }
      await engine.cancel(a!.id)
      // Let every CreateMultipartUpload the proxy held reach S3 and be answered before looking.
      await Promise.all(
        proxy.requests.filter((r) => r.method === 'POST' && !r.uploadId).map((r) => r.upstream),
      )
      await engine.whenIdle()
      expect(engine.get(a!.id)!.state).toBe('cancelled')
      expect(await engine.records()).toEqual([])
      expect(await openUploads(client, bucket)).toEqual([])

      const [b] = await engine.add([{ path: file }])
      await waitFor(engine, b!.id, (x) => x.state === 'preparing')
      await engine.pause(b!.id)
      expect(engine.get(b!.id)!.state).toBe('paused')
      const createsBeforeResume = creates()
      proxy.decide = () => ({ kind: 'pass' })
      engine.resume(b!.id)
      await engine.whenIdle()
      const done = engine.get(b!.id)!
      expect(done.state).toBe('done')
      // Whatever the pause caught, at most one upload was opened for it and none is left open.
      expect(creates() - createsBeforeResume).toBeLessThanOrEqual(1)
      await Promise.all(
        proxy.requests.filter((r) => r.method === 'POST' && !r.uploadId).map((r) => r.upstream),
      )
      expect(await openUploads(client, bucket)).toEqual([])
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      await engine.close()
    } finally {
      proxy.decide = () => ({ kind: 'pass' })
    }
  })

  it('an engine closed mid-upload is continued by a new engine on the same state dir; no finished part is sent twice', async () => {
    const file = await randomFile(join(tmp.dir, 'restart.mp4'), 50 * MiB)
    const dir = stateDir('restart')
    const first = testEngine({
      store: directStore(bucket, proxyUrl),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 2,
      bandwidthLimit: 30 * MiB,
    })
    const [s] = await first.add([{ path: file }])
    await waitFor(first, s!.id, (x) => x.partsDone >= 4)
    await first.close()
    const [rec] = await new UploadEngine({ store: directStore(bucket), stateDir: dir }).records()
    const journaled = new Set(rec!.parts.map((p) => p.n))
    expect(journaled.size).toBeGreaterThanOrEqual(4)
    const mark = proxy.requests.length

    const second = testEngine({
      store: directStore(bucket, proxyUrl),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    const interrupted = await second.interrupted()
    expect(interrupted.map((i) => i.id)).toEqual([s!.id])
    const [again] = await second.resumeInterrupted()
    expect(again!.resumed).toBe(true)
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.state).toBe('done')
    const resent = proxy.requests
      .slice(mark)
      .filter((r) => r.method === 'PUT' && r.partNumber && journaled.has(r.partNumber))
    expect(resent).toEqual([])
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await second.close()
  })

  it('adopts parts the server has but the journal lost, only when their ETag matches the local bytes', async () => {
    const file = await randomFile(join(tmp.dir, 'adopt.mp4'), 30 * MiB)
    const dir = stateDir('adopt')
    const first = testEngine({
      store: directStore(bucket, proxyUrl),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 25 * MiB,
    })
    const [s] = await first.add([{ path: file }])
    await waitFor(first, s!.id, (x) => x.partsDone >= 3)
    await first.close()
    // A crash between the PUT and the journal append: drop the part lines from the journal.
    const journalPath = join(dir, 'uploads', `${s!.id}.jsonl`)
    const lines = (await readFile(journalPath, 'utf8')).split('\n').filter(Boolean)
    const kept = lines.filter((l) => !l.includes('"t":"part"'))
    const dropped = lines.length - kept.length
    expect(dropped).toBeGreaterThanOrEqual(3)
    await writeFile(journalPath, kept.join('\n') + '\n')
    // And part 1 on the server holds foreign bytes of the right size: it must not be adopted.
    const [rec] = await first.records()
    await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: rec!.key,
        UploadId: rec!.uploadId!,
        PartNumber: 1,
        Body: randomBytes(5 * MiB),
      }),
    )
    const mark = proxy.requests.length
    const second = testEngine({
      store: directStore(bucket, proxyUrl),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.error).toBeUndefined()
    expect(done.state).toBe('done')
    const puts = proxy.requests.slice(mark).filter((r) => r.method === 'PUT' && r.partNumber)
    // Everything not on the server, plus part 1 whose ETag did not match the local bytes.
    expect(puts.map((p) => p.partNumber).sort()).toContain(1)
    expect(puts.length).toBe(6 - dropped + 1)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await second.close()
  })

  it('a crash after CompleteMultipartUpload but before the journal was cleared costs nothing on resume', async () => {
    const file = await randomFile(join(tmp.dir, 'completed.mp4'), 12 * MiB)
    const dir = stateDir('completed')
    const first = testEngine({
      store: directStore(bucket, proxyUrl),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    let snapshotOfJournal = ''
    first.on('changed', (x) => {
      // The journal as a kill at this instant would leave it: every part recorded, Complete sent.
      if (x.state === 'completing' && !snapshotOfJournal) {
        snapshotOfJournal = readFileSync(join(dir, 'uploads', `${x.id}.jsonl`), 'utf8')
      }
    })
    const [s] = await first.add([{ path: file }])
    await first.whenIdle()
    expect(first.get(s!.id)!.state).toBe('done')
    await first.close()
    await writeFile(join(dir, 'uploads', `${s!.id}.jsonl`), snapshotOfJournal)
    // AWS answers ListParts of a completed upload with NoSuchUpload (Swift still lists the parts).
    proxy.decide = (r) =>
      r.method === 'GET' && r.uploadId
        ? { kind: 'status', status: 404, code: 'NoSuchUpload' }
        : { kind: 'pass' }
    try {
      const mark = proxy.requests.length
      const second = testEngine({
        store: directStore(bucket, proxyUrl),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
      })
      const [again] = await second.resumeInterrupted()
      await second.whenIdle()
      const done = second.get(again!.id)!
      expect(done.state).toBe('done')
      expect(done.notice).toBeUndefined()
      expect(proxy.requests.slice(mark).filter((r) => r.method === 'PUT')).toEqual([])
      expect(await second.records()).toEqual([])
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      await second.close()
    } finally {
      proxy.decide = () => ({ kind: 'pass' })
    }
  })

  it('restarts from zero, and says why, when the source changed since the upload started', async () => {
    const file = await randomFile(join(tmp.dir, 'changed.mp4'), 30 * MiB)
    const dir = stateDir('changed')
    const first = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 25 * MiB,
    })
    const [s] = await first.add([{ path: file }])
    const mid = await waitFor(first, s!.id, (x) => x.partsDone >= 2)
    await first.close()
    await appendFile(file, Buffer.from('a longer export'))
    const second = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.state).toBe('done')
    expect(done.notice).toMatch(/changed since the upload started \(its size changed\)/)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    // The old multipart upload was aborted, not orphaned.
    expect(await openUploads(client, bucket, mid.key)).toEqual([])
    await second.close()
  })

  it('detects a rewrite that keeps the size (mtime) and restarts', async () => {
    const file = await randomFile(join(tmp.dir, 'rewritten.mp4'), 20 * MiB)
    const dir = stateDir('rewritten')
    const first = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 20 * MiB,
    })
    const [s] = await first.add([{ path: file }])
    await waitFor(first, s!.id, (x) => x.partsDone >= 1)
    await first.close()
    await randomFile(file, 20 * MiB)
    await utimes(file, new Date(), new Date(Date.now() + 5000))
    const second = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.notice).toMatch(/it was modified/)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await second.close()
  })

  it('starts a fresh upload when the server no longer knows the old one (NoSuchUpload)', async () => {
    const file = await randomFile(join(tmp.dir, 'gone.mp4'), 25 * MiB)
    const dir = stateDir('gone')
    const first = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 20 * MiB,
    })
    const [s] = await first.add([{ path: file }])
    await waitFor(first, s!.id, (x) => x.partsDone >= 1)
    await first.close()
    const [rec] = await first.records()
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: rec!.key, UploadId: rec!.uploadId! }),
    )
    const second = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = second.get(s!.id)!
    expect(done.state).toBe('done')
    expect(done.notice).toMatch(/no longer had the earlier upload/)
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await second.close()
  })

  it('explains wrong credentials and a missing bucket, and the rest of the queue goes on', async () => {
    const file = await randomFile(join(tmp.dir, 'creds.mp4'), 6 * MiB)
    const s3 = testServer()
    const cases: [string, DirectS3Store, RegExp][] = [
      [
        'wrong access key',
        new DirectS3Store({
          bucket,
          endpoint: s3.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: { accessKeyId: 'nobody:none', secretAccessKey: s3.secretAccessKey },
        }),
        // AWS says InvalidAccessKeyId; Swift's tempauth can't tell and says SignatureDoesNotMatch.
        /access key is not recognised|secret access key does not match the access key ID/,
      ],
      [
        'wrong secret',
        new DirectS3Store({
          bucket,
          endpoint: s3.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' },
        }),
        /secret access key does not match the access key ID/,
      ],
      ['missing bucket', directStore('no-such-bucket-upreel'), /bucket does not exist/],
    ]
    for (const [label, store, message] of cases) {
      const engine = testEngine({
        store,
        stateDir: stateDir('creds-' + label.replace(/ /g, '-')),
        preferredPartSize: 5 * MiB,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const snap = engine.get(s!.id)!
      expect(snap.state, label).toBe('failed')
      expect(snap.error!.message, label).toMatch(message)
      await engine.close()
    }
    // No credentials anywhere: said at once, in words, not retried as a server problem.
    const saved = { ...process.env }
    for (const k of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
    ])
      delete process.env[k]
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent'
    process.env.AWS_CONFIG_FILE = '/nonexistent'
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
    try {
      const anon = new DirectS3Store({
        bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
      })
      const engine = testEngine({
        store: anon,
        stateDir: stateDir('creds-none'),
        preferredPartSize: 5 * MiB,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const snap = engine.get(s!.id)!
      expect(snap.error?.code).toBe('NoCredentials')
      expect(snap.error?.message).toMatch(/No S3 credentials were found/)
      await engine.close()
    } finally {
      process.env = saved
    }
    // A bad file does not stop the good one behind it.
    const empty = join(tmp.dir, 'empty.mp4')
    await writeFile(empty, '')
    const engine = testEngine({ store: directStore(bucket), stateDir: stateDir('mixed') })
    const [bad, good] = await engine.add([{ path: empty }, { path: file }])
    await engine.whenIdle()
    expect(engine.get(bad!.id)!.error!.code).toBe('FileEmpty')
    expect(engine.get(good!.id)!.state).toBe('done')
    await engine.close()
  })

  it('sends encryption and storage-class options to the server (Swift refuses both, in plain words)', async () => {
    const file = await randomFile(join(tmp.dir, 'opts.mp4'), 6 * MiB)
    const cases = [
      [
        { sse: 'AES256' as const },
        /does not support a setting in use \(Server-side encryption is not supported\)/,
      ],
      [
        { storageClass: 'STANDARD_IA' },
        /does not support a setting in use \(The storage class you specified is not valid\)/,
      ],
    ] as const
    for (const [objectOptions, message] of cases) {
      const engine = testEngine({
        store: directStore(bucket),
        stateDir: stateDir('opts-' + Object.keys(objectOptions)[0]),
        preferredPartSize: 5 * MiB,
        objectOptions,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      expect(engine.get(s!.id)!.error?.message).toMatch(message)
      await engine.close()
    }
    const ok = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('opts-std'),
      objectOptions: { storageClass: 'STANDARD', acl: 'private' },
    })
    const [s] = await ok.add([{ path: file }])
    await ok.whenIdle()
    expect(ok.get(s!.id)!.state).toBe('done')
    await ok.close()
  })

  it('uploads a folder with nested dirs, skipping junk, keeping the relative folder in the key', async () => {
    const root = join(tmp.dir, 'shoot')
    await mkdir(join(root, 'day 1', 'cam A'), { recursive: true })
    await mkdir(join(root, '.cache'), { recursive: true })
    await randomFile(join(root, 'day 1', 'cam A', 'a.mp4'), 1000)
    await randomFile(join(root, 'day 1', 'b.MOV'), 2000)
    await randomFile(join(root, 'c.mkv'), 3000)
    await writeFile(join(root, '.DS_Store'), 'junk')
    await writeFile(join(root, 'day 1', 'notes.txt'), 'junk')
    await writeFile(join(root, '.cache', 'x.mp4'), 'junk')
    const scan = await scanInputs([root], { allFileTypes: false })
    expect(scan.files.map((f) => [f.relativeDir, f.path.slice(root.length + 1)])).toEqual([
      ['shoot', 'c.mkv'],
      ['shoot/day 1', 'day 1/b.MOV'],
      ['shoot/day 1/cam A', 'day 1/cam A/a.mp4'],
    ])
    expect(scan.skipped.map((s) => s.path.slice(root.length + 1)).sort()).toEqual([
      '.DS_Store',
      '.cache',
      'day 1/notes.txt',
    ])
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('folder'),
      keyTemplate: 'uploads/{relativeDir}/{filename}',
    })
    await engine.add(scan.files)
    await engine.whenIdle()
    const keys = engine.list().map((s) => [s.state, s.key])
    expect(keys).toEqual([
      ['done', 'uploads/shoot/c.mkv'],
      ['done', 'uploads/shoot/day 1/b.MOV'],
      ['done', 'uploads/shoot/day 1/cam A/a.mp4'],
    ])
    await engine.close()
    await rm(root, { recursive: true })
  })
})
