/**
 * Fault injection (issue 6, part 2): the real engine against the real S3 server and the reference
 * backend through FaultProxy (resets, 500, 503 SlowDown, stalls, slow bodies, truncated or lost
 * answers at configured, seeded rates). Ten files of mixed sizes must end byte-identical (sha256
 * of GetObject), with no multipart upload left open and no part sent more than 4 times.
 * Outages (S3 restarted, network gone, backend restarted) are in faults-outages.test.ts.
 */
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import type { ObjectStore } from '../../src/main/core/ports'
import { startTestBackend, type TestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { directStore, randomFile, tempDir, testEngine } from '../support/engine'
import { FAULT_KINDS, FaultProxy, type FaultConfig } from '../support/fault-proxy'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const MiB = 1024 * 1024
/** Mixed sizes around the edges of a 5 MiB part plan: single requests and 2 to 9 parts. */
const SIZES = [
  1,
  300 * 1024,
  5 * MiB,
  5 * MiB + 1,
  7 * MiB + 333,
  12 * MiB,
  16 * MiB + 4096,
  23 * MiB + 17,
  31 * MiB,
  42 * MiB + 999,
]
/**
 * One request in ten fails (reset, 500, 503, truncated) and one in twenty is slowed: far worse
 * than a real network, so every path is taken several times in one run, yet a part meets four
 * failures in a row only once in 10,000 (the bound below). Seeded: UPREEL_FAULT_SEED replays a
 * run's draws.
 */
const RATES: FaultConfig['rates'] = {
  reset: 0.03,
  status500: 0.02,
  slowdown503: 0.02,
  stall: 0.025,
  slowBody: 0.025,
  truncate: 0.03,
}
/** Every kind is met at least once on a part PUT, whatever the draw (see ensureEachKind). */
const isPart = (r: { op: string }) => r.op === 'UploadPart'
const SEED = Number(process.env.UPREEL_FAULT_SEED ?? 6)
/** The engine's policy with short delays: CI must not wait a minute per fault. */
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 2000 }
/** The bound: no part sent more than this many times. */
const MAX_SENDS = 4

const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>
let files: string[]

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-faults')
  tmp = await tempDir('upreel-faults-')
  files = []
  for (const [i, size] of SIZES.entries()) {
    files.push(await randomFile(join(tmp.dir, `clip-${i}-${size}.mp4`), size))
  }
})
afterAll(async () => {
  // Hundreds of MiB per run: the shared server's disk is not for keeping them.
  if (bucket)
    await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
  await tmp?.cleanup()
})

interface SuiteResult {
  mode: string
  seconds: number
  requests: number
  injected: Record<string, number>
  maxSends: number
  orphans: number
}
const results: SuiteResult[] = []

afterAll(() => {
  if (!results.length) return
  const lines = [
    `fault suite (seed ${SEED}): ${SIZES.length} files, ${(SIZES.reduce((a, b) => a + b, 0) / MiB).toFixed(0)} MiB`,
    '| mode | requests | ' + FAULT_KINDS.join(' | ') + ' | max sends of one part | orphans | s |',
    ...results.map(
      (r) =>
        `| ${r.mode} | ${r.requests} | ${FAULT_KINDS.map((k) => r.injected[k]).join(' | ')} | ${r.maxSends} | ${r.orphans} | ${r.seconds.toFixed(1)} |`,
    ),
  ]
  console.info(lines.join('\n'))
})

/** Uploads the ten files through `store`, checks every one, and returns the run's numbers. */
async function runSuite(
  mode: string,
  store: ObjectStore,
  s3Proxy: FaultProxy,
  extraProxies: FaultProxy[] = [],
): Promise<void> {
  const stateDir = join(tmp.dir, `state-${mode}`)
  const engine = testEngine({
    store,
    stateDir,
    preferredPartSize: 5 * MiB,
    concurrency: 4,
    keyTemplate: `faults-${mode}/{filename}`,
    retry: FAST_RETRY,
    log: process.env.UPREEL_DEBUG ? (m) => console.log(Date.now() % 1000000, m) : undefined,
  })
  const t0 = performance.now()
  const added = await engine.add(files.map((path) => ({ path })))
  await engine.whenIdle()
  const seconds = (performance.now() - t0) / 1000
  for (const [i, s] of added.entries()) {
    const done = engine.get(s.id)!
    expect(done.error, `${mode} ${files[i]}`).toBeUndefined()
    expect(done.state).toBe('done')
    expect(done.bytesSent).toBe(SIZES[i])
    expect(await sha256OfObject(client, bucket, done.key!), files[i]).toBe(
      await sha256OfFile(files[i]!),
    )
  }
  await engine.close()
  if (process.env.UPREEL_DEBUG) {
    for (const p of [s3Proxy, ...extraProxies])
      console.log(JSON.stringify(p.requests.filter((r) => (r.ms ?? 1e9) > 10_000)))
  }
  const orphans = await openUploads(client, bucket)
  expect(orphans).toEqual([])
  // Nothing left to resume: every record was finished and removed.
  expect((await readdir(join(stateDir, 'uploads'))).filter((n) => n.endsWith('.jsonl'))).toEqual([])
  const injected = s3Proxy.injected()
  for (const p of extraProxies) {
    for (const [k, v] of Object.entries(p.injected())) injected[k as keyof typeof injected] += v
  }
  // The run proves something only if every kind of fault really happened.
  for (const kind of FAULT_KINDS) expect(injected[kind], kind).toBeGreaterThan(0)
  // Parts and single-request PutObjects alike (a small file is one part).
  const maxSends = s3Proxy.maxPartSends()
  expect(maxSends).toBeLessThanOrEqual(MAX_SENDS)
  results.push({
    mode,
    seconds,
    requests: s3Proxy.requests.length + extraProxies.reduce((a, p) => a + p.requests.length, 0),
    injected,
    maxSends,
    orphans: orphans.length,
  })
}

describe('fault injection: ten files through a faulty network', () => {
  it('direct mode: every file byte-identical, nothing orphaned, no part sent more than 4 times', async () => {
    const proxy = new FaultProxy(testServer().endpoint, {
      seed: SEED,
      rates: RATES,
      ensureEachKind: isPart,
    })
    const url = await proxy.start()
    try {
      await runSuite('direct', directStore(bucket, url), proxy)
    } finally {
      await proxy.stop()
    }
  })

  it('backend mode: faults between the engine and the backend and between the engine and S3', async () => {
    const s3Proxy = new FaultProxy(testServer().endpoint, {
      seed: SEED,
      rates: RATES,
      ensureEachKind: isPart,
      // The backend's own CreateMultipartUpload may lose its answer too: the backend aborts the
      // upload S3 opened (checked on its own below, and by "no upload left open" here).
    })
    const s3Url = await s3Proxy.start()
    let backend: TestBackend | undefined
    try {
      backend = await startTestBackend({ bucket, s3Endpoint: s3Url })
      const proxied = new FaultProxy(backend.url, {
        seed: SEED + 1,
        rates: RATES,
        errorBody: 'json',
        // A lost answer to "create" leaves an upload only the backend knows (the Companion
        // protocol has no way to list or dedupe it): measured on its own below.
        applies: (r, kind) => !(r.op === 'backend:create' && kind === 'truncate'),
        peekBody: true,
      })
      const backendUrl = await proxied.start()
      try {
        const store = createCompanionStore({ baseUrl: backendUrl, headers: backend.auth() })
        await runSuite('backend', store, s3Proxy, [proxied])
      } finally {
        await proxied.stop()
      }
    } finally {
      await backend?.close()
      await s3Proxy.stop()
    }
  })
})

describe('answers lost after the server acted (truncated on purpose, one operation at a time)', () => {
  it.each(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'PutObject'])(
    'direct mode, %s: the upload completes byte-identical and nothing is left open',
    async (op) => {
      const proxy = new FaultProxy(testServer().endpoint, {
        seed: SEED,
        rates: {},
        // One request only: part 2 of the parts, the first of anything else.
        script: (r) =>
          r.op === op && r.nth === 0 && (op !== 'UploadPart' || r.partNumber === 2)
            ? 'truncate'
            : undefined,
      })
      const url = await proxy.start()
      try {
        const size = op === 'PutObject' ? 3 * MiB : 12 * MiB
        const file = await randomFile(join(tmp.dir, `lost-${op}.mp4`), size)
        const engine = testEngine({
          store: directStore(bucket, url),
          stateDir: join(tmp.dir, `state-lost-${op}`),
          preferredPartSize: 5 * MiB,
          keyTemplate: `lost/${op}/{filename}`,
          retry: FAST_RETRY,
        })
        const [s] = await engine.add([{ path: file }])
        await engine.whenIdle()
        const done = engine.get(s!.id)!
        expect(done.error).toBeUndefined()
        expect(done.state).toBe('done')
        expect(proxy.injected().truncate).toBe(1)
        expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
        await engine.close()
        expect(await openUploads(client, bucket, `lost/${op}/`)).toEqual([])
      } finally {
        await proxy.stop()
      }
    },
  )
})

describe('backend mode: answers lost after the backend or S3 acted', () => {
  let backend: TestBackend
  let s3Proxy: FaultProxy
  let backendProxy: FaultProxy
  let backendUrl: string
  beforeAll(async () => {
    s3Proxy = new FaultProxy(testServer().endpoint, { seed: SEED, rates: {} })
    const s3Url = await s3Proxy.start()
    backend = await startTestBackend({ bucket, s3Endpoint: s3Url })
    backendProxy = new FaultProxy(backend.url, { seed: SEED, rates: {}, errorBody: 'json' })
    backendUrl = await backendProxy.start()
  })
  afterAll(async () => {
    await backendProxy?.stop()
    await backend?.close()
    await s3Proxy?.stop()
  })

  it.each([
    ['backend:complete', 0],
    ['backend:sign', 0],
    ['backend:batch', 0],
    ['UploadPart', 0],
    // Known limit, measured here rather than hidden: the backend opened an upload whose id never
    // reached Upreel; the Companion protocol has no call to list or dedupe it, so it stays until
    // the bucket's lifecycle rule (or `upreel cleanup --server` with S3 keys) removes it.
    ['backend:create', 1],
  ] as const)('%s: completes byte-identical; %i upload(s) left open', async (op, left) => {
    const proxy = op.startsWith('backend:') ? backendProxy : s3Proxy
    proxy.configure({
      script: (r) =>
        r.op === op && r.nth === 0 && (op !== 'UploadPart' || r.partNumber === 2)
          ? 'truncate'
          : undefined,
    })
    try {
      const file = await randomFile(join(tmp.dir, `lost-be-${op.replace(':', '-')}.mp4`), 27 * MiB)
      const engine = testEngine({
        store: createCompanionStore({
          baseUrl: backendUrl,
          headers: backend.auth(),
          // Part by part, so there is a single-part sign request to lose.
          signWindow: op === 'backend:sign' ? 1 : undefined,
        }),
        stateDir: join(tmp.dir, `state-lost-be-${op.replace(':', '-')}`),
        preferredPartSize: 5 * MiB,
        retry: FAST_RETRY,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      expect(proxy.injected().truncate).toBe(1)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      await engine.close()
      const name = `/${file.slice(file.lastIndexOf('/') + 1)}`
      const open = (await openUploads(client, bucket, 'users/alice/')).filter((u) =>
        u.key.endsWith(name),
      )
      expect(open).toHaveLength(left)
      for (const u of open) {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }),
        )
      }
    } finally {
      proxy.configure({ script: undefined })
      s3Proxy.reset()
      backendProxy.reset()
    }
  })

  // When the answer to the reference backend's own CreateMultipartUpload is lost, S3 has opened an
  // upload the backend never learnt the id of; it aborts what is open under the key it chose
  // before answering 502, and the engine's retry makes a fresh one.
  it("the backend's own CreateMultipartUpload answer lost leaves no upload open", async () => {
    s3Proxy.configure({
      script: (r) => (r.op === 'CreateMultipartUpload' && r.nth === 0 ? 'truncate' : undefined),
    })
    try {
      const file = await randomFile(join(tmp.dir, 'lost-be-s3-create.mp4'), 12 * MiB)
      const engine = testEngine({
        store: createCompanionStore({ baseUrl: backendUrl, headers: backend.auth() }),
        stateDir: join(tmp.dir, 'state-lost-be-s3-create'),
        preferredPartSize: 5 * MiB,
        retry: FAST_RETRY,
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      await engine.close()
      expect(done.state).toBe('done')
      expect(s3Proxy.injected().truncate).toBe(1)
      const open = (await openUploads(client, bucket, 'users/alice/')).filter((u) =>
        u.key.endsWith('/lost-be-s3-create.mp4'),
      )
      for (const u of open) {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }),
        )
      }
      expect(open).toEqual([])
    } finally {
      s3Proxy.configure({ script: undefined })
      s3Proxy.reset()
      backendProxy.reset()
    }
  })
})
