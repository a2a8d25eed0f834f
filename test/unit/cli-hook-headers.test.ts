/**
 * Which credentials the CLI sends to a processing hook, through the real path of `upreel resume`
 * with no flags: a hook a crashed run left owed (as the desktop app journals them too) is sent to
 * the hook URL in its record. Two local HTTP servers: the backend's origin and another one (same
 * host, another port). No upload runs, so no S3 server is needed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/main/core/cli/main'
import { connectionOf, createObjectStore } from '../../src/main/core/destination'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import { FileJournal } from '../../src/main/core/journal/file-journal'

interface Hit {
  path: string
  headers: IncomingHttpHeaders
  body: Record<string, unknown>
}

/** A server that records each request and answers `status`. */
async function recorder() {
  const hits: Hit[] = []
  const state = { status: 202 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      hits.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
      })
      res.writeHead(state.status, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { server, url, hits, state }
}

let backend: Awaited<ReturnType<typeof recorder>>
let elsewhere: Awaited<ReturnType<typeof recorder>>
let dir: string

beforeAll(async () => {
  backend = await recorder()
  elsewhere = await recorder()
})
afterAll(async () => {
  for (const s of [backend, elsewhere]) {
    s?.server.closeAllConnections()
    await new Promise((r) => s?.server.close(r))
  }
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upreel-cli-hook-'))
  backend.hits.length = 0
  elsewhere.hits.length = 0
  backend.state.status = elsewhere.state.status = 202
})
afterEach(() => rm(dir, { recursive: true, force: true }))

function snapshot(id: string): UploadSnapshot {
  return {
    id,
    path: `/v/${id}.mp4`,
    name: `${id}.mp4`,
    relativeDir: '',
    size: 10,
    bytesSent: 10,
    state: 'completing',
    speed: 0,
    etaSeconds: null,
    partSize: 10,
    partsTotal: 1,
    partsDone: 1,
    bucket: 'b',
    key: `users/alice/${id}.mp4`,
    etag: 'e',
    resumed: false,
    createdAt: 1,
    updatedAt: 1,
  }
}

/** Journals a hook owed to `hookUrl` for an upload to the backend, as a crashed run leaves it. */
async function owe(id: string, hookUrl: string) {
  const dest = { mode: 'backend' as const, url: backend.url, hookUrl }
  const store = await createObjectStore(dest)
  store.destroy?.()
  await new FileJournal(dir).savePendingHook({
    v: 1,
    id,
    destinationId: store.destinationId,
    connection: connectionOf(dest),
    snapshot: snapshot(id),
    savedAt: Date.now(),
  })
}

async function resume(flags: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const err: string[] = []
  const code = await runCli(['resume', '--state-dir', dir, '--no-media', ...flags], {
    out: () => undefined,
    err: (l) => err.push(l),
    isTTY: false,
    env: { UPREEL_BACKEND_TOKEN: 'backend-token', ...env },
  })
  return { code, stderr: err.join('\n') }
}

describe('processing hook credentials (upreel resume, hook URL from the journal)', () => {
  it('a hook on the backend’s origin gets the backend’s token and --header', async () => {
    await owe('same', `${backend.url}/api/processed`)
    const r = await resume(['--header', 'X-Team: video'])
    expect(r.code, r.stderr).toBe(0)
    expect(backend.hits).toHaveLength(1)
    expect(backend.hits[0]).toMatchObject({
      path: '/api/processed',
      headers: { authorization: 'Bearer backend-token', 'x-team': 'video' },
      body: { key: 'users/alice/same.mp4', bucket: 'b', size: 10 },
    })
    // What it did, not "nothing to resume".
    expect(r.stderr).toContain('upreel: sent 1 processing request left over from an earlier run')
    expect(r.stderr).not.toContain('nothing to resume')
  })

  it('a hook on another origin gets none of the backend’s credentials, and the CLI says so', async () => {
    await owe('other', `${elsewhere.url}/processed`)
    const r = await resume(['--header', 'X-Team: video'])
    expect(r.code, r.stderr).toBe(0)
    expect(elsewhere.hits).toHaveLength(1)
    expect(elsewhere.hits[0]!.headers.authorization).toBeUndefined()
    expect(elsewhere.hits[0]!.headers['x-team']).toBeUndefined()
    expect(elsewhere.hits[0]!.body).toMatchObject({ key: 'users/alice/other.mp4' })
    expect(backend.hits).toEqual([])
    expect(r.stderr).toContain(
      `the processing hook ${elsewhere.url} is not on the backend's server, so the backend's sign-in is not sent to it`,
    )
    expect(r.stderr).toContain('upreel: sent 1 processing request left over from an earlier run')
  })

  it('--hook-header reaches a hook on another origin, and only the hook', async () => {
    await owe('other', `${elsewhere.url}/processed`)
    const r = await resume(['--hook-header', 'Authorization: Bearer hook-token'])
    expect(r.code, r.stderr).toBe(0)
    expect(elsewhere.hits).toHaveLength(1)
    expect(elsewhere.hits[0]!.headers.authorization).toBe('Bearer hook-token')
    expect(r.stderr).not.toContain('is not on the backend')
  })

  it('--hook-header wins over the backend’s header of the same name on a same-origin hook', async () => {
    await owe('same', `${backend.url}/api/processed`)
    const r = await resume(['--hook-header', 'authorization: Bearer hook-token'])
    expect(r.code, r.stderr).toBe(0)
    expect(backend.hits[0]!.headers.authorization).toBe('Bearer hook-token')
  })

  it('a leftover request the hook refuses is shown with its reason; the run still exits 0', async () => {
    elsewhere.state.status = 400 // final: not retried
    await owe('refused', `${elsewhere.url}/processed`)
    const r = await resume()
    expect(r.code, r.stderr).toBe(0)
    expect(elsewhere.hits).toHaveLength(1)
    expect(r.stderr).toMatch(
      /upreel: \/v\/refused\.mp4 \(completed by an earlier run\): The processing request failed: .*400/,
    )
    expect(r.stderr).not.toContain('sent 1 processing request')
    expect(r.stderr).not.toContain('nothing to resume')
  })

  it('with nothing owed and nothing interrupted: nothing to resume', async () => {
    const r = await resume()
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('upreel: nothing to resume')
  })
})
