/**
 * A computer whose clock is hours off, uploading in direct mode: the CLI runs with its wall clock
 * shifted (test/support/shift-clock.mjs). The server refuses the first control request as
 * RequestTimeTooSkewed, the SDK learns the offset from its Date header, and every part URL must
 * then be signed with the corrected time: a URL stamped with the wrong clock is expired on
 * arrival (clock behind) and S3 refuses every part.
 */
import { resolve, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emptyBucket } from '../support/bucket-cleanup'
import { jsonLines, spawnCli } from '../support/cli'
import { randomFile, tempDir } from '../support/engine'
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

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-skew')
  tmp = await tempDir('upreel-skew-')
})
afterAll(async () => {
  if (bucket) await emptyBucket(client, bucket).catch(() => undefined)
  await tmp?.cleanup()
})

describe('a system clock two hours behind, direct mode (CLI)', () => {
  it('part URLs carry the corrected time: the file uploads, byte-identical, nothing left open', async () => {
    // Three parts: presigned part PUTs, not a single SDK PutObject.
    const file = await randomFile(join(tmp.dir, 'skewed.mp4'), 12 * MiB)
    const run = spawnCli(
      [
        'upload',
        file,
        '--bucket',
        bucket,
        '--endpoint',
        testServer().endpoint,
        '--part-size',
        '5MiB',
        '--state-dir',
        join(tmp.dir, 'state'),
        '--key-template',
        'skew/{filename}',
        '--json',
        '--no-media',
      ],
      {
        NODE_OPTIONS: `--import ${resolve(__dirname, '../support/shift-clock.mjs')}`,
        UPREEL_TEST_CLOCK_OFFSET_MS: String(-2 * 3600_000),
      },
    )
    const out = await run.output
    const lines = jsonLines(out.stdout)
    expect(
      lines.find((l) => l.type === 'failed'),
      out.stdout + out.stderr,
    ).toBeUndefined()
    expect(out.code, out.stderr).toBe(0)
    const done = lines.find((l) => l.type === 'completed')!
    expect(await sha256OfObject(client, bucket, done.key as string)).toBe(await sha256OfFile(file))
    expect(await openUploads(client, bucket, 'skew/')).toEqual([])
  })
})
