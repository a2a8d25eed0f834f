/**
 * The engine's retry and resume rules against a pure-unit stand-in for S3 (like
 * engine-states.test.ts): an in-memory ObjectStore whose part URLs point at a local HTTP server
 * that can fail each attempt in a scripted way. The real server is the integration suite's job;
 * these pin rules that are hard to provoke there (how far an attempt got, what a listing says).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { UploadError } from '../../src/main/core/errors'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import { nodeFileSource } from '../../src/main/core/node-adapters'
import { fingerprintWith } from '../../src/main/core/util/fingerprint'
import type { ListedUpload, ObjectStore, RemotePart } from '../../src/main/core/ports'

const KiB = 1024
const MiB = 1024 * KiB

class MemoryStore implements ObjectStore {
  readonly destinationId = 'memory'
  readonly label = 'memory'
  /** Files of one part go through the part path (and so through the test server). */
  readonly multipartOnly = true
  uploads = new Map<string, { key: string; initiated: Date; parts: Map<number, RemotePart> }>()
  aborted: string[] = []
  private next = 1
  constructor(private readonly base: string) {}
  async createMultipart(input: { key: string }) {
    const uploadId = `up-${this.next++}`
    this.uploads.set(uploadId, { key: input.key, initiated: new Date(), parts: new Map() })
    return { key: input.key, uploadId, bucket: 'b' }
  }
  async signPart(t: { uploadId: string }, n: number) {
    return { url: `${this.base}/${t.uploadId}/${n}` }
  }
  async listParts(t: { uploadId: string }) {
    const u = this.uploads.get(t.uploadId)
    if (!u) throw new UploadError({ code: 'NoSuchUpload', message: 'gone' })
    return [...u.parts.values()]
  }
  async complete(t: { key: string; uploadId: string }, parts: { etag: string }[]) {
    const h = createHash('md5')
    for (const p of parts) h.update(Buffer.from(p.etag, 'hex'))
    this.uploads.delete(t.uploadId)
    return { key: t.key, bucket: 'b', etag: `${h.digest('hex')}-${parts.length}` }
  }
  async abort(t: { uploadId: string }) {
    this.aborted.push(t.uploadId)
    this.uploads.delete(t.uploadId)
  }
  async putSmall(): Promise<never> {
    throw new Error('not used: multipartOnly')
  }
  async listMultipartUploads(prefix: string): Promise<ListedUpload[]> {
    return [...this.uploads]
      .filter(([, u]) => u.key.startsWith(prefix))
      .map(([uploadId, u]) => ({ key: u.key, uploadId, initiated: u.initiated }))
  }
}

/** What the part server does with one PUT attempt (its body so far, the response). */
type PutHandler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void

let server: Server
let store: MemoryStore
let dir: string
let handler: PutHandler | undefined
let attempts = 0

/** Stores the body and answers its MD5 as ETag, like S3. */
function accept(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const [, uploadId, n] = req.url!.split('/')
    const body = Buffer.concat(chunks)
    const etag = createHash('md5').update(body).digest('hex')
    store.uploads
      .get(uploadId!)
      ?.parts.set(Number(n), { partNumber: Number(n), etag, size: body.length })
    res.writeHead(200, { etag: `"${etag}"` })
    res.end()
  })
}

/** A 500 InternalError as S3 sends it: retryable, and not a network error (that would wait). */
function internalError(res: ServerResponse) {
  if (res.headersSent) return
  res.writeHead(500, { 'content-type': 'application/xml' })
  res.end('<Error><Code>InternalError</Code><Message>injected</Message></Error>')
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engine-retries-'))
  server = createServer((req, res) => {
    const h = handler
    const n = attempts++
    if (h) h(req, res, n)
    else accept(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  store = new MemoryStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
afterAll(async () => {
  server.close()
  await rm(dir, { recursive: true, force: true })
})

describe('the retry count resets whenever bytes move', () => {
  // One part of 2.5 MiB, paced at 2 MiB/s (256 KiB slices, a 512 KiB burst): how far an attempt
  // gets is set by how much the server reads before it answers 500.
  const size = 2.5 * MiB
  const engineFor = (name: string, paced: boolean) =>
    new UploadEngine({
      store,
      stateDir: join(dir, 'state-' + name),
      preferredPartSize: 5 * MiB,
      bandwidthLimit: paced ? 2 * MiB : 0,
      // Two attempts: without the reset the second failure would fail the file.
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    })

  it('a part that gets further on every attempt is not given up on, and completes', async () => {
    const file = join(dir, 'further.mp4')
    await writeFile(file, Buffer.alloc(size, 3))
    // Each attempt is cut off (500) further into the body than the one before; the 4th passes.
    const cutAt = [256 * KiB, 1024 * KiB, 1792 * KiB]
    attempts = 0
    handler = (req, res, n) => {
      const limit = cutAt[n]
      if (limit === undefined) return accept(req, res)
      let got = 0
      req.on('data', (c: Buffer) => {
        got += c.length
        if (got >= limit) internalError(res)
      })
    }
    const engine = engineFor('further', true)
    try {
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      expect(attempts).toBe(4)
    } finally {
      handler = undefined
      await engine.close()
    }
  })

  it('a part that fails at the same point every time (the whole body, then 500) still fails', async () => {
    const file = join(dir, 'same.mp4')
    await writeFile(file, Buffer.alloc(size, 4))
    attempts = 0
    handler = (req, res) => {
      req.resume()
      req.on('end', () => internalError(res))
    }
    const engine = engineFor('same', false)
    try {
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const failed = engine.get(s!.id)!
      expect(failed.state).toBe('failed')
      expect(failed.error!.code).toBe('InternalError')
      expect(failed.error!.message).toMatch(/gave up after 2 attempts/)
      expect(attempts).toBe(2)
    } finally {
      handler = undefined
      await engine.close()
    }
  })
})

describe('uploads a lost CreateMultipartUpload answer left behind', () => {
  it('only those the server started since the record was written are aborted; older ones under the same key are someone else’s', async () => {
    const file = join(dir, 'strays.mp4')
    const size = 12 * MiB
    await writeFile(file, Buffer.alloc(size, 5))
    const st = await nodeFileSource.stat(file)
    // A key template without {uuid}: another machine may be uploading the same key right now.
    const key = 'videos/strays.mp4'
    const createdAt = Date.now()
    const at = (ms: number) => new Date(createdAt + ms)
    store.aborted = []
    store.uploads.clear() // what earlier tests left open (a failed file keeps its upload)
    store.uploads.set('theirs', { key, initiated: at(-10 * 60_000), parts: new Map() })
    store.uploads.set('ours-clock-2min-off', { key, initiated: at(-2 * 60_000), parts: new Map() })
    store.uploads.set('ours', { key, initiated: at(1000), parts: new Map() })
    store.uploads.set('other-key', { key: `${key}.bak`, initiated: at(1000), parts: new Map() })
    const stateDir = join(dir, 'state-strays')
    // The record a crash between writing it and CreateMultipartUpload's answer leaves.
    await new FileJournal(stateDir).write({
      v: 1,
      id: 'strays',
      source: {
        path: file,
        size,
        mtimeMs: st.mtimeMs,
        fingerprint: await fingerprintWith(nodeFileSource, file, size),
      },
      relativeDir: '',
      destination: { id: store.destinationId, label: store.label },
      bucket: 'b',
      key,
      partSize: 5 * MiB,
      partCount: 3,
      contentType: 'video/mp4',
      metadata: {},
      options: {},
      status: 'active',
      parts: [],
      createdAt,
      updatedAt: createdAt,
    })
    const engine = new UploadEngine({
      store,
      stateDir,
      keyTemplate: 'videos/{filename}',
      preferredPartSize: 5 * MiB,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    })
    try {
      const [s] = await engine.resumeInterrupted()
      await engine.whenIdle()
      expect(engine.get(s!.id)!.state).toBe('done')
      expect(store.aborted.sort()).toEqual(['ours', 'ours-clock-2min-off'])
      expect([...store.uploads.keys()].sort()).toEqual(['other-key', 'theirs'])
    } finally {
      store.uploads.clear()
      await engine.close()
    }
  })
})
