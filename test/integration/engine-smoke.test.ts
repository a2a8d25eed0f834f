import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { freshBucket, sha256OfFile, sha256OfObject, testClient, openUploads } from '../support/s3'
import { directStore, randomFile, tempDir, testEngine } from '../support/engine'

describe('engine smoke', () => {
  const client = testClient()
  let bucket: string
  let tmp: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => {
    bucket = await freshBucket(client)
    tmp = await tempDir()
  })
  afterAll(() => tmp.cleanup())

  it('uploads a 12 MiB file in 3 parts', async () => {
    const file = await randomFile(join(tmp.dir, 'a.mp4'), 12 * 1024 * 1024)
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: join(tmp.dir, 'state'),
      preferredPartSize: 5 * 1024 * 1024,
      log: console.log,
    })
    const [snap] = await engine.add([{ path: file }])
    await engine.whenIdle()
    const done = engine.get(snap!.id)!
    expect(done.error).toBeUndefined()
    expect(done.state).toBe('done')
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    expect(await openUploads(client, bucket)).toEqual([])
    await engine.close()
  })
})
