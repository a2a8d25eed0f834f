import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { parseLog } from '../../src/main/core/journal/file-journal'
import type { JournalRecord } from '../../src/main/core/journal/types'
import { jsonLines, spawnCli } from '../support/cli'
import { randomFile, tempDir } from '../support/engine'
import { journalParts, untilJournaled } from '../support/journal'
import { S3Proxy } from '../support/proxy'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const MiB = 1024 * 1024

async function journalRecords(state: string): Promise<JournalRecord[]> {
  const dir = join(state, 'uploads')
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'))
  return Promise.all(names.map(async (n) => parseLog(await readFile(join(dir, n), 'utf8'))!.record))
}

describe('upreel CLI', () => {
  const client = testClient()
  let bucket: string
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let proxy: S3Proxy
  let endpoint: string

  beforeAll(async () => {
    bucket = await freshBucket(client)
    tmp = await tempDir()
    proxy = new S3Proxy(testServer().endpoint)
    endpoint = await proxy.start()
  })
  afterAll(async () => {
    await proxy.stop()
    await tmp.cleanup()
  })

  it('prints one JSON object per line and exits 1 when any file failed, 0 when all completed', async () => {
    const good = await randomFile(join(tmp.dir, 'good clip.mp4'), 7 * MiB)
    const empty = join(tmp.dir, 'empty.mp4')
    await writeFile(empty, '')
    const state = join(tmp.dir, 'state-json')
    const common = [
      '--bucket',
      bucket,
      '--endpoint',
      endpoint,
      '--state-dir',
      state,
      '--json',
      '--no-media',
      '--part-size',
      '5MiB',
    ]
    const mixed = await spawnCli(['upload', good, empty, ...common]).output
    expect(mixed.code, mixed.stderr).toBe(1)
    const lines = jsonLines(mixed.stdout)
    const completed = lines.find((l) => l.type === 'completed')!
    expect(completed).toMatchObject({ path: good, bucket, size: 7 * MiB })
    expect(completed.etag).toMatch(/^[0-9a-f]{32}-2$/)
    expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
      await sha256OfFile(good),
    )
    const failed = lines.find((l) => l.type === 'failed')!
    expect(failed).toMatchObject({ path: empty, code: 'FileEmpty' })
    expect(failed.error).toMatch(/empty \(0 bytes\)/)

    const ok = await spawnCli(['upload', good, ...common]).output
    expect(ok.code, ok.stderr).toBe(0)
  })

  it('exits 2 on a usage error', async () => {
    const r = await spawnCli([
      'upload',
      '--bucket',
      bucket,
      '--concurrency',
      'lots',
      join(tmp.dir, 'x.mp4'),
    ]).output
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--concurrency must be 1 to 64/)
    expect((await spawnCli(['frobnicate']).output).code).toBe(2)
  })

  it('survives SIGKILL at random moments: resumes every time, sends no finished part again, leaves nothing behind', async () => {
    const file = await randomFile(join(tmp.dir, 'crash.mp4'), 200 * MiB)
    const state = join(tmp.dir, 'state-crash')
    const common = [
      '--endpoint',
      endpoint,
      '--bucket',
      bucket,
      '--state-dir',
      state,
      '--json',
      '--no-media',
      '--part-size',
      '5MiB',
      '--concurrency',
      '4',
      '--limit-rate',
      '50MiB',
    ]
    const kills: { mark: number; journaled: Map<string, Set<number>> }[] = []
    let journaledBefore = 0
    for (let i = 0; i < 4; i++) {
      const child = spawnCli(i === 0 ? ['upload', file, ...common] : ['resume', ...common])
      await untilJournaled(state, journaledBefore + 2)
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)))
      child.kill('SIGKILL')
      const out = await child.output
      expect(out.signal).toBe('SIGKILL')
      const journaled = await journalParts(state)
      journaledBefore = [...journaled.values()].reduce((s, p) => s + p.size, 0)
      kills.push({ mark: proxy.requests.length, journaled })
    }
    const last = await spawnCli(['resume', ...common]).output
    expect(last.code, last.stderr).toBe(0)
    const completed = jsonLines(last.stdout).find((l) => l.type === 'completed')!
    expect(completed.resumed).toBe(true)
    expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
      await sha256OfFile(file),
    )
    expect(await openUploads(client, bucket)).toEqual([])
    expect(
      await readdir(join(state, 'uploads')).then((f) => f.filter((n) => n.endsWith('.jsonl'))),
    ).toEqual([])
    for (const k of kills) {
      const resent = proxy.requests
        .slice(k.mark)
        .filter(
          (r) =>
            r.method === 'PUT' &&
            r.partNumber &&
            k.journaled.get(r.uploadId ?? '')?.has(r.partNumber),
        )
      expect(resent).toEqual([])
    }
  })

  it('SIGINT pauses cleanly; list shows the upload; abort removes it from the server', async () => {
    const file = await randomFile(join(tmp.dir, 'sigint.mp4'), 60 * MiB)
    const state = join(tmp.dir, 'state-sigint')
    const common = [
      '--endpoint',
      endpoint,
      '--bucket',
      bucket,
      '--state-dir',
      state,
      '--no-media',
      '--part-size',
      '5MiB',
      '--limit-rate',
      '20MiB',
    ]
    const child = spawnCli(['upload', file, ...common])
    await untilJournaled(state, 2)
    child.kill('SIGINT')
    const out = await child.output
    expect(out.code, out.stderr).toBe(130)
    expect(out.stderr).toMatch(/pausing/)
    const [rec] = await readdir(join(state, 'uploads')).then((n) =>
      n.filter((x) => x.endsWith('.jsonl')),
    )
    const parsed = parseLog(await readFile(join(state, 'uploads', rec!), 'utf8'))!
    expect(['paused', 'active']).toContain(parsed.record.status)
    expect(parsed.torn).toBe(false)

    const listed = await spawnCli(['list', '--state-dir', state, '--json']).output
    const entries = jsonLines(listed.stdout)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ type: 'interrupted', id: parsed.record.id, path: file })
    expect(await openUploads(client, bucket, parsed.record.key)).toHaveLength(1)

    const aborted = await spawnCli(['abort', parsed.record.id, ...common]).output
    expect(aborted.code, aborted.stderr).toBe(0)
    expect(await openUploads(client, bucket, parsed.record.key)).toEqual([])
    const after = await spawnCli(['list', '--state-dir', state, '--json']).output
    expect(jsonLines(after.stdout)).toEqual([])
  })

  /** Starts an upload with destination flags and Ctrl-C's it once some parts are journaled. */
  async function interrupted(name: string, state: string) {
    const file = await randomFile(join(tmp.dir, name), 40 * MiB)
    const child = spawnCli([
      'upload',
      file,
      '--endpoint',
      endpoint,
      '--bucket',
      bucket,
      '--state-dir',
      state,
      '--no-media',
      '--part-size',
      '5MiB',
      '--limit-rate',
      '20MiB',
    ])
    await untilJournaled(state, 2)
    child.kill('SIGINT')
    const out = await child.output
    expect(out.code, out.stderr).toBe(130)
    // The hint names the command that continues it: no destination flags needed.
    expect(out.stderr).toContain(`run \`upreel resume --state-dir ${state}\` to continue`)
    const records = await journalRecords(state)
    const record = records.find((r) => r.source.path === file)!
    expect(await openUploads(client, bucket, record.key)).toHaveLength(1)
    return { file, record }
  }

  it('resume and abort with no destination flags reach each upload through its journaled connection', async () => {
    const state = join(tmp.dir, 'state-noflags')
    const { file, record } = await interrupted('noflags.mp4', state)
    // Where it went, never how to sign in: the keys stay in the environment.
    expect(record.destination.connection).toEqual({
      mode: 's3',
      bucket,
      region: testServer().region,
      endpoint,
      forcePathStyle: true,
    })
    const journalText = await readFile(join(state, 'uploads', `${record.id}.jsonl`), 'utf8')
    expect(journalText).not.toContain(testServer().secretAccessKey)

    const resumed = await spawnCli(['resume', '--state-dir', state, '--json', '--no-media']).output
    expect(resumed.code, resumed.stderr).toBe(0)
    const completed = jsonLines(resumed.stdout).find((l) => l.type === 'completed')!
    expect(completed).toMatchObject({ path: file, key: record.key, resumed: true })
    expect(await sha256OfObject(client, bucket, record.key)).toBe(await sha256OfFile(file))
    expect(await openUploads(client, bucket, record.key)).toEqual([])

    const other = await interrupted('noflags-abort.mp4', state)
    const aborted = await spawnCli(['abort', other.record.id, '--state-dir', state]).output
    expect(aborted.code, aborted.stderr).toBe(0)
    expect(aborted.stdout).toContain(`aborted ${other.record.id}`)
    expect(await openUploads(client, bucket, other.record.key)).toEqual([])
    const listed = await spawnCli(['list', '--state-dir', state, '--json']).output
    expect(jsonLines(listed.stdout)).toEqual([])
  })

  it('a record journaled before connections were says what is missing, and resumes with the destination from the environment', async () => {
    const state = join(tmp.dir, 'state-old-record')
    const { file, record } = await interrupted('old-record.mp4', state)
    // What an older Upreel wrote: the destination's id and label only.
    const path = join(state, 'uploads', `${record.id}.jsonl`)
    const [first, ...rest] = (await readFile(path, 'utf8')).split('\n')
    const line = JSON.parse(first!) as { destination: Record<string, unknown> }
    delete line.destination.connection
    await writeFile(path, [JSON.stringify(line), ...rest].join('\n'))

    const listed = await spawnCli(['list', '--state-dir', state, '--json']).output
    expect(jsonLines(listed.stdout)).toMatchObject([{ id: record.id, path: file }])
    const refused = await spawnCli(['resume', '--state-dir', state, '--no-media']).output
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /cannot resume .*did not record how to reach it; pass that destination/,
    )
    expect(await openUploads(client, bucket, record.key)).toHaveLength(1)

    // The endpoint only in the environment (as AWS_ENDPOINT_URL_S3 is usually given).
    const resumed = await spawnCli(['resume', '--state-dir', state, '--json', '--no-media'], {
      AWS_S3_BUCKET: bucket,
      AWS_ENDPOINT_URL_S3: endpoint,
    }).output
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(jsonLines(resumed.stdout).find((l) => l.type === 'completed')).toMatchObject({
      path: file,
      resumed: true,
    })
    expect(await sha256OfObject(client, bucket, record.key)).toBe(await sha256OfFile(file))
  })

  it('--bucket goes through AWS_ENDPOINT_URL_S3 (path-style) when the endpoint is only in the environment', async () => {
    const file = await randomFile(join(tmp.dir, 'env-endpoint.mp4'), 6 * MiB)
    const state = join(tmp.dir, 'state-env-endpoint')
    // A host name, not an IP: virtual-host addressing would ask for <bucket>.localhost.
    const byName = endpoint.replace('127.0.0.1', 'localhost')
    const child = spawnCli(
      ['upload', file, '--bucket', bucket, '--state-dir', state, '--json', '--no-media'],
      { AWS_ENDPOINT_URL_S3: byName },
    )
    // Without path-style it waits for a network that never comes: don't leave it behind.
    onTestFinished(() => void child.kill('SIGKILL'))
    const r = await child.output
    expect(r.code, r.stderr).toBe(0)
    const completed = jsonLines(r.stdout).find((l) => l.type === 'completed')!
    expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
      await sha256OfFile(file),
    )
  })

  it('cleanup --server aborts multipart uploads under the prefix that no record knows', async () => {
    const orphan = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'videos/orphan-from-elsewhere/x.mp4',
      }),
    )
    const state = join(tmp.dir, 'state-cleanup')
    const r = await spawnCli([
      'cleanup',
      '--older-than',
      '0s',
      '--server',
      '--endpoint',
      endpoint,
      '--bucket',
      bucket,
      '--state-dir',
      state,
      '--json',
    ]).output
    expect(r.code, r.stderr).toBe(0)
    const lines = jsonLines(r.stdout)
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'server-upload', uploadId: orphan.UploadId, aborted: true }),
    )
    expect(await openUploads(client, bucket, 'videos/orphan-from-elsewhere/')).toEqual([])
  })
})
