import { appendFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OwnershipStore, type UploadRecord } from '../../src/backend/ownership'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upreel-owners-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const rec = (uploadId: string, userId = 'alice'): UploadRecord => ({
  uploadId,
  key: `users/${userId}/${uploadId}/clip.mp4`,
  bucket: 'b',
  userId,
  contentType: 'video/mp4',
  sizeLimit: 100,
  createdAt: 1,
  state: 'open',
})

describe('OwnershipStore', () => {
  it('replays creates, completions and aborts after a reopen', async () => {
    const { store } = await OwnershipStore.open(dir)
    await store.add(rec('u1'))
    await store.add(rec('u2', 'bob'))
    await store.add(rec('u3'))
    await store.markCompleted('u1', { location: 'http://x', etag: '"e"' })
    await store.markAborted('u3')
    await store.close()

    const { store: again, skipped } = await OwnershipStore.open(dir)
    expect(skipped).toBe(0)
    expect(again.get('u1')).toMatchObject({
      userId: 'alice',
      state: 'completed',
      location: 'http://x',
      etag: '"e"',
    })
    expect(again.get('u2')).toMatchObject({ userId: 'bob', state: 'open' })
    expect(again.get('u3')?.state).toBe('aborted')
    expect(again.findByKey('users/bob/u2/clip.mp4')?.uploadId).toBe('u2')
    await again.close()
  })

  it('ignores a torn last line (crash mid-write) and keeps appending on a clean line', async () => {
    const { store } = await OwnershipStore.open(dir)
    await store.add(rec('u1'))
    await store.close()
    await appendFile(join(dir, 'uploads.jsonl'), '{"op":"create","uploadId":"u2","us')
    const { store: again, skipped } = await OwnershipStore.open(dir)
    expect(skipped).toBe(1)
    expect(again.get('u2')).toBeUndefined()
    await again.add(rec('u3'))
    await again.close()
    const lines = (await readFile(join(dir, 'uploads.jsonl'), 'utf8')).trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { uploadId: string }).uploadId)).toEqual(['u1', 'u3'])
  })

  it('appends concurrently without interleaving lines', async () => {
    const { store } = await OwnershipStore.open(dir)
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.add(rec(`u${i}`))))
    await store.close()
    const { store: again, skipped } = await OwnershipStore.open(dir)
    expect(skipped).toBe(0)
    expect(again.size).toBe(50)
    await again.close()
  })

  it('at open, drops finished records past the retention window and keeps every open one', async () => {
    const DAY = 86_400_000
    const now = Date.UTC(2026, 5, 1)
    const { store } = await OwnershipStore.open(dir)
    await store.add({ ...rec('old-open'), createdAt: now - 400 * DAY })
    await store.add(rec('old-done'))
    await store.add(rec('old-cancelled', 'bob'))
    await store.add(rec('recent-done'))
    await store.add(rec('open'))
    await store.markCompleted('old-done', { location: 'http://x/old', etag: '"o"' })
    await store.markAborted('old-cancelled')
    await store.markCompleted('recent-done', { location: 'http://x/recent', etag: '"r"' })
    await store.close()
    // Age the finished records as the clock would have: rewrite their finishing times.
    const path = join(dir, 'uploads.jsonl')
    const aged = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; uploadId: string; at?: number })
      .map((l) =>
        l.op === 'create'
          ? l
          : { ...l, at: l.uploadId.startsWith('old') ? now - 31 * DAY : now - DAY },
      )
    await rm(path)
    await appendFile(path, aged.map((l) => JSON.stringify(l) + '\n').join(''))

    const opened = await OwnershipStore.open(dir, { retainFinishedMs: 30 * DAY, now })
    expect(opened.pruned).toBe(2)
    expect(opened.store.get('old-done')).toBeUndefined()
    expect(opened.store.get('old-cancelled')).toBeUndefined()
    expect(opened.store.findByKey('users/alice/old-done/clip.mp4')).toBeUndefined()
    expect(opened.store.get('old-open')).toMatchObject({ userId: 'alice', state: 'open' })
    expect(opened.store.get('recent-done')).toMatchObject({
      state: 'completed',
      location: 'http://x/recent',
      etag: '"r"',
    })
    await opened.store.markCompleted('open', { location: 'http://x/open' })
    await opened.store.close()

    // Rewritten in place: one line per kept record, no temporary file left, and appends after
    // the rewrite are read back on the next start.
    const lines = (await readFile(path, 'utf8')).trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { uploadId: string }).uploadId)).toEqual([
      'old-open',
      'recent-done',
      'open',
      'open',
    ])
    expect(await readdir(dir)).toEqual(['uploads.jsonl'])
    const again = await OwnershipStore.open(dir, { retainFinishedMs: 30 * DAY, now })
    expect(again.pruned).toBe(0)
    expect(again.skipped).toBe(0)
    expect(again.store.size).toBe(3)
    expect(again.store.get('open')).toMatchObject({ state: 'completed', location: 'http://x/open' })
    await again.store.close()
  })
})
