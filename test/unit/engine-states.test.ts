import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UploadEngine } from '../../src/main/core/engine/upload-engine'
import type { UploadState } from '../../src/main/core/engine/types'
import { UploadError } from '../../src/main/core/errors'
import type { ObjectStore, RemotePart } from '../../src/main/core/ports'

/**
 * A pure-unit stand-in for S3: an in-memory ObjectStore whose part URLs point at a local HTTP
 * endpoint that answers with the body's MD5 as ETag (or a scripted fault). The real server is
 * exercised by the integration suite; this pins the state machine.
 */
class MemoryStore implements ObjectStore {
  readonly destinationId = 'memory'
  readonly label = 'memory'
  parts = new Map<string, Map<number, RemotePart>>()
  signError: UploadError | undefined
  constructor(private readonly base: string) {}
  async createMultipart(input: { key: string }) {
    const uploadId = `up-${this.parts.size + 1}`
    this.parts.set(uploadId, new Map())
    return { key: input.key, uploadId, bucket: 'b' }
  }
  async signPart(t: { uploadId: string }, n: number) {
    if (this.signError) throw this.signError
    return { url: `${this.base}/${t.uploadId}/${n}` }
  }
  async listParts(t: { uploadId: string }) {
    const p = this.parts.get(t.uploadId)
    if (!p) throw new UploadError({ code: 'NoSuchUpload', message: 'gone' })
    return [...p.values()]
  }
  async complete(t: { key: string; uploadId: string }, parts: { etag: string }[]) {
    const h = createHash('md5')
    for (const p of parts) h.update(Buffer.from(p.etag, 'hex'))
    this.parts.delete(t.uploadId)
    return { key: t.key, bucket: 'b', etag: `${h.digest('hex')}-${parts.length}` }
  }
  async abort(t: { uploadId: string }) {
    this.parts.delete(t.uploadId)
  }
  async putSmall(input: {
    key: string
    md5Base64: string
    size: number
    onProgress: (n: number) => void
  }) {
    input.onProgress(input.size)
    return {
      key: input.key,
      bucket: 'b',
      etag: Buffer.from(input.md5Base64, 'base64').toString('hex'),
    }
  }
}

describe('upload state machine', () => {
  let server: Server
  let store: MemoryStore
  let dir: string
  /** Faults to answer the next PUTs with (status, S3 code, only for this part number). */
  const faults: [number, string, number?][] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'states-'))
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const [, uploadId, n] = req.url!.split('/')
        const i = faults.findIndex((f) => f[2] === undefined || f[2] === Number(n))
        const fault = i >= 0 ? faults.splice(i, 1)[0] : undefined
        if (fault) {
          res.writeHead(fault[0])
          return res.end(`<Error><Code>${fault[1]}</Code><Message>m</Message></Error>`)
        }
        const body = Buffer.concat(chunks)
        const etag = createHash('md5').update(body).digest('hex')
        store.parts
          .get(uploadId!)
          ?.set(Number(n), { partNumber: Number(n), etag, size: body.length })
        res.writeHead(200, { etag: `"${etag}"` })
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    store = new MemoryStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  })
  afterAll(async () => {
    server.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function run(
    name: string,
    size: number,
    act?: (e: UploadEngine, id: string) => Promise<void>,
  ) {
    const file = join(dir, name)
    await writeFile(file, Buffer.alloc(size, 7))
    const engine = new UploadEngine({
      store,
      stateDir: join(dir, 'state-' + name),
      preferredPartSize: 5 * 1024 * 1024,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    })
    const states: UploadState[] = []
    engine.on('changed', (s) => {
      if (states.at(-1) !== s.state) states.push(s.state)
    })
    const [s] = await engine.add([{ path: file }])
    await engine.whenIdle()
    if (act) await act(engine, s!.id)
    const snap = engine.get(s!.id)!
    await engine.close()
    return { states, snap }
  }

  it('goes queued → preparing → uploading → completing → done', async () => {
    const { states, snap } = await run('ok.mp4', 11 * 1024 * 1024)
    expect(states).toEqual(['queued', 'preparing', 'uploading', 'completing', 'done'])
    expect(snap.partsDone).toBe(3)
    expect(snap.bytesSent).toBe(snap.size)
  })

  it('retries a SlowDown through the retrying state', async () => {
    faults.push([503, 'SlowDown'])
    const { states } = await run('slow.mp4', 6 * 1024 * 1024)
    expect(states).toEqual([
      'queued',
      'preparing',
      'uploading',
      'retrying',
      'uploading',
      'completing',
      'done',
    ])
  })

  it('gives up after the attempt budget with a message that says so, and Retry continues', async () => {
    faults.push([503, 'SlowDown', 1], [503, 'SlowDown', 1], [503, 'SlowDown', 1])
    const { snap } = await run('overloaded.mp4', 6 * 1024 * 1024, async (engine, id) => {
      const failed = engine.get(id)!
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('SlowDown')
      expect(failed.error!.message).toMatch(/slow down .* gave up after 3 attempts; press Retry/)
      engine.retry(id)
      await engine.whenIdle()
    })
    expect(snap.state).toBe('done')
  })

  it('fails on a refusal, then Retry takes it back through the queue to done', async () => {
    store.signError = new UploadError({ code: 'AccessDenied', message: 'refused' })
    const { states, snap } = await run('denied.mp4', 6 * 1024 * 1024, async (engine, id) => {
      expect(engine.get(id)!.state).toBe('failed')
      expect(engine.get(id)!.error!.code).toBe('AccessDenied')
      store.signError = undefined
      engine.retry(id)
      await engine.whenIdle()
    })
    expect(states).toEqual([
      'queued',
      'preparing',
      'uploading',
      'failed',
      'queued',
      'preparing',
      'uploading',
      'completing',
      'done',
    ])
    expect(snap.state).toBe('done')
  })

  it('pause → paused, resume → done; cancel of a paused upload → cancelled and aborted', async () => {
    const file = join(dir, 'ctl.mp4')
    await writeFile(file, Buffer.alloc(12 * 1024 * 1024, 1))
    const engine = new UploadEngine({
      store,
      stateDir: join(dir, 'state-ctl'),
      preferredPartSize: 5 * 1024 * 1024,
      bandwidthLimit: 4 * 1024 * 1024,
    })
    const [s] = await engine.add([{ path: file }])
    await new Promise<void>((r) => {
      const on = (x: { id: string; state: string }) =>
        x.id === s!.id && x.state === 'uploading' && (engine.off('changed', on), r())
      engine.on('changed', on)
    })
    await engine.pause(s!.id)
    expect(engine.get(s!.id)!.state).toBe('paused')
    expect(engine.get(s!.id)!.speed).toBe(0)
    await engine.cancel(s!.id)
    expect(engine.get(s!.id)!.state).toBe('cancelled')
    // The server is told in the background; whenIdle waits for it.
    await engine.whenIdle()
    expect(store.parts.size).toBe(0)
    await engine.remove(s!.id)
    expect(engine.list()).toEqual([])
    await engine.close()
  })
})

describe('cleanup --server and the key template', () => {
  /** Records which prefixes the engine lists; every upload it would see is someone else's. */
  class ListingStore extends MemoryStore {
    listed: string[] = []
    async listMultipartUploads(prefix: string) {
      this.listed.push(prefix)
      return [{ key: `${prefix}other-tool/clip.mp4`, uploadId: 'theirs', initiated: new Date(0) }]
    }
  }

  it('a template starting with a variable: the server is not listed, and the report says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cleanup-prefix-'))
    try {
      const store = new ListingStore('http://127.0.0.1:9')
      const engine = new UploadEngine({
        store,
        stateDir: join(dir, 'state'),
        keyTemplate: '{date}/{uuid}/{filename}',
      })
      const report = await engine.cleanup({ olderThanMs: 0, server: true })
      expect(store.listed).toEqual([])
      expect(report.serverUploads).toEqual([])
      expect(report.serverSkipped).toMatch(/starts with a variable/)
      // An explicit prefix (the CLI's --prefix "") is the caller's informed choice.
      const whole = await engine.cleanup({ olderThanMs: 0, server: true, prefix: '' })
      expect(store.listed).toEqual([''])
      expect(whole.serverUploads.map((u) => u.uploadId)).toEqual(['theirs'])
      await engine.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a template with a static start lists only under it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cleanup-prefix-'))
    try {
      const store = new ListingStore('http://127.0.0.1:9')
      const engine = new UploadEngine({ store, stateDir: join(dir, 'state') })
      const report = await engine.cleanup({ olderThanMs: 0, server: true })
      expect(store.listed).toEqual(['videos/'])
      expect(report.serverSkipped).toBeUndefined()
      await engine.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
