/**
 * Bad inputs on the far side (issue 6, part 4): wrong access key, wrong secret, missing bucket,
 * wrong region, a clock 20 minutes off, the server down at start or gone mid-upload, presigned
 * URLs that expire, and a backend answering 401, 403, 500 or something that is not JSON. Each
 * file gets a specific message, nothing is lost, and files the fault does not concern go on.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'
import { startTestBackend, type TestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { FaultProxy, NetworkLink, type ScriptedAnswer } from '../support/fault-proxy'
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
/** One file of one part (a single request) and one of three parts, for every case. */
let small: string
let multi: string

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-remote')
  tmp = await tempDir('upreel-remote-')
  small = await randomFile(join(tmp.dir, 'small.mp4'), 1 * MiB)
  multi = await randomFile(join(tmp.dir, 'multi.mp4'), 12 * MiB)
})
afterAll(async () => {
  // Hundreds of MiB per run: the shared server's disk is not for keeping them.
  if (bucket)
    await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
  await tmp?.cleanup()
})

const stateDir = (name: string) => join(tmp.dir, `state-${name}`)

/** A direct store whose SigV4 clock is `offsetMs` off (the SDK's systemClockOffset). */
function skewedStore(offsetMs: number): DirectS3Store {
  const s = testServer()
  const credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
  const config = {
    bucket,
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials,
  }
  // Same settings as createS3Client, plus the skew.
  const skewed = new S3Client({
    ...config,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    systemClockOffset: offsetMs,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 60_000 }),
  })
  return new DirectS3Store(config, skewed)
}

function storeWith(patch: {
  accessKeyId?: string
  secretAccessKey?: string
  region?: string
  bucket?: string
}) {
  const s = testServer()
  return new DirectS3Store({
    bucket: patch.bucket ?? bucket,
    endpoint: s.endpoint,
    region: patch.region ?? s.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: patch.accessKeyId ?? s.accessKeyId,
      secretAccessKey: patch.secretAccessKey ?? s.secretAccessKey,
    },
  })
}

describe('refusals by the storage: each file says why, none waits forever', () => {
  const cases: [string, () => DirectS3Store, string[], RegExp][] = [
    [
      'wrong access key',
      () => storeWith({ accessKeyId: 'nobody:none' }),
      // AWS says InvalidAccessKeyId; Swift's tempauth cannot tell and says SignatureDoesNotMatch.
      ['InvalidAccessKeyId', 'SignatureDoesNotMatch'],
      /access key is not recognised|secret access key does not match the access key ID/,
    ],
    [
      'wrong secret',
      () => storeWith({ secretAccessKey: 'not-the-secret' }),
      ['SignatureDoesNotMatch'],
      /secret access key does not match the access key ID/,
    ],
    [
      'missing bucket',
      () => storeWith({ bucket: 'upreel-no-such-bucket' }),
      ['NoSuchBucket'],
      /bucket does not exist/,
    ],
    [
      // Swift's s3api lives in us-east-1; signed for another region it answers
      // AuthorizationHeaderMalformed ("the region 'eu-west-1' is wrong; expecting 'us-east-1'").
      'wrong region',
      () => storeWith({ region: 'eu-west-1' }),
      ['AuthorizationHeaderMalformed', 'PermanentRedirect'],
      /expects a different region|another region/,
    ],
  ]
  it.each(cases)('%s', async (label, make, codes, message) => {
    const engine = testEngine({
      store: make(),
      stateDir: stateDir(label.replace(/ /g, '-')),
      preferredPartSize: 5 * MiB,
      keyTemplate: `refused/${label}/{filename}`,
    })
    const snaps = await engine.add([{ path: small }, { path: multi }])
    await engine.whenIdle()
    for (const s of snaps) {
      const snap = engine.get(s.id)!
      expect(snap.state, `${label} ${s.name}`).toBe('failed')
      expect(codes, `${label} ${s.name}`).toContain(snap.error?.code)
      expect(snap.error?.message).toMatch(message)
      // Refused at once, not after the retry budget.
      expect(snap.error?.message).not.toMatch(/gave up/)
    }
    expect(await openUploads(client, bucket, `refused/${label}/`)).toEqual([])
    await engine.close()
  })
})

describe('a clock 20 minutes off', () => {
  // The server refuses the first request (RequestTimeTooSkewed) and its Date header tells the
  // SDK the offset; the store signs that request again once with the corrected clock, so the
  // upload just works. (A clock that keeps drifting would fail with the clock message.)
  it.each([
    ['fast', 20 * 60_000],
    ['slow', -20 * 60_000],
  ])('%s: both files upload, byte-identical', async (label, offset) => {
    for (const files of [[small], [small, multi]]) {
      // Alone (a single PutObject meets the skew first) and together (CreateMultipartUpload does).
      const engine = testEngine({
        store: skewedStore(offset),
        stateDir: stateDir(`skew-${label}-${files.length}`),
        preferredPartSize: 5 * MiB,
        keyTemplate: `skew/${label}/${files.length}/{filename}`,
      })
      const snaps = await engine.add(files.map((path) => ({ path })))
      await engine.whenIdle()
      for (const s of snaps) {
        const done = engine.get(s.id)!
        expect(done.error, `${label} ${s.name}`).toBeUndefined()
        expect(done.state).toBe('done')
        expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(s.path))
      }
      await engine.close()
    }
  })
})

describe('the storage unreachable', () => {
  it('down at start: each file says it is waiting (none fails), then both finish when it is up', async () => {
    const link = new NetworkLink(testServer().endpoint)
    const url = await link.start()
    await link.down('refuse')
    try {
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: stateDir('down-at-start'),
        preferredPartSize: 5 * MiB,
        keyTemplate: 'down-at-start/{filename}',
        retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
      })
      const snaps = await engine.add([{ path: small }, { path: multi }])
      for (const s of snaps) {
        const waiting = await waitFor(
          engine,
          s.id,
          (x) => /Waiting for the network to come back/.test(x.notice ?? ''),
          30_000,
        )
        expect(['preparing', 'retrying']).toContain(waiting.state)
      }
      expect(engine.list().map((s) => s.state)).not.toContain('failed')
      await link.up()
      await engine.whenIdle()
      for (const s of snaps) {
        const done = engine.get(s.id)!
        expect(done.state).toBe('done')
        // The waiting notice does not outlive the wait.
        expect(done.notice).toBeUndefined()
        expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(s.path))
      }
      await engine.close()
    } finally {
      await link.stop()
    }
  })

  it('gone mid-upload past the retry budget: waits for the network (no failure), finishes when it is back', async () => {
    const link = new NetworkLink(testServer().endpoint)
    const url = await link.start()
    try {
      const file = await randomFile(join(tmp.dir, 'gone.mp4'), 40 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: stateDir('gone'),
        preferredPartSize: 5 * MiB,
        concurrency: 2,
        bandwidthLimit: 20 * MiB,
        retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
      })
      const [s] = await engine.add([{ path: file }])
      await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
      await link.down('refuse')
      const waiting = await waitFor(engine, s!.id, (x) =>
        /Waiting for the network to come back/.test(x.notice ?? ''),
      )
      expect(waiting.state).toBe('retrying')
      await link.up()
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.state).toBe('done')
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      expect(await openUploads(client, bucket, done.key)).toEqual([])
      await engine.close()
    } finally {
      await link.stop()
    }
  })
})

describe('backend mode', () => {
  let backend: TestBackend
  let s3Proxy: FaultProxy
  let backendProxy: FaultProxy
  let backendUrl: string
  beforeAll(async () => {
    s3Proxy = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
    const s3Url = await s3Proxy.start()
    backend = await startTestBackend({ bucket, s3Endpoint: s3Url, urlExpiresSeconds: 1 })
    backendProxy = new FaultProxy(backend.url, { seed: 1, rates: {}, peekBody: true })
    backendUrl = await backendProxy.start()
  })
  afterAll(async () => {
    await backendProxy?.stop()
    await backend?.close()
    await s3Proxy?.stop()
  })

  it('a presigned URL that expired before S3 saw it (1 s lifetime, 2.5 s stall) is signed again; the upload completes', async () => {
    s3Proxy.configure({
      stallMs: 2500,
      script: (r) =>
        r.op === 'UploadPart' && r.partNumber === 2 && r.nth === 0 ? 'stall' : undefined,
    })
    try {
      const engine = testEngine({
        store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth() }),
        stateDir: stateDir('expired'),
        preferredPartSize: 5 * MiB,
      })
      const [s] = await engine.add([{ path: multi }])
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      const part2 = s3Proxy.requests.filter((r) => r.op === 'UploadPart' && r.partNumber === 2)
      // The stalled one met S3's "Request has expired" (403); the re-signed one went through.
      expect(part2.map((r) => r.status)).toEqual([403, 200])
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(multi))
      await engine.close()
    } finally {
      s3Proxy.configure({ script: undefined })
      s3Proxy.reset()
    }
  })

  it('401: a wrong token fails every file at once with "sign in again"', async () => {
    const engine = testEngine({
      store: createCompanionStore({
        baseUrl: backendUrl,
        headers: { Authorization: 'Bearer not-a-real-token' },
      }),
      stateDir: stateDir('401'),
      preferredPartSize: 5 * MiB,
    })
    const snaps = await engine.add([{ path: small }, { path: multi }])
    await engine.whenIdle()
    for (const s of snaps) {
      const snap = engine.get(s.id)!
      expect(snap.error?.code).toBe('Unauthorized')
      expect(snap.error?.message).toMatch(/did not accept your sign-in/)
    }
    await engine.close()
  })

  it("403: bob cannot resume alice's upload (it fails, in words); alice still can", async () => {
    const file = await randomFile(join(tmp.dir, 'alices.mp4'), 30 * MiB)
    const dir = stateDir('403')
    const alice = testEngine({
      store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth('alice') }),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
      concurrency: 1,
      bandwidthLimit: 20 * MiB,
    })
    const [s] = await alice.add([{ path: file }])
    await waitFor(alice, s!.id, (x) => x.partsDone >= 2)
    await alice.close()
    const bob = testEngine({
      store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth('bob') }),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await bob.resumeInterrupted()
    await bob.whenIdle()
    const refused = bob.get(s!.id)!
    expect(refused.error?.code).toBe('Forbidden')
    expect(refused.error?.message).toMatch(
      /does not allow this upload for your account: “You do not have access to this upload\.”/,
    )
    await bob.close()
    const again = testEngine({
      store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth('alice') }),
      stateDir: dir,
      preferredPartSize: 5 * MiB,
    })
    await again.resumeInterrupted()
    await again.whenIdle()
    const done = again.get(s!.id)!
    expect(done.state).toBe('done')
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
    await again.close()
  })

  const html = (status: number, body: string): ScriptedAnswer => ({
    status,
    body,
    contentType: 'text/html',
  })
  it.each([
    [
      '500 on every try',
      { status: 500, body: '{"message":"Internal Server Error"}', contentType: 'application/json' },
      'BackendError',
      /upload server had a problem \(HTTP 500\).*gave up|gave up.*HTTP 500/s,
    ],
    [
      'an HTML page with 200 (a login portal)',
      html(200, '<html><body>Please log in to the Wi-Fi</body></html>'),
      'BackendBadResponse',
      /answered in a way Upreel does not understand/,
    ],
    [
      'an HTML 502 from a gateway, on every try',
      html(502, '<html><body><h1>502 Bad Gateway</h1></body></html>'),
      'BackendError',
      /HTTP 502/,
    ],
  ] as const)(
    '%s for one file: that file says so, the other file completes',
    async (label, answer, code, message) => {
      // Only the "create" of multi.mp4: the other file's requests pass.
      backendProxy.configure({
        script: (r) =>
          r.op === 'backend:create' && r.body?.includes('"multi.mp4"') ? answer : undefined,
      })
      try {
        const engine = testEngine({
          store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth() }),
          stateDir: stateDir(`be-${label.split(' ')[0]}-${label.length}`),
          preferredPartSize: 5 * MiB,
        })
        const [bad, good] = await engine.add([{ path: multi }, { path: small }])
        await engine.whenIdle()
        const failed = engine.get(bad!.id)!
        expect(failed.state, label).toBe('failed')
        expect(failed.error?.code).toBe(code)
        expect(failed.error?.message).toMatch(message)
        const done = engine.get(good!.id)!
        expect(done.state).toBe('done')
        expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(small))
        await engine.close()
      } finally {
        backendProxy.configure({ script: undefined })
        backendProxy.reset()
      }
    },
  )
})
