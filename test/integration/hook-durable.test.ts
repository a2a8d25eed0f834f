/**
 * The processing hook survives a crash between the upload's completion and the hook: the CLI
 * (backend mode, reference backend, real S3 server) is SIGKILLed while its hook request is on the
 * wire, and the next run on the same state dir sends the hook for that upload, once.
 */
import { readdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_TOKEN, startTestBackend, type TestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { jsonLines, spawnCli } from '../support/cli'
import { randomFile, tempDir } from '../support/engine'
import { freshBucket, sha256OfFile, sha256OfObject, testClient } from '../support/s3'

const MiB = 1024 * 1024
const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>
let backend: TestBackend
let hook: Server
let hookUrl: string
/** Each hook request as it arrives; `hold` keeps the next ones unanswered. */
const arrivals: { body: Record<string, unknown>; res: ServerResponse }[] = []
let hold = true
let arrived: (() => void) | undefined

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-hookcrash')
  tmp = await tempDir('upreel-hookcrash-')
  backend = await startTestBackend({ bucket })
  hook = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      arrivals.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), res })
      arrived?.()
      if (!hold) res.writeHead(202).end('{}')
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/processing`
})
afterAll(async () => {
  hook?.closeAllConnections()
  await new Promise((r) => hook?.close(r))
  await backend?.close()
  if (bucket) await emptyBucket(client, bucket).catch(() => undefined)
  await tmp?.cleanup()
})

describe('a crash while the processing hook is being sent', () => {
  it.each([
    ['with the destination flags', true],
    ['with no destination flags (the journaled connection)', false],
  ])('the next run sends it, once, with the upload’s key: resume %s', async (label, flags) => {
    arrivals.length = 0
    hold = true
    const file = await randomFile(join(tmp.dir, `hooked-${flags}.mp4`), 6 * MiB)
    const state = join(tmp.dir, `state-${flags}`)
    const common = [
      '--backend',
      backend.url,
      '--header',
      `Authorization: Bearer ${ALICE_TOKEN}`,
      '--hook',
      hookUrl,
      '--state-dir',
      state,
      '--json',
      '--no-media',
    ]
    const first = spawnCli(['upload', file, ...common])
    // The upload is complete and its hook is on the wire: kill the process there.
    await new Promise<void>((r) => (arrived = r))
    first.kill('SIGKILL')
    const killed = await first.output
    expect(killed.signal).toBe('SIGKILL')
    expect(arrivals).toHaveLength(1)
    const key = arrivals[0]!.body.key as string
    expect(key).toMatch(/^users\/alice\//)
    expect(await sha256OfObject(client, bucket, key)).toBe(await sha256OfFile(file))
    // Its record is gone (the upload is complete); what it owes is journaled.
    expect(await readdir(join(state, 'uploads'))).not.toContainEqual(
      expect.stringMatching(/jsonl$/),
    )
    expect(await readdir(join(state, 'pending-hooks'))).toHaveLength(1)

    hold = false
    const again = flags
      ? common
      : ['--header', `Authorization: Bearer ${ALICE_TOKEN}`, '--state-dir', state, '--json']
    const next = await spawnCli(['resume', ...again]).output
    expect(next.code, next.stderr).toBe(0)
    expect(jsonLines(next.stdout).filter((l) => l.type === 'completed')).toEqual([])
    // Scripts reading --json learn it too: one 'hook' line for the upload an earlier run completed.
    expect(jsonLines(next.stdout).filter((l) => l.type === 'hook')).toEqual([
      expect.objectContaining({ type: 'hook', path: file, bucket, key, ok: true }),
    ])
    // It says what it did: not "nothing to resume" after sending a request.
    expect(next.stderr).toContain('upreel: sent 1 processing request left over from an earlier run')
    expect(next.stderr).not.toContain('nothing to resume')
    expect(arrivals).toHaveLength(2)
    expect(arrivals[1]!.body).toMatchObject({ key, bucket, size: 6 * MiB })
    expect(await readdir(join(state, 'pending-hooks'))).toEqual([])

    // Owed no more: a third run sends nothing, and says so.
    const third = await spawnCli(['resume', ...again]).output
    expect(arrivals).toHaveLength(2)
    expect(third.stderr).toContain('upreel: nothing to resume')
  })
})
