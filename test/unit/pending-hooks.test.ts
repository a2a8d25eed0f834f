/**
 * Processing hooks owed by a crashed run (journal/pending-hooks.ts): which ones the next engine
 * sends, and which it leaves alone. The crash itself is the integration test hook-durable.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import { UploadEngine } from '../../src/main/core/engine/upload-engine'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import type { ObjectStore } from '../../src/main/core/ports'
import { journalRecord } from '../support/journal'

/** No upload runs in these tests: the store only names the destination. */
const store = (destinationId: string) =>
  ({
    destinationId,
    label: destinationId,
  }) as unknown as ObjectStore

function snapshot(id: string, key: string): UploadSnapshot {
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
    key,
    etag: 'e',
    resumed: false,
    createdAt: 1,
    updatedAt: 1,
  }
}

let dir: string
let journal: FileJournal
let sleeper: ChildProcess | undefined
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pending-hooks-'))
  journal = new FileJournal(dir)
})
afterEach(async () => {
  sleeper?.kill('SIGKILL')
  sleeper = undefined
  await rm(dir, { recursive: true, force: true })
})

async function owe(id: string, destinationId = 'dest-a') {
  await journal.savePendingHook({
    v: 1,
    id,
    destinationId,
    snapshot: snapshot(id, `videos/${id}.mp4`),
    savedAt: Date.now(),
  })
}

function engine(destinationId: string, sent: UploadSnapshot[], notice?: string) {
  return new UploadEngine({
    store: store(destinationId),
    stateDir: dir,
    afterComplete: async (s) => {
      sent.push(s)
      return notice ? { notice } : undefined
    },
  })
}

describe('processing hooks left owed by a crash', () => {
  it('are sent when the next engine for that destination gets work, once, and forgotten', async () => {
    await owe('h1')
    const sent: UploadSnapshot[] = []
    const e = engine('dest-a', sent)
    await e.resumeInterrupted()
    await e.close() // waits for the hook
    expect(sent.map((s) => s.key)).toEqual(['videos/h1.mp4'])
    expect(await journal.pendingHooks()).toEqual([])
    const again = engine('dest-a', sent)
    await again.resumeInterrupted()
    await again.close()
    expect(sent).toHaveLength(1)
  })

  it('a hook that fails again is reported in the log and not retried forever', async () => {
    await owe('h1')
    const sent: UploadSnapshot[] = []
    const logs: string[] = []
    const e = new UploadEngine({
      store: store('dest-a'),
      stateDir: dir,
      afterComplete: async (s) => {
        sent.push(s)
        return { notice: 'The processing request failed: HTTP 500' }
      },
      log: (m) => logs.push(m),
    })
    await e.add([])
    await e.close()
    expect(sent).toHaveLength(1)
    expect(logs.join('\n')).toMatch(
      /processing request for \/v\/h1\.mp4 \(left over from an earlier run\) failed: .*HTTP 500/,
    )
    expect(await journal.pendingHooks()).toEqual([])
  })

  it('are left alone by an engine for another destination (another hook configuration)', async () => {
    await owe('h1', 'dest-b')
    const sent: UploadSnapshot[] = []
    const e = engine('dest-a', sent)
    await e.resumeInterrupted()
    await e.close()
    expect(sent).toEqual([])
    expect((await journal.pendingHooks()).map((h) => h.id)).toEqual(['h1'])
  })

  it('are left to a live process still holding that upload’s lock', async () => {
    await owe('h1')
    sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    await new Promise((r) => sleeper!.once('spawn', r))
    await journal.list() // makes the uploads folder
    await writeFile(
      join(dir, 'uploads', 'h1.lock'),
      JSON.stringify({ pid: sleeper.pid, host: hostname() }),
    )
    const sent: UploadSnapshot[] = []
    const e = engine('dest-a', sent)
    await e.resumeInterrupted()
    await e.close()
    expect(sent).toEqual([])
    expect((await journal.pendingHooks()).map((h) => h.id)).toEqual(['h1'])
  })

  it('are left to the upload’s own record when it still exists (its resume sends the hook)', async () => {
    await owe('h1')
    await journal.write(
      journalRecord('h1', {
        source: { path: '/v/h1.mp4', size: 10, mtimeMs: 1, fingerprint: 'f' },
        destination: { id: 'dest-a', label: 'dest-a' },
        key: 'videos/h1.mp4',
        uploadId: 'u1',
        partCount: 1,
      }),
    )
    const sent: UploadSnapshot[] = []
    const e = engine('dest-a', sent)
    await e.add([])
    await e.close()
    expect(sent).toEqual([])
    expect((await journal.pendingHooks()).map((h) => h.id)).toEqual(['h1'])
  })

  it('are not sent by an engine that only lists or cleans up', async () => {
    await owe('h1')
    const sent: UploadSnapshot[] = []
    const e = engine('dest-a', sent)
    await e.interrupted()
    await e.history()
    await e.close()
    expect(sent).toEqual([])
  })
})
