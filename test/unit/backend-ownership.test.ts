import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises'
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
})
