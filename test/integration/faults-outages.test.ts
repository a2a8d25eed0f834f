/**
 * Outages (issue 6, part 2): the S3 server stopped and restarted mid-upload, the network gone
 * (refusing, or silently dropping everything), the backend restarted. Each upload must end
 * byte-identical, leave no multipart upload open, and send no part more than 4 times; while the
 * outage lasts the file says it is waiting instead of failing.
 *
 * The network outage lasts UPREEL_OUTAGE_SECONDS (default 6 s here, in CI). `npm run soak` runs
 * this file with UPREEL_OUTAGE_SECONDS=30 and the engine's real retry policy (up to 20 s between
 * tries), which is the 30-second version the issue asks for.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import type { UploadEngine } from '../../src/main/core/engine/upload-engine'
import type { ObjectStore } from '../../src/main/core/ports'
import { DEFAULT_RETRY } from '../../src/main/core/retry'
import { createS3Client } from '../../src/main/core/s3/client'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'
import { startTestBackend, type TestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { FaultProxy, NetworkLink } from '../support/fault-proxy'
import { startPrivateS3 } from '../support/private-s3'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const MiB = 1024 * 1024
const OUTAGE_S = Number(process.env.UPREEL_OUTAGE_SECONDS ?? 6)
/**
 * Short outages (CI) use shorter retry delays; the 30 s soak uses the engine's real policy
 * (8 attempts over 26–52 s). A restarted Swift answers 500 InternalError for a few seconds
 * while it warms up, longer on a loaded machine: the CI budget (8 attempts, 8–16 s) must cover
 * that as the real one does. At 6 attempts over 1.5–3 s it once ran out in CI.
 */
const RETRY =
  OUTAGE_S >= 30 ? DEFAULT_RETRY : { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 4000 }
const MAX_SENDS = 4
const TIMEOUT_MS = 60_000 + OUTAGE_S * 1000 * 3

const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-outage')
  tmp = await tempDir('upreel-outage-')
})
afterAll(async () => {
  // Hundreds of MiB per run: the shared server's disk is not for keeping them.
  if (bucket)
    await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
  await tmp?.cleanup()
})

const measured: string[] = []
afterAll(() => {
  if (measured.length) console.info(`outages (${OUTAGE_S} s):\n${measured.join('\n')}`)
})

/** Parts journaled by the engine right now (they must never be sent again). */
async function journaledParts(
  engine: UploadEngine,
): Promise<{ uploadId: string; parts: Set<number> }> {
  const [rec] = await engine.records()
  return { uploadId: rec!.uploadId!, parts: new Set(rec!.parts.map((p) => p.n)) }
}

function resentAfter(proxy: FaultProxy, mark: number, j: { uploadId: string; parts: Set<number> }) {
  return proxy.requests
    .slice(mark)
    .filter((r) => r.op === 'UploadPart' && r.uploadId === j.uploadId && j.parts.has(r.partNumber!))
}

describe('outages mid-upload', () => {
  it(
    'the S3 server stopped and restarted: the upload waits, then finishes byte-identical',
    async (ctx) => {
      const shared = testServer()
      if (shared.external || !shared.startScript || !shared.stopScript) {
        console.warn(
          'skipped: S3_TEST_ENDPOINT points at a server this test cannot stop and restart',
        )
        ctx.skip()
        return
      }
      // A private server: the shared one may be serving other test runs right now.
      const s3 = await startPrivateS3({
        startScript: shared.startScript,
        stopScript: shared.stopScript,
      })
      const counter = new FaultProxy(s3.endpoint, { seed: 1, rates: {} })
      const url = await counter.start()
      const privateClient = createS3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      })
      try {
        const b = 'restart-' + Date.now()
        await privateClient.send(new CreateBucketCommand({ Bucket: b }))
        const file = await randomFile(join(tmp.dir, 'restart.mp4'), 60 * MiB)
        const engine = testEngine({
          store: new DirectS3Store({
            bucket: b,
            endpoint: url,
            region: s3.region,
            forcePathStyle: true,
            credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
          }),
          stateDir: join(tmp.dir, 'state-s3-restart'),
          preferredPartSize: 5 * MiB,
          concurrency: 2,
          bandwidthLimit: 12 * MiB,
          retry: RETRY,
        })
        const [s] = await engine.add([{ path: file }])
        await waitFor(engine, s!.id, (x) => x.partsDone >= 3)
        const stopped = performance.now()
        await s3.stop()
        const journaled = await journaledParts(engine)
        const mark = counter.requests.length
        const waiting = await waitFor(engine, s!.id, (x) => x.state === 'retrying')
        expect(waiting.notice).toMatch(/not answering|network|storage/i)
        await s3.start()
        const restarted = performance.now()
        await engine.whenIdle()
        const done = engine.get(s!.id)!
        expect(done.error).toBeUndefined()
        expect(done.state).toBe('done')
        expect(resentAfter(counter, mark, journaled)).toEqual([])
        // While the server was down the proxy in front of it took every attempt and could not
        // deliver it; the bound is on what reached the server.
        expect(counter.maxPartSends({ reachedServer: true })).toBeLessThanOrEqual(MAX_SENDS)
        expect(await sha256OfObject(privateClient, b, done.key!)).toBe(await sha256OfFile(file))
        expect(await openUploads(privateClient, b)).toEqual([])
        measured.push(
          `S3 restart: down ${((restarted - stopped) / 1000).toFixed(1)} s, done ${((performance.now() - restarted) / 1000).toFixed(1)} s after it was back, max sends of a part ${counter.maxPartSends({ reachedServer: true })} reaching S3 (${counter.maxPartSends()} attempts)`,
        )
        await engine.close()
      } finally {
        privateClient.destroy()
        await counter.stop()
        await s3.destroy()
      }
    },
    TIMEOUT_MS + 120_000,
  )

  for (const mode of ['direct', 'backend'] as const) {
    for (const kind of ['refuse', 'blackhole'] as const) {
      it(
        `${mode} mode, network gone for ${OUTAGE_S} s (${kind}): waits, then finishes byte-identical`,
        async () => {
          // engine → link → counting proxy → S3 (and in backend mode engine → link → backend).
          const counter = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
          const counterUrl = await counter.start()
          const s3Link = new NetworkLink(counterUrl)
          const s3Url = await s3Link.start()
          let backend: TestBackend | undefined
          let backendLink: NetworkLink | undefined
          try {
            let store: ObjectStore
            if (mode === 'backend') {
              backend = await startTestBackend({ bucket, s3Endpoint: s3Url })
              backendLink = new NetworkLink(backend.url)
              const backendUrl = await backendLink.start()
              store = createCompanionStore({ baseUrl: backendUrl, headers: backend.auth() })
            } else {
              store = directStore(bucket, s3Url)
            }
            const file = await randomFile(join(tmp.dir, `net-${mode}-${kind}.mp4`), 50 * MiB)
            const engine = testEngine({
              store,
              stateDir: join(tmp.dir, `state-net-${mode}-${kind}`),
              preferredPartSize: 5 * MiB,
              concurrency: 2,
              bandwidthLimit: 12 * MiB,
              retry: RETRY,
              log: process.env.UPREEL_DEBUG ? (m) => console.log(m) : undefined,
            })
            const [s] = await engine.add([{ path: file }])
            await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
            await s3Link.down(kind)
            await backendLink?.down(kind)
            const journaled = await journaledParts(engine)
            const mark = counter.requests.length
            const doneAtDrop = engine.get(s!.id)!.partsDone
            // The outage lasts a set time: this wait *is* the scenario, not a wait for a signal.
            await new Promise((r) => setTimeout(r, OUTAGE_S * 1000))
            const during = engine.get(s!.id)!
            // Nothing failed and nothing finished while the network was gone.
            expect(during.state).not.toBe('failed')
            expect(during.partsDone).toBeLessThanOrEqual(doneAtDrop + 2)
            if (kind === 'refuse') {
              expect(during.state).toBe('retrying')
              expect(during.notice).toMatch(/network|not answering|reach|connection/i)
            }
            await s3Link.up()
            await backendLink?.up()
            const back = performance.now()
            await engine.whenIdle()
            const done = engine.get(s!.id)!
            expect(done.error).toBeUndefined()
            expect(done.state).toBe('done')
            expect(resentAfter(counter, mark, journaled)).toEqual([])
            expect(counter.maxPartSends()).toBeLessThanOrEqual(MAX_SENDS)
            expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
            expect(await openUploads(client, bucket)).toEqual([])
            measured.push(
              `${mode} ${kind}: ${OUTAGE_S} s outage, done ${((performance.now() - back) / 1000).toFixed(1)} s after the network was back (state during: ${during.state}), max sends ${counter.maxPartSends()}`,
            )
            await engine.close()
          } finally {
            await backendLink?.stop()
            await backend?.close()
            await s3Link.stop()
            await counter.stop()
          }
        },
        TIMEOUT_MS,
      )
    }
  }

  it('the backend restarted mid-upload (and down for 3 s): finishes byte-identical', async () => {
    const counter = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
    const counterUrl = await counter.start()
    const backend = await startTestBackend({ bucket, s3Endpoint: counterUrl })
    // Every failed attempt the engine makes (part or control request) logs "…; retry in N ms".
    const failedWhileDown: string[] = []
    let down = false
    let metDowntime!: () => void
    const met = new Promise<void>((r) => (metDowntime = r))
    try {
      const file = await randomFile(join(tmp.dir, 'backend-restart.mp4'), 50 * MiB)
      const engine = testEngine({
        store: createCompanionStore({ baseUrl: backend.url, headers: backend.auth() }),
        stateDir: join(tmp.dir, 'state-backend-restart'),
        preferredPartSize: 5 * MiB,
        concurrency: 2,
        bandwidthLimit: 12 * MiB,
        retry: RETRY,
        log: (m) => {
          if (!down || !/retry in \d+ ms/.test(m)) return
          failedWhileDown.push(m)
          metDowntime()
        },
      })
      const [s] = await engine.add([{ path: file }])
      await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
      await backend.restart()
      await waitFor(engine, s!.id, (x) => x.partsDone >= 5)
      await backend.stop()
      down = true
      const stopped = performance.now()
      const journaled = await journaledParts(engine)
      const mark = counter.requests.length
      // Down for 3 s, and until the engine has run into it: parts it holds signed URLs for go
      // straight to S3, so only its next call to the backend (sign, complete) meets the outage.
      await Promise.all([
        new Promise((r) => setTimeout(r, 3000)),
        Promise.race([
          met,
          new Promise((_, j) =>
            setTimeout(() => j(new Error('the engine never called the stopped backend')), 60_000),
          ),
        ]),
      ])
      await backend.start()
      down = false
      const back = performance.now()
      // The outage was met: at least one attempt failed against the stopped backend.
      expect(failedWhileDown.length).toBeGreaterThanOrEqual(1)
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      expect(resentAfter(counter, mark, journaled)).toEqual([])
      expect(counter.maxPartSends()).toBeLessThanOrEqual(MAX_SENDS)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      expect(await openUploads(client, bucket)).toEqual([])
      measured.push(
        `backend restart: down ${((back - stopped) / 1000).toFixed(1)} s, ${failedWhileDown.length} failed attempt(s) against it (${failedWhileDown[0]}), done ${((performance.now() - back) / 1000).toFixed(1)} s after it was back`,
      )
      await engine.close()
    } finally {
      await backend.close()
      await counter.stop()
    }
  })
})
