/**
 * The backend signer (CompanionStore) against the reference backend and the real S3 server, with
 * the engine's own PUT (putPart): bytes land intact, expired URLs are re-signed, aborts leave
 * nothing, refusals read as plain words; plus the processing hook against a real HTTP server.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { postProcessingHook } from '../../src/main/core/backend/processing-hook'
import { UploadError } from '../../src/main/core/errors'
import { putPart } from '../../src/main/core/http/put-part'
import type { ObjectStore } from '../../src/main/core/ports'
import { startTestBackend, type TestBackend } from '../support/backend'
import { freshBucket, openUploads, sha256OfObject, testClient, testServer } from '../support/s3'

const MiB = 1024 * 1024
const client = testClient()
let bucket: string
let backend: TestBackend
let dir: string

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-companion')
  backend = await startTestBackend({ bucket })
  dir = await mkdtemp(join(tmpdir(), 'upreel-companion-'))
})
afterAll(async () => {
  await backend?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Buffer) => createHash('md5').update(b)

function storeFor(b: TestBackend, user: 'alice' | 'bob' = 'alice') {
  return createCompanionStore({ baseUrl: b.url, headers: b.auth(user) })
}

async function sendPart(
  store: ObjectStore,
  target: { key: string; uploadId: string },
  n: number,
  body: Buffer,
) {
  const signed = await store.signPart(target, n)
  return putPart({
    url: signed.url,
    headers: signed.headers,
    body,
    md5Base64: md5(body).digest('base64'),
    signal: new AbortController().signal,
    partNumber: n,
  })
}

async function rejection(p: Promise<unknown>): Promise<UploadError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(UploadError)
  return e as UploadError
}

describe('CompanionStore against the reference backend', () => {
  it('putSmall: 1 byte arrives byte-identical and leaves no open upload', async () => {
    const store = storeFor(backend)
    const data = Buffer.from([0x2a])
    const path = join(dir, 'one.mp4')
    await writeFile(path, data)
    const progress: number[] = []
    const done = await store.putSmall({
      key: 'ignored-by-backend.mp4',
      filename: 'one byte #1.mp4',
      contentType: 'video/mp4',
      metadata: { name: 'one byte #1.mp4' },
      path,
      size: 1,
      md5Base64: md5(data).digest('base64'),
      onProgress: (n) => progress.push(n),
      signal: new AbortController().signal,
    })
    expect(done.key).toMatch(/^users\/alice\/[0-9a-f-]{36}\/one byte _1\.mp4$/)
    expect(done.bucket).toBe(bucket)
    expect(progress.at(-1)).toBe(1)
    expect(await sha256OfObject(client, bucket, done.key)).toBe(sha256(data))
    expect(await openUploads(client, bucket)).toEqual([])
  })

  it('create → sign (one batch ahead) → PUT → listParts → complete: 5 MiB + 1 byte-identical', async () => {
    const store = storeFor(backend)
    const data = randomBytes(5 * MiB + 1)
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)]
    const before = backend.logs.length
    const up = await store.createMultipart({
      key: 'wish.mp4',
      filename: 'five & a bit.mp4',
      contentType: 'video/mp4',
      metadata: {},
      size: data.length,
    })
    expect(up.key).toMatch(/^users\/alice\/[0-9a-f-]{36}\/five _ a bit\.mp4$/)
    const etags = await Promise.all(parts.map((p, i) => sendPart(store, up, i + 1, p)))
    expect(etags.map((e) => e.etag)).toEqual(parts.map((p) => md5(p).digest('hex')))
    // Both parts signed concurrently were served by one batch request, no single-part signing.
    const routes = backend.logs.slice(before).map((l) => l.route)
    expect(routes.filter((r) => r === 'batch')).toHaveLength(1)
    expect(routes.filter((r) => r === 'sign')).toHaveLength(0)

    const listed = await store.listParts(up)
    expect(listed).toEqual([
      { partNumber: 1, etag: etags[0]!.etag, size: 5 * MiB },
      { partNumber: 2, etag: etags[1]!.etag, size: 1 },
    ])
    const done = await store.complete(
      up,
      listed.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
    )
    expect(done).toMatchObject({ key: up.key, bucket })
    expect(done.etag).toMatch(/^[0-9a-f]{32}-2$/)
    expect(await sha256OfObject(client, bucket, up.key)).toBe(sha256(data))
  })

  it('an expired URL (2 s lifetime) is refused with RequestExpired, re-signed and the upload completes', async () => {
    const short = await startTestBackend({ bucket, urlExpiresSeconds: 2 })
    try {
      const store = storeFor(short)
      const data = randomBytes(5 * MiB + 1)
      const up = await store.createMultipart({
        key: 'x',
        filename: 'short.mp4',
        contentType: 'video/mp4',
        metadata: {},
        size: data.length,
      })
      // Signing part 1 also signs 2..4 ahead; all of them are dead once we have waited.
      const stale = await store.signPart(up, 1)
      expect(stale.expiresAt).toBeGreaterThan(Date.now())
      expect(stale.expiresAt).toBeLessThanOrEqual(Date.now() + 2000)
      // The only way to get an expired URL is to let time pass: wait for its expiry plus 1.5 s
      // of tolerance for the two clocks (ours and the S3 server's).
      await new Promise((r) => setTimeout(r, stale.expiresAt! - Date.now() + 1500))
      const body1 = data.subarray(0, 5 * MiB)
      const refused = await rejection(
        putPart({
          url: stale.url,
          body: body1,
          md5Base64: md5(body1).digest('base64'),
          signal: new AbortController().signal,
          partNumber: 1,
        }),
      )
      expect(refused.code).toBe('RequestExpired')
      expect(refused.status).toBe(403)
      expect(refused.retryable).toBe(true)

      const e1 = await sendPart(store, up, 1, body1)
      // Part 2's URL was signed ahead and is expired now: the store must not hand it out.
      const e2 = await sendPart(store, up, 2, data.subarray(5 * MiB))
      const listed = await store.listParts(up)
      expect(listed.map((p) => p.partNumber)).toEqual([1, 2])
      await store.complete(up, [
        { partNumber: 1, etag: e1.etag },
        { partNumber: 2, etag: e2.etag },
      ])
      expect(await sha256OfObject(client, bucket, up.key)).toBe(sha256(data))
    } finally {
      await short.close()
    }
  })

  it('a PUT that starts inside the URL lifetime may finish after it (the expiry is checked at the start)', async () => {
    const short = await startTestBackend({ bucket, urlExpiresSeconds: 2 })
    try {
      const store = storeFor(short)
      const body = randomBytes(2 * MiB)
      const up = await store.createMultipart({
        key: 'x',
        filename: 'slow.mp4',
        contentType: 'video/mp4',
        metadata: {},
        size: body.length,
      })
      const signed = await store.signPart(up, 1)
      const started = Date.now()
      // 8 slices of 256 KiB, 500 ms apart: the body takes ~4 s, twice the URL's lifetime.
      const { etag } = await putPart({
        url: signed.url,
        body,
        md5Base64: md5(body).digest('base64'),
        signal: new AbortController().signal,
        partNumber: 1,
        pace: (_bytes, signal) =>
          new Promise((r, j) => {
            const t = setTimeout(r, 500)
            signal.addEventListener('abort', () => (clearTimeout(t), j(signal.reason)))
          }),
      })
      expect(Date.now() - started).toBeGreaterThan(signed.expiresAt! - started + 1000)
      await store.complete(up, [{ partNumber: 1, etag }])
      expect(await sha256OfObject(client, bucket, up.key)).toBe(sha256(body))
    } finally {
      await short.close()
    }
  })

  it('abort leaves no multipart upload, a second abort resolves, listParts then says NoSuchUpload', async () => {
    const store = storeFor(backend)
    const up = await store.createMultipart({
      key: 'x',
      filename: 'cancel.mp4',
      contentType: 'video/mp4',
      metadata: {},
      size: 2048,
    })
    await sendPart(store, up, 1, randomBytes(2048))
    expect((await openUploads(client, bucket)).map((u) => u.uploadId)).toContain(up.uploadId)
    await store.abort(up)
    expect((await openUploads(client, bucket)).map((u) => u.uploadId)).not.toContain(up.uploadId)
    await store.abort(up)
    const gone = await rejection(store.listParts(up))
    expect(gone.code).toBe('NoSuchUpload')
    expect(gone.retryable).toBe(false)
  })

  it('refusals become plain-worded UploadErrors', async () => {
    const wrong = createCompanionStore({
      baseUrl: backend.url,
      headers: { Authorization: 'Bearer nobody-knows-this-token' },
    })
    const input = { key: 'x', filename: 'a.mp4', contentType: 'video/mp4', metadata: {}, size: 10 }
    const unauthorized = await rejection(wrong.createMultipart(input))
    expect(unauthorized).toMatchObject({ code: 'Unauthorized', status: 401, retryable: false })
    expect(unauthorized.message).toMatch(/did not accept your sign-in/)
    expect(unauthorized.requestId).toMatch(/^[0-9a-f-]{36}$/)

    const alice = storeFor(backend)
    const up = await alice.createMultipart(input)
    const bob = storeFor(backend, 'bob')
    for (const attempt of [
      () => bob.listParts(up),
      () => bob.signPart(up, 1),
      () => bob.complete(up, [{ partNumber: 1, etag: 'a'.repeat(32) }]),
      () => bob.abort(up),
    ]) {
      const e = await rejection(attempt())
      expect(e).toMatchObject({ code: 'Forbidden', status: 403, retryable: false })
      expect(e.message).toMatch(/does not allow this upload/)
    }

    const text = await rejection(alice.createMultipart({ ...input, contentType: 'text/plain' }))
    expect(text.code).toBe('TypeNotAllowed')
    expect(text.message).toMatch(/does not accept this kind of file.*text\/plain/)
    const huge = await rejection(alice.createMultipart({ ...input, size: 2 ** 50 }))
    expect(huge.code).toBe('TooLarge')
    await alice.abort(up)
  })

  it('a backend that is not running is a retryable NetworkError', async () => {
    const spare = await startTestBackend({ bucket })
    const url = spare.url
    await spare.close()
    const store = createCompanionStore({ baseUrl: url, headers: backend.auth() })
    const e = await rejection(
      store.createMultipart({
        key: 'x',
        filename: 'a.mp4',
        contentType: 'video/mp4',
        metadata: {},
        size: 1,
      }),
    )
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true })
    expect(e.message).toMatch(/Could not reach the upload server/)
  })
})

describe('a Companion-style backend that signs with the SDK default checksums', () => {
  // Companion run without AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED: its S3 client is the
  // SDK's default (WHEN_SUPPORTED). A stand-in that signs parts exactly so, against the real server.
  it('its part URLs are refused before any byte is sent, in words for whoever runs it', async () => {
    const s = testServer()
    const defaultClient = new S3Client({
      endpoint: s.endpoint,
      region: s.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    })
    const up = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'checksummed.mp4' }),
    )
    const signer = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x')
      const n = Number(url.pathname.split('/').pop())
      void getSignedUrl(
        defaultClient,
        new UploadPartCommand({
          Bucket: bucket,
          Key: url.searchParams.get('key')!,
          UploadId: up.UploadId!,
          PartNumber: n,
        }),
        { expiresIn: 800 },
      ).then((signed) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ url: signed, expires: 800 }))
      })
    })
    await new Promise<void>((r) => signer.listen(0, '127.0.0.1', r))
    try {
      const store = createCompanionStore({
        baseUrl: `http://127.0.0.1:${(signer.address() as AddressInfo).port}`,
        signWindow: 1,
      })
      const e = await rejection(
        store.signPart({ key: 'checksummed.mp4', uploadId: up.UploadId! }, 1),
      )
      expect(e).toMatchObject({ code: 'BackendChecksumUrls', retryable: false })
      expect(e.message).toMatch(/x-amz-(checksum-crc32|sdk-checksum-algorithm)/)
      expect(e.message).toMatch(/AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED/)
    } finally {
      await new Promise((r) => signer.close(r))
      defaultClient.destroy()
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: 'checksummed.mp4',
          UploadId: up.UploadId!,
        }),
      )
    }
  })
})

describe('processing hook', () => {
  let hook: Server
  let hookUrl: string
  const received: { body: unknown; auth?: string }[] = []
  let failWith = 0

  beforeAll(async () => {
    hook = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          auth: req.headers.authorization,
        })
        res.statusCode = failWith || 202
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify(failWith ? { error: 'processing queue is full' } : { queued: true }))
      })
    })
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/uploaded`
  })
  afterAll(async () => {
    await new Promise((r) => hook?.close(r))
  })

  const body = {
    key: 'users/alice/1234/clip.mp4',
    bucket: 'videos',
    size: 5 * MiB + 1,
    etag: '5094bec9eb39081e35acb8ee09a8e194-2',
    metadata: { name: 'clip.mp4', durationSec: '12.5' },
    thumbnailKey: 'users/alice/1234/thumbnail.jpg',
  }

  it('receives the upload as {key, bucket, size, etag, metadata, thumbnailKey} with the headers given', async () => {
    received.length = 0
    failWith = 0
    const res = await postProcessingHook(hookUrl, body, {
      headers: { Authorization: 'Bearer platform-token' },
    })
    expect(res).toEqual({ ok: true, status: 202 })
    expect(received).toEqual([{ body, auth: 'Bearer platform-token' }])
  })

  it('a failing hook is retried, then reported as ok:false without throwing', async () => {
    received.length = 0
    failWith = 503
    const res = await postProcessingHook(hookUrl, body, { attempts: 3, baseDelayMs: 20 })
    expect(received).toHaveLength(3)
    expect(res.ok).toBe(false)
    if (!res.ok) {
      expect(res.status).toBe(503)
      expect(res.message).toMatch(
        /upload is complete.*HTTP 503.*processing queue is full.*Tried 3 times/,
      )
    }
  })

  it('a 4xx from the hook is final: one try', async () => {
    received.length = 0
    failWith = 400
    const res = await postProcessingHook(hookUrl, body, { attempts: 3, baseDelayMs: 20 })
    expect(received).toHaveLength(1)
    expect(res).toMatchObject({ ok: false, status: 400 })
  })

  it('an unreachable hook is ok:false after its attempts', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    const res = await postProcessingHook(`http://127.0.0.1:${port}/h`, body, {
      attempts: 2,
      baseDelayMs: 10,
    })
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.message).toMatch(/could not be reached.*ECONNREFUSED.*Tried 2 times/)
  })
})
