/**
 * Crash loop, CI size (issue 6, part 3): the CLI SIGKILLed at 6 random instants over a 200 MiB
 * upload and resumed each time (test/support/crash-loop.ts explains the instants and the checks).
 * The full version, 20 kills over 1 GiB, is `npm run soak`. UPREEL_CRASH_SEED replays a run.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emptyBucket } from '../support/bucket-cleanup'
import { crashLoop } from '../support/crash-loop'
import { randomFile, tempDir } from '../support/engine'
import { FaultProxy } from '../support/fault-proxy'
import { freshBucket, testClient, testServer } from '../support/s3'

const MiB = 1024 * 1024
const SIZE = 200 * MiB
const KILLS = 6
const SEED = Number(process.env.UPREEL_CRASH_SEED ?? Date.now() % 100_000)

describe('crash loop (CI size)', () => {
  const client = testClient()
  let bucket: string
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let proxy: FaultProxy
  let endpoint: string

  beforeAll(async () => {
    bucket = await freshBucket(client, 'upreel-crash')
    tmp = await tempDir('upreel-crash-')
    proxy = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
    endpoint = await proxy.start()
  })
  afterAll(async () => {
    await proxy?.stop()
    if (bucket)
      await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
    await tmp?.cleanup()
  })

  it(`SIGKILL at ${KILLS} random instants over ${SIZE / MiB} MiB: byte-identical, nothing orphaned, the journal always loads`, async () => {
    const s = testServer()
    const file = await randomFile(join(tmp.dir, 'crash loop.mp4'), SIZE)
    const lines: string[] = []
    const r = await crashLoop({
      file,
      size: SIZE,
      kills: KILLS,
      seed: SEED,
      bucket,
      stateDir: join(tmp.dir, 'state'),
      endpoint,
      proxy,
      client,
      credentials: {
        accessKeyId: s.accessKeyId,
        secretAccessKey: s.secretAccessKey,
        region: s.region,
      },
      flags: ['--part-size', '5MiB', '--concurrency', '4', '--limit-rate', '40MiB'],
      log: (l) => lines.push(l),
    })
    console.info(
      [
        `crash loop (seed ${SEED}): ${r.kills.length} kills over ${SIZE / MiB} MiB in ${r.seconds.toFixed(0)} s`,
        ...lines,
        `journal loaded ${r.journalLoads}/${r.journalChecks}; journaled parts re-sent ${r.resentJournaled}; max sends of a part ${r.maxPartSends}; open uploads after ${r.openUploadsAfter}; identical ${r.sha256Local === r.sha256Remote}`,
      ].join('\n'),
    )
    expect(r.kills.filter((k) => !k.exitedFirst)).toHaveLength(KILLS)
    expect(r.journalLoads).toBe(r.journalChecks)
    expect(r.finalExit).toBe(0)
    expect(r.sha256Remote).toBe(r.sha256Local)
    expect(r.openUploadsAfter).toBe(0)
    expect(r.leftoverRecords).toBe(0)
    expect(r.resentJournaled).toBe(0)
    // One upload id throughout: no kill made the upload start over.
    expect(new Set(r.kills.map((k) => k.uploadId).filter(Boolean)).size).toBeLessThanOrEqual(1)
  }, 300_000)
})
