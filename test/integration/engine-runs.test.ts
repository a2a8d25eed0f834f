/**
 * Runs of one file that meet each other, on the real S3 server: a Resume right after a Pause
 * while CreateMultipartUpload is on its way, pause/resume cycles while the locks are being taken,
 * two engines (the app and the CLI) on one state folder given the same file, and Cancel or
 * Remove while the network is down. Each ends with one object, byte-identical, and nothing left
 * behind: no open multipart upload, no journal record, nothing a later resume would send again.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { nodeJournalFs } from '../../src/main/core/journal/journal-fs'
import { emptyBucket } from '../support/bucket-cleanup'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { NetworkLink } from '../support/fault-proxy'
import { S3Proxy, type ProxyRequestInfo } from '../support/proxy'
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

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-runs')
  tmp = await tempDir('upreel-runs-')
  proxy = new S3Proxy(testServer().endpoint)
  proxyUrl = await proxy.start()
})
afterAll(async () => {
  await proxy?.stop()
  if (bucket) await emptyBucket(client, bucket).catch(() => undefined)
  await tmp?.cleanup()
})

const stateDir = (name: string) => join(tmp.dir, 'state-' + name)
const isCreate = (r: ProxyRequestInfo) =>
  r.method === 'POST' && r.url.includes('uploads') && !r.uploadId

async function objectsUnder(prefix: string): Promise<string[]> {
  const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
  return (res.Contents ?? []).map((o) => o.Key!)
}

/** One object under `prefix`, the file's bytes; no open upload; no record; nothing to resume. */
async function expectOneCopy(engine: UploadEngine, prefix: string, file: string, key: string) {
  expect(await objectsUnder(prefix)).toEqual([key])
  expect(await sha256OfObject(client, bucket, key)).toBe(await sha256OfFile(file))
  expect(await openUploads(client, bucket, prefix)).toEqual([])
  expect(await engine.records()).toEqual([])
}

describe('a run stopped while preparing and the next run of the same file', () => {
  it('Pause during CreateMultipartUpload, then Resume: the next run waits for it and continues its upload; no second copy, nothing left', async () => {
    const file = await randomFile(join(tmp.dir, 'overlap.mp4'), 12 * MiB)
    const dir = stateDir('overlap')
    // The first CreateMultipartUpload reaches S3 800 ms late: the Pause lands while it is on its way.
    let seen!: () => void
    const createSeen = new Promise<void>((r) => (seen = r))
    let held = 0
    proxy.decide = (r) => {
      if (!isCreate(r)) return { kind: 'pass' }
      seen()
      return held++ === 0 ? { kind: 'stall', ms: 800 } : { kind: 'pass' }
    }
    const mark = proxy.requests.length
    try {
      const engine = testEngine({
        store: directStore(bucket, proxyUrl),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
        keyTemplate: 'overlap/{uuid}/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      await createSeen
      await engine.pause(s!.id)
      engine.resume(s!.id)
      await engine.whenIdle()
      // Every create answered, and every preparation ended (close waits for them).
      await Promise.all(
        proxy.requests
          .slice(mark)
          .filter(isCreate)
          .map((r) => r.upstream),
      )
      await engine.close()
      const done = engine.get(s!.id)!
      expect(done.state, done.error?.message).toBe('done')
      await expectOneCopy(engine, 'overlap/', file, done.key!)
      // The resumed run continued the upload the paused one had opened.
      expect(proxy.requests.slice(mark).filter(isCreate)).toHaveLength(1)
      // Nothing for a later start to resume (and upload a second time).
      const next = testEngine({ store: directStore(bucket), stateDir: dir })
      expect(await next.interrupted()).toEqual([])
      await next.close()
    } finally {
      proxy.decide = () => ({ kind: 'pass' })
    }
  })

  it('two quick pause/resume cycles while the locks are being taken: uploads, never fails on its own lock', async () => {
    const file = await randomFile(join(tmp.dir, 'cycles.mp4'), 6 * MiB)
    // The first lock file's link waits until the cycles are done (a slow disk).
    let linked!: () => void
    const linking = new Promise<void>((r) => (linked = r))
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    const link = nodeJournalFs.link
    let gated = false
    nodeJournalFs.link = async (from, to) => {
      if (!gated && to.endsWith('.lock')) {
        gated = true
        linked()
        await gate
      }
      return link(from, to)
    }
    try {
      const engine = testEngine({
        store: directStore(bucket),
        stateDir: stateDir('cycles'),
        preferredPartSize: 5 * MiB,
        keyTemplate: 'cycles/{uuid}/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      await linking
      await engine.pause(s!.id)
      engine.resume(s!.id)
      await waitFor(engine, s!.id, (x) => x.state === 'preparing')
      await engine.pause(s!.id)
      engine.resume(s!.id)
      open()
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      await expectOneCopy(engine, 'cycles/', file, done.key!)
      await engine.close()
    } finally {
      open()
      nodeJournalFs.link = link
    }
  })
})

describe('two engines on one state folder (the app and the CLI) given the same file', () => {
  it('Retry after "Locked", once the other has stopped, continues its upload: no second copy, no finished part sent again', async () => {
    const file = await randomFile(join(tmp.dir, 'takeover.mp4'), 20 * MiB)
    const dir = stateDir('takeover')
    const engines = [0, 1].map(() =>
      testEngine({
        store: directStore(bucket, proxyUrl),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 8 * MiB,
        keyTemplate: 'takeover/{uuid}/{filename}',
      }),
    )
    // Both are given the file before either has written its record (the first record write
    // waits until both have added it), so each row has its own id.
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    const fsOpen = nodeJournalFs.open
    nodeJournalFs.open = async (path, flags) => {
      if (/\.jsonl\.[0-9a-f]+\.tmp$/.test(path)) await gate
      return fsOpen(path, flags)
    }
    let rows
    try {
      rows = await Promise.all(engines.map((e) => e.add([{ path: file }])))
    } finally {
      open()
      nodeJournalFs.open = fsOpen
    }
    const ids = rows.map(([s]) => s!.id)
    expect(ids[0]).not.toBe(ids[1])
    const settled = await Promise.all(
      engines.map((e, i) => waitFor(e, ids[i]!, (x) => x.state === 'failed' || x.partsDone >= 1)),
    )
    const loserAt = settled.findIndex((x) => x.state === 'failed')
    expect(loserAt).toBeGreaterThanOrEqual(0)
    const [winner, loser] = loserAt === 0 ? [engines[1]!, engines[0]!] : [engines[0]!, engines[1]!]
    const loserId = ids[loserAt]!
    expect(settled[loserAt]!.error!.code).toBe('Locked')
    expect(settled[1 - loserAt]!.state).not.toBe('failed')

    // The other one stops (Ctrl-C, quit): its record and open upload stay.
    await winner.close()
    const [left] = await loser.records()
    expect(left!.uploadId).toBeDefined()
    const journaled = new Set(left!.parts.map((p) => p.n))
    expect(journaled.size).toBeGreaterThanOrEqual(1)
    const mark = proxy.requests.length

    loser.setBandwidthLimit(0)
    loser.retry(loserId)
    await loser.whenIdle()
    const done = loser.get(loserId)!
    expect(done.state, done.error?.message).toBe('done')
    expect(done.key).toBe(left!.key)
    const after = proxy.requests.slice(mark)
    expect(after.filter(isCreate)).toEqual([])
    const sent = after.filter((r) => r.method === 'PUT' && r.partNumber !== undefined)
    expect(sent.every((r) => r.uploadId === left!.uploadId)).toBe(true)
    expect(sent.filter((r) => journaled.has(r.partNumber!))).toEqual([])
    await expectOneCopy(loser, 'takeover/', file, left!.key)
    await loser.close()
  })

  it('Retry after "Locked" once the other has finished it: shown as done, nothing sent again', async () => {
    const file = await randomFile(join(tmp.dir, 'finished.mp4'), 12 * MiB)
    const dir = stateDir('finished')
    const make = () =>
      testEngine({
        store: directStore(bucket, proxyUrl),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 8 * MiB,
        keyTemplate: 'finished/{uuid}/{filename}',
      })
    const first = make()
    const second = make()
    const [a] = await first.add([{ path: file }])
    await waitFor(first, a!.id, (x) => x.partsDone >= 1)
    // The second is given the file while the first uploads it: it takes the first's record.
    const [b] = await second.add([{ path: file }])
    expect(b!.id).toBe(a!.id)
    const lost = await waitFor(second, b!.id, (x) => x.state === 'failed')
    expect(lost.error!.code).toBe('Locked')

    first.setBandwidthLimit(0)
    await first.whenIdle()
    const uploaded = first.get(a!.id)!
    expect(uploaded.state).toBe('done')
    const mark = proxy.requests.length

    second.retry(b!.id)
    await second.whenIdle()
    const done = second.get(b!.id)!
    expect(done.state, done.error?.message).toBe('done')
    expect(done.notice).toMatch(/Another Upreel process uploaded this file meanwhile/)
    expect(done.key).toBe(uploaded.key)
    expect(proxy.requests.slice(mark)).toEqual([])
    await expectOneCopy(second, 'finished/', file, uploaded.key!)
    await Promise.all([first.close(), second.close()])
  })
})

describe('Cancel and Remove while the network is down', () => {
  it('Cancel: cancelled at once, the record marked; the upload is aborted and forgotten when the network is back', async () => {
    const link = new NetworkLink(testServer().endpoint)
    const url = await link.start()
    try {
      const file = await randomFile(join(tmp.dir, 'offline-cancel.mp4'), 20 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: stateDir('offline-cancel'),
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 8 * MiB,
        keyTemplate: 'offline-cancel/{uuid}/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      const mid = await waitFor(engine, s!.id, (x) => x.partsDone >= 1)
      await link.down('refuse')
      // Before, this waited for the network for as long as it was down.
      await engine.cancel(s!.id)
      expect(engine.get(s!.id)!.state).toBe('cancelled')
      const [marked] = await engine.records()
      expect(marked).toMatchObject({ status: 'cancelled', key: mid.key })
      // The background attempt ends (retried, not waiting for the network); the row says so.
      await engine.whenIdle()
      const row = engine.get(s!.id)!
      expect(row.state).toBe('cancelled')
      expect(row.notice).toMatch(
        /^Cancelled, but what was already sent could not be deleted from the storage yet \(.+\)\. Upreel tries again when the network is back and each time it starts\.$/,
      )
      expect(await engine.interrupted()).toEqual([])
      expect(await openUploads(client, bucket, mid.key)).toHaveLength(1)

      // The app's "online" event.
      await link.up()
      engine.retryNow()
      await engine.whenIdle()
      expect(engine.get(s!.id)!.notice).toBeUndefined()
      expect(await engine.records()).toEqual([])
      expect(await openUploads(client, bucket, 'offline-cancel/')).toEqual([])
      expect(await objectsUnder('offline-cancel/')).toEqual([])
      await engine.close()
    } finally {
      await link.stop()
    }
  })

  it('Remove, then quit while still offline: the next start aborts the upload and forgets it; it is never offered for resume', async () => {
    const link = new NetworkLink(testServer().endpoint)
    const url = await link.start()
    const dir = stateDir('offline-remove')
    try {
      const file = await randomFile(join(tmp.dir, 'offline-remove.mp4'), 20 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 8 * MiB,
        keyTemplate: 'offline-remove/{uuid}/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      const mid = await waitFor(engine, s!.id, (x) => x.partsDone >= 1)
      await link.down('refuse')
      await engine.remove(s!.id)
      expect(engine.list()).toEqual([])
      await engine.close()
      expect(await engine.records()).toEqual([
        expect.objectContaining({ status: 'cancelled', key: mid.key }),
      ])

      // Still offline: `upreel abort` (or Discard) says what it could not do, and keeps the mark.
      const cli = testEngine({ store: directStore(bucket, url), stateDir: dir })
      await expect(cli.abortInterrupted(s!.id)).rejects.toThrow(
        /could not be deleted from the storage yet/,
      )
      await cli.close()
      expect(await openUploads(client, bucket, mid.key)).toHaveLength(1)

      await link.up()
      const next = testEngine({ store: directStore(bucket, url), stateDir: dir })
      expect(await next.interrupted()).toEqual([])
      await next.whenIdle()
      expect(await next.records()).toEqual([])
      expect(await openUploads(client, bucket, 'offline-remove/')).toEqual([])
      await next.close()
    } finally {
      await link.stop()
    }
  })

  it('"Clean up incomplete uploads" finishes a cancelled record whatever its age', async () => {
    const link = new NetworkLink(testServer().endpoint)
    const url = await link.start()
    const dir = stateDir('offline-cleanup')
    try {
      const file = await randomFile(join(tmp.dir, 'offline-cleanup.mp4'), 20 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: dir,
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 8 * MiB,
        keyTemplate: 'offline-cleanup/{uuid}/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      const mid = await waitFor(engine, s!.id, (x) => x.partsDone >= 1)
      await link.down('refuse')
      await engine.cancel(s!.id)
      await engine.close()
      await link.up()
      const cleaner = testEngine({ store: directStore(bucket, url), stateDir: dir })
      const report = await cleaner.cleanup({ olderThanMs: 7 * 24 * 3600_000 })
      expect(report.journalRecords).toEqual([
        { id: s!.id, path: file, key: mid.key, aborted: true },
      ])
      expect(report.kept).toEqual([])
      expect(await cleaner.records()).toEqual([])
      expect(await openUploads(client, bucket, 'offline-cleanup/')).toEqual([])
      await cleaner.close()
    } finally {
      await link.stop()
    }
  })
})
