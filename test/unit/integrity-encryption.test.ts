/**
 * The engine's ETag checks when the storage encrypts with SSE-KMS or SSE-C (ETags are then not
 * MD5s), and its re-signing of a part PUT refused with 403. An in-memory ObjectStore whose part
 * URLs point at a local HTTP endpoint that answers like S3 would (scripted ETags and encryption
 * headers): the real server cannot do SSE-KMS, so this is where those answers are pinned.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import type { ObjectOptions } from '../../src/main/core/journal/types'
import { nodeFileSource } from '../../src/main/core/node-adapters'
import type { ObjectStore, RemotePart } from '../../src/main/core/ports'
import { UploadError } from '../../src/main/core/errors'
import { fingerprintWith } from '../../src/main/core/util/fingerprint'

const MiB = 1024 * 1024
const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex')

/** How the fake S3 answers part PUTs. */
interface Behaviour {
  /** 'md5': ETag = MD5 of the body (plain S3); 'opaque': something else (SSE-KMS, SSE-C). */
  etag: 'md5' | 'opaque'
  /** Response headers besides the ETag (x-amz-server-side-encryption…). */
  headers: Record<string, string>
  /** The object's ETag Complete answers: 'parts' = md5 of the part ETags, as S3 computes it. */
  completeEtag: 'parts' | 'wrong'
  /** Answers these part numbers with a 403 AccessDenied, once per entry. */
  refuse: number[]
}

class MemoryStore implements ObjectStore {
  readonly destinationId = 'memory'
  readonly label = 'memory'
  parts = new Map<string, Map<number, RemotePart>>()
  signed: number[] = []
  completeEncryption: string | undefined
  constructor(
    private readonly base: string,
    private readonly b: () => Behaviour,
  ) {}
  async createMultipart(input: { key: string }) {
    const uploadId = `up-${this.parts.size + 1}`
    this.parts.set(uploadId, new Map())
    return { key: input.key, uploadId, bucket: 'b' }
  }
  async signPart(t: { uploadId: string }, n: number) {
    this.signed.push(n)
    return { url: `${this.base}/${t.uploadId}/${n}?sig=${this.signed.length}` }
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
    const etag =
      this.b().completeEtag === 'parts'
        ? `${h.digest('hex')}-${parts.length}`
        : `${'f'.repeat(32)}-${parts.length}`
    return { key: t.key, bucket: 'b', etag, encryption: this.completeEncryption }
  }
  async abort(t: { uploadId: string }) {
    this.parts.delete(t.uploadId)
  }
  async putSmall(): Promise<never> {
    throw new Error('not used: every file here has several parts')
  }
}

describe('ETag checks under encryption, and 403 re-signing, in the engine', () => {
  let server: Server
  let store: MemoryStore
  let dir: string
  let behaviour: Behaviour
  let file: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'integrity-'))
    file = join(dir, 'clip.mp4')
    // 3 parts of 5 MiB (the last 1 MiB), distinct content per part.
    await writeFile(
      file,
      Buffer.concat([Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.alloc(1 * MiB, 3)]),
    )
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const [, uploadId, rest] = req.url!.split('/')
        const n = Number(rest!.split('?')[0])
        const i = behaviour.refuse.indexOf(n)
        if (i >= 0) {
          behaviour.refuse.splice(i, 1)
          res.writeHead(403, { 'content-type': 'application/xml' })
          return res.end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
        }
        const body = Buffer.concat(chunks)
        const etag = behaviour.etag === 'md5' ? md5hex(body) : md5hex(`kms:${md5hex(body)}`)
        store.parts.get(uploadId!)?.set(n, { partNumber: n, etag, size: body.length })
        res.writeHead(200, { etag: `"${etag}"`, ...behaviour.headers })
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    store = new MemoryStore(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      () => behaviour,
    )
  })
  afterAll(async () => {
    server.close()
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    behaviour = { etag: 'md5', headers: {}, completeEtag: 'parts', refuse: [] }
    store.signed = []
    store.completeEncryption = undefined
  })

  let runs = 0
  function engine(objectOptions: ObjectOptions = {}, stateDir = join(dir, `state-${++runs}`)) {
    return new UploadEngine({
      store,
      stateDir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      objectOptions,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    })
  }
  async function upload(e: UploadEngine) {
    const [s] = await e.add([{ path: file }])
    await e.whenIdle()
    const snap = e.get(s!.id)!
    await e.close()
    return snap
  }

  it('an upload created with aws:kms and resumed without --sse: the journaled option decides', async () => {
    // The record a first run left behind: created with SSE-KMS, no part finished yet.
    const stateDir = join(dir, 'state-kms-resume')
    const st = await nodeFileSource.stat(file)
    const created = await store.createMultipart({ key: 'videos/clip.mp4' })
    await new FileJournal(stateDir).write({
      v: 1,
      id: 'kms-record',
      source: {
        path: file,
        size: st.size,
        mtimeMs: st.mtimeMs,
        fingerprint: await fingerprintWith(nodeFileSource, file, st.size),
      },
      relativeDir: '',
      destination: { id: store.destinationId, label: store.label },
      bucket: 'b',
      key: created.key,
      uploadId: created.uploadId,
      partSize: 5 * MiB,
      partCount: 3,
      contentType: 'video/mp4',
      metadata: {},
      options: { sse: 'aws:kms' },
      status: 'active',
      parts: [],
      createdAt: 1,
      updatedAt: 1,
    })
    // The storage does not echo the encryption header: only the record knows.
    behaviour.etag = 'opaque'
    const snap = await upload(engine({}, stateDir))
    expect(snap.error).toBeUndefined()
    expect(snap.notice).toBeUndefined() // not started over: the record was continued
    expect(snap.resumed).toBe(true)
    expect(snap.state).toBe('done')
  })

  it.each([
    ['SSE-KMS', { 'x-amz-server-side-encryption': 'aws:kms' }],
    ['DSSE-KMS', { 'x-amz-server-side-encryption': 'aws:kms:dsse' }],
    ['SSE-C', { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }],
  ])(
    'a bucket encrypted by default with %s (no --sse): parts and Complete are accepted',
    async (_, headers) => {
      behaviour.etag = 'opaque'
      behaviour.headers = headers
      const snap = await upload(engine())
      expect(snap.error).toBeUndefined()
      expect(snap.state).toBe('done')
      expect(snap.partsDone).toBe(3)
      // Each part once: none was taken for damaged and sent again.
      expect(store.signed).toEqual([1, 2, 3])
    },
  )

  it('SSE-S3 (AES256) keeps ETag = MD5: a part stored with another ETag fails as IntegrityMismatch', async () => {
    behaviour.etag = 'opaque'
    behaviour.headers = { 'x-amz-server-side-encryption': 'AES256' }
    const snap = await upload(engine())
    expect(snap.state).toBe('failed')
    expect(snap.error?.code).toBe('IntegrityMismatch')
    // Retried, then given up on: the message says so, and no longer that the part is sent again.
    expect(snap.error?.message).toMatch(
      /^The storage stored different bytes than were sent for part \d \(checksum mismatch\)\. Upreel gave up after \d+ attempts/,
    )
  })

  it('plain parts but a wrong object ETag after Complete: IntegrityMismatch', async () => {
    behaviour.completeEtag = 'wrong'
    const snap = await upload(engine())
    expect(snap.state).toBe('failed')
    expect(snap.error?.code).toBe('IntegrityMismatch')
    expect(snap.error?.message).toMatch(/does not match the file/)
  })

  it('Complete that says SSE-KMS: its ETag is not checked', async () => {
    behaviour.completeEtag = 'wrong'
    store.completeEncryption = 'aws:kms'
    const snap = await upload(engine())
    expect(snap.error).toBeUndefined()
    expect(snap.state).toBe('done')
  })

  it('a part PUT answered 403 is signed again at once and the upload completes', async () => {
    behaviour.refuse = [2]
    const snap = await upload(engine())
    expect(snap.error).toBeUndefined()
    expect(snap.state).toBe('done')
    expect(store.signed).toEqual([1, 2, 2, 3])
  })

  it('a part PUT refused again with its fresh signature fails the file in plain words, without burning the retry budget', async () => {
    behaviour.refuse = [2, 2, 2, 2, 2, 2, 2, 2]
    const snap = await upload(engine())
    expect(snap.state).toBe('failed')
    expect(snap.error?.code).toBe('AccessDenied')
    expect(snap.error?.message).toMatch(/A freshly signed link was refused as well/)
    expect(store.signed.filter((n) => n === 2)).toHaveLength(2)
  })
})
