/**
 * Resume, cancel and cleanup when things go wrong around them, on the real S3 server (and the
 * real reference backend): the network down when an interrupted upload resumes, a backend's
 * ambiguous answers to ListParts, a pause while an old upload's abort waits for the network, a
 * crash right after Complete in backend mode, files rewritten mid-upload, servers that store
 * something other than what was sent, records of another destination, old records.
 */
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { utimesSync } from 'node:fs'
import { open, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { multipartEtag } from '../../src/main/core/engine/file-upload'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import type { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import type { JournalRecord } from '../../src/main/core/journal/types'
import { nodeFileSource } from '../../src/main/core/node-adapters'
import type { FileSource, ObjectStore } from '../../src/main/core/ports'
import { startTestBackend, type TestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { FaultProxy, NetworkLink } from '../support/fault-proxy'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const MiB = 1024 * 1024
const DAY_MS = 24 * 3600_000

const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-resume')
  tmp = await tempDir('upreel-resume-')
})
afterAll(async () => {
  if (bucket)
    await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
  await tmp?.cleanup()
})

const stateDir = (name: string) => join(tmp.dir, 'state-' + name)

/** A counting proxy in front of S3 (every request the engine or the backend sends is seen). */
async function s3Counter(): Promise<{ proxy: FaultProxy; url: string }> {
  const proxy = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
  return { proxy, url: await proxy.start() }
}

/** Uploads `minParts` parts of `file` with a first engine, then closes it (an interruption). */
async function interrupt(
  store: ObjectStore,
  dir: string,
  file: string,
  minParts = 2,
): Promise<{ id: string; record: JournalRecord }> {
  const first = testEngine({
    store,
    stateDir: dir,
    preferredPartSize: 5 * MiB,
    concurrency: 1,
    bandwidthLimit: 20 * MiB,
  })
  const [s] = await first.add([{ path: file }])
  await waitFor(first, s!.id, (x) => x.partsDone >= minParts || x.state === 'failed')
  expect(first.get(s!.id)!.error).toBeUndefined()
  await first.close()
  const record = (await first.records()).find((r) => r.id === s!.id)
  return { id: s!.id, record: record! }
}

/** Part PUTs after `mark` of parts the record had journaled (they must never be sent again). */
function resent(proxy: FaultProxy, mark: number, record: JournalRecord) {
  const journaled = new Set(record.parts.map((p) => p.n))
  return proxy.requests
    .slice(mark)
    .filter(
      (r) =>
        r.op === 'UploadPart' && r.uploadId === record.uploadId && journaled.has(r.partNumber!),
    )
}

async function expectDone(engine: UploadEngine, id: string, file: string): Promise<UploadSnapshot> {
  const done = engine.get(id)!
  expect(done.error).toBeUndefined()
  expect(done.state).toBe('done')
  expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
  return done
}

describe('resume meets the network down, or a hiccup, at ListParts', () => {
  for (const mode of ['direct', 'backend'] as const) {
    it(`${mode} mode: resuming while the network is down waits, then continues without re-sending a finished part`, async () => {
      const s3 = await s3Counter()
      let backend: TestBackend | undefined
      let link: NetworkLink
      let storeFor: () => ObjectStore
      if (mode === 'backend') {
        backend = await startTestBackend({ bucket, s3Endpoint: s3.url })
        link = new NetworkLink(backend.url)
        const url = await link.start()
        storeFor = () => createCompanionStore({ baseUrl: url, headers: backend!.auth() })
      } else {
        link = new NetworkLink(s3.url)
        const url = await link.start()
        storeFor = () => directStore(bucket, url)
      }
      try {
        const file = await randomFile(join(tmp.dir, `offline-${mode}.mp4`), 25 * MiB)
        const dir = stateDir(`offline-${mode}`)
        const { id, record } = await interrupt(storeFor(), dir, file)
        // After a reboot, before Wi-Fi is up: the app resumes every interrupted upload.
        await link.down('refuse')
        const mark = s3.proxy.requests.length
        const second = testEngine({ store: storeFor(), stateDir: dir, preferredPartSize: 5 * MiB })
        await second.resumeInterrupted()
        const waiting = await waitFor(
          second,
          id,
          (x) => x.state === 'failed' || /network|not answering|reach/i.test(x.notice ?? ''),
        )
        expect(waiting.error).toBeUndefined()
        expect(waiting.state).toBe('preparing')
        await link.up()
        await second.whenIdle()
        const done = await expectDone(second, id, file)
        expect(done.notice).toBeUndefined()
        expect(resent(s3.proxy, mark, record)).toEqual([])
        expect(await openUploads(client, bucket, record.key)).toEqual([])
        await second.close()
      } finally {
        await link.stop()
        await backend?.close()
        await s3.proxy.stop()
      }
    })

    it(`${mode} mode: one 503 on ListParts is retried and the upload continues where it stopped`, async () => {
      const s3 = await s3Counter()
      let backend: TestBackend | undefined
      let front = s3
      if (mode === 'backend') {
        backend = await startTestBackend({ bucket, s3Endpoint: s3.url })
        const p = new FaultProxy(backend.url, { seed: 1, rates: {} })
        front = { proxy: p, url: await p.start() }
      }
      const storeFor = () =>
        backend
          ? createCompanionStore({ baseUrl: front.url, headers: backend.auth() })
          : directStore(bucket, front.url)
      try {
        const file = await randomFile(join(tmp.dir, `list503-${mode}.mp4`), 20 * MiB)
        const dir = stateDir(`list503-${mode}`)
        const { id, record } = await interrupt(storeFor(), dir, file)
        const listOp = mode === 'backend' ? 'backend:list' : 'ListParts'
        front.proxy.configure({
          script: (r) =>
            r.op !== listOp || r.nth > 0
              ? undefined
              : mode === 'backend'
                ? { status: 503, body: 'Service Unavailable', contentType: 'text/plain' }
                : 'slowdown503',
        })
        const mark = s3.proxy.requests.length
        const second = testEngine({ store: storeFor(), stateDir: dir, preferredPartSize: 5 * MiB })
        await second.resumeInterrupted()
        await second.whenIdle()
        const done = await expectDone(second, id, file)
        expect(done.notice).toBeUndefined()
        expect(front.proxy.requests.filter((r) => r.op === listOp).map((r) => r.status)).toEqual([
          503, 200,
        ])
        expect(resent(s3.proxy, mark, record)).toEqual([])
        await second.close()
      } finally {
        if (front !== s3) await front.proxy.stop()
        await backend?.close()
        await s3.proxy.stop()
      }
    })
  }
})

describe('backend mode: what a failing ListParts of an old upload means', () => {
  let s3: Awaited<ReturnType<typeof s3Counter>>
  let backend: TestBackend
  let front: FaultProxy
  let frontUrl: string
  beforeAll(async () => {
    s3 = await s3Counter()
    backend = await startTestBackend({ bucket, s3Endpoint: s3.url })
    front = new FaultProxy(backend.url, { seed: 1, rates: {} })
    frontUrl = await front.start()
  })
  afterAll(async () => {
    await front?.stop()
    await backend?.close()
    await s3?.proxy.stop()
  })
  const storeFor = () => createCompanionStore({ baseUrl: frontUrl, headers: backend.auth() })

  it('a proxy’s 502s while the backend restarts are waited out: the same upload continues', async () => {
    const file = await randomFile(join(tmp.dir, 'list502.mp4'), 20 * MiB)
    const dir = stateDir('list502')
    const { id, record } = await interrupt(storeFor(), dir, file)
    front.reset()
    // More 502s than the 3 failures that used to abort the old upload and start over.
    front.configure({
      script: (r) =>
        r.op === 'backend:list' && r.nth < 5
          ? { status: 502, body: '<html><h1>502 Bad Gateway</h1></html>' }
          : undefined,
    })
    const mark = s3.proxy.requests.length
    const second = testEngine({
      store: storeFor(),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      retry: { maxAttempts: 8, baseDelayMs: 20, maxDelayMs: 200 },
    })
    try {
      await second.resumeInterrupted()
      await second.whenIdle()
      const done = await expectDone(second, id, file)
      expect(done.notice).toBeUndefined()
      expect(done.key).toBe(record.key)
      expect(
        front.requests.filter((r) => r.op === 'backend:create' || r.op === 'backend:abort'),
      ).toEqual([])
      expect(resent(s3.proxy, mark, record)).toEqual([])
    } finally {
      front.configure({ script: undefined })
      await second.close()
    }
  })

  it('Companion’s generic 500, past the whole retry budget: the old upload is aborted and the file restarts, saying what happened', async () => {
    const file = await randomFile(join(tmp.dir, 'list500.mp4'), 20 * MiB)
    const dir = stateDir('list500')
    const { id, record } = await interrupt(storeFor(), dir, file)
    front.reset()
    front.configure({
      script: (r) =>
        r.op === 'backend:list'
          ? {
              status: 500,
              body: '{"message":"Something went wrong"}',
              contentType: 'application/json; charset=utf-8',
            }
          : undefined,
    })
    const second = testEngine({
      store: storeFor(),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 },
    })
    try {
      await second.resumeInterrupted()
      await second.whenIdle()
      const done = await expectDone(second, id, file)
      // In words a creator reads: not the server's "Something went wrong", nor a count of tries.
      expect(done.notice).toBe(
        'The upload server could not find what was already sent of this file (most likely it expired), so Upreel is uploading the file again from the beginning.',
      )
      // Every attempt of the budget, not fewer.
      expect(front.requests.filter((r) => r.op === 'backend:list')).toHaveLength(4)
      expect(done.key).not.toBe(record.key)
      // The old upload was aborted, not orphaned.
      expect(await openUploads(client, bucket, record.key)).toEqual([])
      expect(await openUploads(client, bucket)).toEqual([])
    } finally {
      front.configure({ script: undefined })
      await second.close()
    }
  })

  it('a crash right after Complete (the backend answers 404 to a listing of it): completes again, no duplicate, no part re-sent', async () => {
    const file = await randomFile(join(tmp.dir, 'completed-be.mp4'), 12 * MiB)
    const dir = stateDir('completed-be')
    // The first run gets every part stored, then its Complete is refused: the record keeps
    // every part, as a kill right after Complete would leave it.
    front.reset()
    front.configure({
      script: (r) =>
        r.op === 'backend:complete'
          ? { status: 400, body: '{"error":"held by the test"}', contentType: 'application/json' }
          : undefined,
    })
    const first = testEngine({ store: storeFor(), stateDir: dir, preferredPartSize: 5 * MiB })
    const [s] = await first.add([{ path: file }])
    await first.whenIdle()
    expect(first.get(s!.id)!.state).toBe('failed')
    await first.close()
    front.configure({ script: undefined })
    const [record] = await first.records()
    expect(record!.parts).toHaveLength(3)
    // Completed behind the journal's back (what the killed process had sent).
    const completed = await createCompanionStore({
      baseUrl: backend.url,
      headers: backend.auth(),
    }).complete(
      { key: record!.key, uploadId: record!.uploadId! },
      record!.parts.map((p) => ({ partNumber: p.n, etag: p.etag })),
    )
    expect(completed.key).toBe(record!.key)
    const mark = s3.proxy.requests.length
    const second = testEngine({ store: storeFor(), stateDir: dir, preferredPartSize: 5 * MiB })
    try {
      await second.resumeInterrupted()
      await second.whenIdle()
      const done = await expectDone(second, s!.id, file)
      expect(done.notice).toBeUndefined()
      expect(done.key).toBe(record!.key)
      expect(done.etag).toBe(multipartEtag(record!.parts.map((p) => p.md5)))
      expect(s3.proxy.requests.slice(mark).filter((r) => r.op === 'UploadPart')).toEqual([])
      expect(await second.records()).toEqual([])
      // One object for the file, not a second copy under a new key.
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'users/alice/' }),
      )
      const copies = (listed.Contents ?? []).filter((o) => o.Key!.endsWith('/completed-be.mp4'))
      expect(copies.map((o) => o.Key)).toEqual([record!.key])
      expect(await openUploads(client, bucket)).toEqual([])
    } finally {
      await second.close()
    }
  })
})

describe('pause and close stop an abort that waits for the network', () => {
  it('the source changed, the network is down: pause → paused, close resolves, the record stays; the next run aborts the old upload', async () => {
    const s3 = await s3Counter()
    const link = new NetworkLink(s3.url)
    const url = await link.start()
    try {
      const file = await randomFile(join(tmp.dir, 'abort-offline.mp4'), 25 * MiB)
      const dir = stateDir('abort-offline')
      const { id, record } = await interrupt(directStore(bucket, url), dir, file)
      await writeFile(file, randomBytes(26 * MiB))
      await link.down('refuse')
      const second = testEngine({
        store: directStore(bucket, url),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
      })
      await second.resumeInterrupted()
      const waiting = await waitFor(
        second,
        id,
        (x) => x.state === 'failed' || /not answering|network/i.test(x.notice ?? ''),
      )
      expect(waiting.state).toBe('preparing')
      await second.pause(id)
      expect(second.get(id)!.state).toBe('paused')
      // Resolves only once the preparation stopped waiting (it hung for good before).
      await second.close()
      const [kept] = await second.records()
      expect(kept?.uploadId).toBe(record.uploadId)
      expect(await openUploads(client, bucket, record.key)).toHaveLength(1)

      await link.up()
      const third = testEngine({
        store: directStore(bucket, url),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
      })
      await third.resumeInterrupted()
      await third.whenIdle()
      const done = await expectDone(third, id, file)
      expect(done.notice).toMatch(/changed since the upload started/)
      expect(await openUploads(client, bucket, record.key)).toEqual([])
      await third.close()
    } finally {
      await link.stop()
      await s3.proxy.stop()
    }
  })
})

describe('cancel, remove and cleanup of an upload recorded for another destination', () => {
  it('cancel and remove refuse in plain words and keep the record; the upload stays until its destination cancels it', async () => {
    const s3 = await s3Counter()
    try {
      const file = await randomFile(join(tmp.dir, 'elsewhere.mp4'), 20 * MiB)
      const dir = stateDir('elsewhere')
      const { id, record } = await interrupt(directStore(bucket), dir, file)
      // The same server through another address: another destination for the journal.
      const other = testEngine({ store: directStore(bucket, s3.url), stateDir: dir })
      await other.resumeInterrupted()
      await other.whenIdle()
      expect(other.get(id)!.error!.code).toBe('DestinationChanged')
      await expect(other.cancel(id)).rejects.toThrow(/Switch back to that destination/)
      await expect(other.remove(id)).rejects.toThrow(/Switch back to that destination/)
      expect((await other.records()).map((r) => r.uploadId)).toEqual([record.uploadId])
      expect(await openUploads(client, bucket, record.key)).toHaveLength(1)
      await other.close()

      // Cleanup at the other destination keeps it too, and says why.
      const cleaner = testEngine({ store: directStore(bucket, s3.url), stateDir: dir })
      const report = await cleaner.cleanup({ olderThanMs: 0 })
      expect(report.journalRecords).toEqual([])
      expect(report.kept).toEqual([
        expect.objectContaining({ id, reason: expect.stringMatching(/started to .*clean up/) }),
      ])
      expect(await cleaner.records()).toHaveLength(1)
      expect(await openUploads(client, bucket, record.key)).toHaveLength(1)
      await cleaner.close()

      const home = testEngine({ store: directStore(bucket), stateDir: dir })
      await home.abortInterrupted(id)
      expect(await home.records()).toEqual([])
      expect(await openUploads(client, bucket, record.key)).toEqual([])
      await home.close()
    } finally {
      await s3.proxy.stop()
    }
  })
})

describe('cleanup', () => {
  it('aborts records older than the threshold; keeps recent and locked ones, and the queue’s uploads', async () => {
    const dir = stateDir('cleanup')
    const journal = new FileJournal(dir)
    const interrupted: Record<string, JournalRecord> = {}
    for (const name of ['old', 'recent', 'locked']) {
      const file = await randomFile(join(tmp.dir, `cleanup-${name}.mp4`), 12 * MiB)
      interrupted[name] = (await interrupt(directStore(bucket), dir, file, 1)).record
    }
    const { old, recent, locked } = interrupted as Record<string, JournalRecord>
    const aged = Date.now() - 10 * DAY_MS
    await journal.write({ ...old!, updatedAt: aged })
    await journal.write({ ...locked!, updatedAt: aged })
    // Held by another live process of this machine (our parent, vitest's main process).
    await writeFile(
      join(dir, 'uploads', `${locked!.id}.lock`),
      JSON.stringify({ pid: process.ppid, host: hostname(), at: Date.now() }),
    )
    const engine = testEngine({ store: directStore(bucket), stateDir: dir })
    try {
      const report = await engine.cleanup({ olderThanMs: 7 * DAY_MS })
      expect(report.journalRecords).toEqual([
        { id: old!.id, path: old!.source.path, key: old!.key, aborted: true },
      ])
      expect(report.kept).toEqual([])
      expect(await openUploads(client, bucket, old!.key)).toEqual([])
      expect(await openUploads(client, bucket, recent!.key)).toHaveLength(1)
      expect(await openUploads(client, bucket, locked!.key)).toHaveLength(1)
      expect((await engine.records()).map((r) => r.id).sort()).toEqual(
        [recent!.id, locked!.id].sort(),
      )

      // A row in the queue whose record is gone from disk meanwhile: --server must know its
      // upload from the queue itself, not take it for an orphan.
      await rm(join(dir, 'uploads', `${locked!.id}.lock`))
      const [row] = await engine.resumeInterrupted([recent!.id])
      await waitFor(engine, row!.id, (x) => x.state === 'uploading' || x.state === 'failed')
      await engine.pause(row!.id)
      await rm(join(dir, 'uploads', `${recent!.id}.jsonl`))
      const server = await engine.cleanup({ olderThanMs: 0, server: true })
      expect(server.serverUploads.map((u) => u.uploadId)).not.toContain(recent!.uploadId)
      expect(await openUploads(client, bucket, recent!.key)).toHaveLength(1)
      // The locked record (unlocked now, still on disk) is known as well.
      expect(server.serverUploads.map((u) => u.uploadId)).not.toContain(locked!.uploadId)
    } finally {
      await engine.close()
    }
  })

  it('a record of another destination is kept and reported, its upload left alone', async () => {
    const dir = stateDir('cleanup-foreign')
    const journal = new FileJournal(dir)
    const file = await randomFile(join(tmp.dir, 'cleanup-foreign.mp4'), 12 * MiB)
    const key = `videos/foreign/${Date.now()}/cleanup-foreign.mp4`
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    )
    const st = await stat(file)
    await journal.write({
      v: 1,
      id: 'foreign-1',
      source: { path: file, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), fingerprint: 'x' },
      relativeDir: '',
      destination: { id: 's3:https://elsewhere.example/videos', label: 'elsewhere' },
      bucket,
      key,
      uploadId: created.UploadId!,
      partSize: 5 * MiB,
      partCount: 3,
      contentType: 'video/mp4',
      metadata: {},
      options: {},
      status: 'paused',
      parts: [],
      createdAt: Date.now() - 30 * DAY_MS,
      updatedAt: Date.now() - 30 * DAY_MS,
    })
    const engine = testEngine({ store: directStore(bucket), stateDir: dir })
    try {
      const report = await engine.cleanup({ olderThanMs: 7 * DAY_MS })
      expect(report.journalRecords).toEqual([])
      expect(report.kept).toEqual([
        { id: 'foreign-1', path: file, key, reason: expect.stringMatching(/started to elsewhere/) },
      ])
      expect(await engine.records()).toHaveLength(1)
      expect(await openUploads(client, bucket, key)).toHaveLength(1)
    } finally {
      await engine.close()
    }
  })
})

describe('files rewritten under the upload', () => {
  it('rewritten between the check before a part is read and the read: fails as changed, that part is never sent', async () => {
    const s3 = await s3Counter()
    try {
      const size = 20 * MiB
      const file = await randomFile(join(tmp.dir, 'rewrite-race.mp4'), size)
      let rewritten = false
      // The rewrite lands just as part 2 is read: the check before the read saw the old file.
      const files: FileSource = {
        stat: (p) => nodeFileSource.stat(p),
        async open(p) {
          const f = await nodeFileSource.open(p)
          return {
            async read(buf, off, len, pos) {
              if (p === file && pos === 5 * MiB && !rewritten) {
                rewritten = true
                const fh = await open(file, 'r+')
                await fh.write(randomBytes(5 * MiB), 0, 5 * MiB, 5 * MiB)
                await fh.close()
                await utimes(file, new Date(), new Date(Date.now() + 5000))
              }
              return f.read(buf, off, len, pos)
            },
            close: () => f.close(),
          }
        },
      }
      const engine = testEngine({
        store: directStore(bucket, s3.url),
        stateDir: stateDir('rewrite-race'),
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        files,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const failed = engine.get(s!.id)!
      expect(rewritten).toBe(true)
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('SourceChanged')
      expect(
        s3.proxy.requests.filter((r) => r.op === 'UploadPart').map((r) => r.partNumber),
      ).toEqual([1])
      expect(s3.proxy.requests.filter((r) => r.op === 'CompleteMultipartUpload')).toEqual([])
      await engine.cancel(s!.id)
      await engine.close()
    } finally {
      await s3.proxy.stop()
    }
  })

  it('touched after its last part was read: Complete is not sent, the file fails as changed', async () => {
    const s3 = await s3Counter()
    try {
      const file = await randomFile(join(tmp.dir, 'touched.mp4'), 12 * MiB)
      // The last part's PUT reaching the server is after that part's checks: touch the file then.
      s3.proxy.configure({
        script: (r) => {
          if (r.op === 'UploadPart' && r.partNumber === 3 && r.nth === 0)
            utimesSync(file, new Date(), new Date(Date.now() + 5000))
          return undefined
        },
      })
      const engine = testEngine({
        store: directStore(bucket, s3.url),
        stateDir: stateDir('touched'),
        preferredPartSize: 5 * MiB,
        concurrency: 1,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const failed = engine.get(s!.id)!
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('SourceChanged')
      expect(s3.proxy.requests.filter((r) => r.op === 'CompleteMultipartUpload')).toEqual([])
      await expect(
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: failed.key! })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } })
      await engine.cancel(s!.id)
      await engine.close()
    } finally {
      await s3.proxy.stop()
    }
  })

  it('rewritten with the same size and mtime (only the fingerprint tells): restarts, saying why', async () => {
    const file = await randomFile(join(tmp.dir, 'same-stat.mp4'), 20 * MiB)
    const dir = stateDir('same-stat')
    const { id, record } = await interrupt(directStore(bucket), dir, file)
    const fh = await open(file, 'r+')
    await fh.write(randomBytes(MiB), 0, MiB, 0)
    await fh.close()
    // In seconds, half a millisecond in: a Date would round to the neighbouring millisecond.
    const mtime = (record.source.mtimeMs + 0.5) / 1000
    await utimes(file, mtime, mtime)
    const st = await stat(file)
    expect([st.size, Math.trunc(st.mtimeMs)]).toEqual([record.source.size, record.source.mtimeMs])
    const second = testEngine({
      store: directStore(bucket),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await second.resumeInterrupted()
    await second.whenIdle()
    const done = await expectDone(second, id, file)
    expect(done.notice).toMatch(/changed since the upload started \(its content changed\)/)
    expect(await openUploads(client, bucket, record.key)).toEqual([])
    await second.close()
  })
})

describe('a server that stored something other than what was sent', () => {
  it('a part whose ETag is not the MD5 of its bytes fails the file loudly; nothing is completed', async () => {
    const s3 = await s3Counter()
    s3.proxy.configure({
      rewriteEtag: (r) =>
        r.op === 'UploadPart' && r.partNumber === 2 ? '0'.repeat(32) : undefined,
    })
    try {
      const file = await randomFile(join(tmp.dir, 'bad-part.mp4'), 12 * MiB)
      const engine = testEngine({
        store: directStore(bucket, s3.url),
        stateDir: stateDir('bad-part'),
        preferredPartSize: 5 * MiB,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const failed = engine.get(s!.id)!
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('IntegrityMismatch')
      expect(failed.error!.message).toMatch(/part 2/)
      expect(s3.proxy.requests.filter((r) => r.op === 'CompleteMultipartUpload')).toEqual([])
      await engine.cancel(s!.id)
      await engine.close()
    } finally {
      await s3.proxy.stop()
    }
  })

  it('a Complete whose ETag is not md5(concat(part MD5s))-N fails the file loudly', async () => {
    const s3 = await s3Counter()
    s3.proxy.configure({
      rewriteEtag: (r, etag) =>
        r.op === 'CompleteMultipartUpload'
          ? etag.replace(/^[0-9a-f]{32}/, 'f'.repeat(32))
          : undefined,
    })
    try {
      const file = await randomFile(join(tmp.dir, 'bad-complete.mp4'), 12 * MiB)
      const engine = testEngine({
        store: directStore(bucket, s3.url),
        stateDir: stateDir('bad-complete'),
        preferredPartSize: 5 * MiB,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const failed = engine.get(s!.id)!
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('IntegrityMismatch')
      expect(failed.error!.message).toMatch(
        new RegExp(`ETag f{32}-3, expected [0-9a-f]{32}-3.*Do not rely on it`),
      )
      await engine.close()
    } finally {
      await s3.proxy.stop()
    }
  })
})
