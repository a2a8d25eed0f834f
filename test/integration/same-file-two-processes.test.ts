/**
 * Two CLI processes started at the same moment on the same file and state dir. Neither has a
 * journal record yet that the other could see when it adds the file, so the duplicate check of
 * `add` cannot help: the per-file lock taken before a record is created must. Exactly one
 * uploads; the other says in words that the file is being uploaded elsewhere; nothing is left
 * behind (no second object, no open multipart upload, no record, no lock).
 *
 * Left to chance, one process usually writes its record before the other lists the journal, and
 * the race is missed; test/support/slow-record-write.mjs holds each process's first record write
 * back for a few seconds (a slow disk), so both are always past `add` first.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
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
import { ListObjectsV2Command } from '@aws-sdk/client-s3'

const MiB = 1024 * 1024
const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-twice')
  tmp = await tempDir('upreel-twice-')
})
afterAll(async () => {
  if (bucket) await emptyBucket(client, bucket).catch(() => undefined)
  await tmp?.cleanup()
})

describe('the same file given to two processes at once', () => {
  it('exactly one uploads it; the other says it is being uploaded elsewhere; nothing is orphaned', async () => {
    // 48 MiB at 4 MiB/s: the winner holds the file's lock for ≈ 12 s more after its record.
    const file = await randomFile(join(tmp.dir, 'twice.mp4'), 48 * MiB)
    const state = join(tmp.dir, 'state')
    const args = [
      'upload',
      file,
      '--bucket',
      bucket,
      '--endpoint',
      testServer().endpoint,
      '--state-dir',
      state,
      '--part-size',
      '8MiB',
      '--limit-rate',
      '4MiB',
      '--key-template',
      'twice/{uuid}/{filename}',
      '--json',
      '--no-media',
    ]
    const env = {
      NODE_OPTIONS: `--import ${resolve(__dirname, '../support/slow-record-write.mjs')}`,
      UPREEL_TEST_RECORD_WRITE_DELAY_MS: '4000',
    }
    const runs = [spawnCli(args, env), spawnCli(args, env)]
    const outs = await Promise.all(runs.map((r) => r.output))
    const lines = outs.map((o) => jsonLines(o.stdout))
    const winners = lines.filter((l) => l.some((x) => x.type === 'completed'))
    const losers = lines.filter((l) => l.some((x) => x.type === 'failed'))
    expect(winners, outs.map((o) => o.stdout + o.stderr).join('\n---\n')).toHaveLength(1)
    expect(losers).toHaveLength(1)
    const loser = runs[lines.indexOf(losers[0]!)]!
    const winner = runs[lines.indexOf(winners[0]!)]!
    expect(outs[runs.indexOf(loser)]!.code).toBe(1)
    expect(outs[runs.indexOf(winner)]!.code).toBe(0)
    const failed = losers[0]!.find((x) => x.type === 'failed')!
    expect(failed).toMatchObject({ path: file, code: 'Locked' })
    expect(failed.error).toBe(
      `Another Upreel process (pid ${winner.pid}) is already uploading this file. It continues there; close that one to take it over here.`,
    )

    // One object, byte-identical; no open multipart upload; no record, lock or temp file left.
    const done = winners[0]!.find((x) => x.type === 'completed')!
    expect(await sha256OfObject(client, bucket, done.key as string)).toBe(await sha256OfFile(file))
    const objects = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'twice/' }),
    )
    expect((objects.Contents ?? []).map((o) => o.Key)).toEqual([done.key])
    expect(await openUploads(client, bucket, 'twice/')).toEqual([])
    expect(await readdir(join(state, 'uploads'))).toEqual([])
    const history = (await readFile(join(state, 'history.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
    expect(history).toHaveLength(1)
  })
})
