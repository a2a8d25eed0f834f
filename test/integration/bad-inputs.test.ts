/**
 * Bad inputs on the local side (issue 6, part 4): each gives a specific message, loses nothing,
 * and the rest of the queue goes on. Files (empty, missing, unreadable, not a file, not a video,
 * over the limit, deleted / grown / rewritten mid-upload), folders (symlink loop, 10,000 files),
 * awkward names, the state folder (read-only, in the way, disk full) and two processes on one
 * state dir. Server-side bad inputs are in bad-inputs-remote.test.ts.
 *
 * Tests run as root here, and root reads a chmod 000 file: the unreadable case runs the CLI as
 * root without the capabilities that override file permissions (setpriv). Read-only and full state folders need `mount` (a read-only bind mount, a
 * 256 KiB tmpfs); where mount is not allowed those cases are skipped with the reason printed.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  appendFile,
  chmod,
  mkdir,
  open,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { parseLog } from '../../src/main/core/journal/file-journal'
import { createMediaPort } from '../../src/main/core/media'
import { scanInputs } from '../../src/main/core/scan'
import { startTestBackend } from '../support/backend'
import { emptyBucket } from '../support/bucket-cleanup'
import { jsonLines, spawnCli } from '../support/cli'
import { directStore, randomFile, tempDir, testEngine, waitFor } from '../support/engine'
import { FaultProxy } from '../support/fault-proxy'
import { NO_READ_OVERRIDE } from '../support/no-read-override'
import {
  freshBucket,
  openUploads,
  sha256OfFile,
  sha256OfObject,
  testClient,
  testServer,
} from '../support/s3'

const run = promisify(execFile)
const MiB = 1024 * 1024
const client = testClient()
let bucket: string
let tmp: Awaited<ReturnType<typeof tempDir>>

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-bad')
  tmp = await tempDir('upreel-bad-')
})
afterAll(async () => {
  // Hundreds of MiB per run: the shared server's disk is not for keeping them.
  if (bucket)
    await emptyBucket(client, bucket).catch((e: unknown) => console.warn(`cleanup: ${String(e)}`))
  await tmp?.cleanup()
})

const stateDir = (name: string) => join(tmp.dir, `state-${name}`)
const root = resolve(__dirname, '../..')

/** The CLI behind a command prefix (setpriv: as another user), with the test server's keys. */
function spawnCliAs(prefix: string[], args: string[], env: NodeJS.ProcessEnv) {
  const s = testServer()
  const child = spawn(
    prefix[0]!,
    [
      ...prefix.slice(1),
      process.execPath,
      '--import',
      'tsx',
      join(root, 'src/main/core/cli/main.ts'),
      ...args,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: s.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
        AWS_REGION: s.region,
        AWS_S3_BUCKET: '',
        S3_BUCKET_NAME: '',
        UPREEL_BUCKET: '',
        AWS_ENDPOINT_URL_S3: '',
        AWS_ENDPOINT_URL: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => r({ code, stdout, stderr })),
  )
}

/** Whether this process may mount (root in a container that allows it); why not, otherwise. */
async function canMount(): Promise<string | undefined> {
  const probe = join(tmp.dir, `mount-probe-${Date.now()}`)
  await mkdir(probe)
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe])
    await run('umount', [probe])
    return undefined
  } catch (e) {
    return `mount is not allowed here (${String((e as { stderr?: string }).stderr ?? e).trim()})`
  } finally {
    await rm(probe, { recursive: true, force: true })
  }
}

describe('bad files in a queue: each fails with its own message, the good file behind them completes', () => {
  it('empty, missing, a folder and a FIFO named .mp4, not a video, over the size limit', async () => {
    const dir = join(tmp.dir, 'queue')
    await mkdir(dir)
    const empty = join(dir, 'empty.mp4')
    await writeFile(empty, '')
    const missing = join(dir, 'gone.mp4')
    await writeFile(missing, 'soon gone')
    const folder = join(dir, 'folder.mp4')
    await mkdir(folder)
    const fifo = join(dir, 'pipe.mp4')
    execFileSync('mkfifo', [fifo])
    const notVideo = join(dir, 'notes.mp4')
    await writeFile(notVideo, 'These are my notes, not a video.\n'.repeat(2000))
    const big = await randomFile(join(dir, 'big.mp4'), 12 * MiB)
    const { mediaFixtures } = await import('../support/media-fixtures')
    const good = (await mediaFixtures()).clip
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('queue'),
      preferredPartSize: 5 * MiB,
      keyTemplate: 'queue/{filename}',
      media: createMediaPort({ cacheDir: join(tmp.dir, 'media-cache') }),
      maxFileSize: 10 * MiB,
    })
    const snaps = await engine.add(
      [empty, missing, folder, fifo, notVideo, big, good].map((path) => ({ path })),
    )
    await unlink(missing) // added, then deleted before its turn
    await engine.whenIdle()
    const by = (p: string) => engine.get(snaps.find((s) => s.path === p)!.id)!
    const expected: [string, string, RegExp][] = [
      [empty, 'FileEmpty', /empty \(0 bytes\)/],
      [missing, 'SourceMissing', /no longer there/],
      [folder, 'NotAFile', /not a regular file|folder/],
      [fifo, 'NotAFile', /not a regular file/],
      [notVideo, 'NotVideo', /not a video|no video/i],
      [big, 'OverSizeLimit', /12\.0 MiB, over the 10\.0 MiB limit/],
    ]
    for (const [path, code, message] of expected) {
      const s = by(path)
      expect(s.state, path).toBe('failed')
      expect(s.error?.code, path).toBe(code)
      expect(s.error?.message, path).toMatch(message)
    }
    const done = by(good)
    expect(done.error).toBeUndefined()
    expect(done.state).toBe('done')
    expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(good))
    // Refused up front: nothing was opened on the server for any of them.
    expect(await openUploads(client, bucket, 'queue/')).toEqual([])
    await engine.close()
  })

  it('an unreadable file (chmod 000, the CLI running without the right to override it) fails as such; the next file completes', async (ctx) => {
    const dir = join(tmp.dir, 'unreadable')
    await mkdir(dir, { mode: 0o755 })
    const secret = await randomFile(join(dir, 'secret.mp4'), 2 * MiB)
    const good = await randomFile(join(dir, 'good.mp4'), 2 * MiB)
    await chmod(secret, 0o000)
    await chmod(good, 0o644)
    const state = join(dir, 'state')
    await mkdir(state)
    const args = [
      'upload',
      secret,
      good,
      '--bucket',
      bucket,
      '--endpoint',
      testServer().endpoint,
      '--state-dir',
      state,
      '--json',
      '--no-media',
    ]
    let out: { code: number | null; stdout: string; stderr: string }
    if (process.getuid?.() === 0) {
      // Root reads anything: run it without the capabilities that let it.
      try {
        execFileSync('setpriv', ['--version'])
      } catch {
        console.warn('skipped: running as root and setpriv is missing, so chmod 000 cannot bite')
        ctx.skip()
        return
      }
      out = await spawnCliAs(NO_READ_OVERRIDE, args, { HOME: dir })
    } else {
      out = await spawnCli(args).output
    }
    const lines = jsonLines(out.stdout)
    expect(out.code, out.stderr).toBe(1)
    const failed = lines.find((l) => l.type === 'failed')!
    expect(failed).toMatchObject({ path: secret, code: 'Unreadable' })
    expect(failed.error).toMatch(/not allowed to read this file/)
    expect(lines.find((l) => l.type === 'completed')).toMatchObject({ path: good })
  })
})

describe('files that change under the upload', () => {
  it('deleted mid-upload: fails as missing, the other file goes on; put back, Retry continues without re-sending parts', async () => {
    const counter = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
    const url = await counter.start()
    try {
      const file = await randomFile(join(tmp.dir, 'deleted.mp4'), 40 * MiB)
      const copy = join(tmp.dir, 'deleted.keep')
      await run('cp', ['--preserve=timestamps', file, copy])
      const other = await randomFile(join(tmp.dir, 'alongside.mp4'), 30 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: stateDir('deleted'),
        preferredPartSize: 5 * MiB,
        concurrency: 2,
        bandwidthLimit: 20 * MiB,
      })
      const [s, o] = await engine.add([{ path: file }, { path: other }])
      await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
      await unlink(file)
      const failed = await waitFor(engine, s!.id, (x) => x.state === 'failed')
      expect(failed.error?.code).toBe('SourceMissing')
      expect(failed.error?.message).toMatch(/no longer there \(moved, renamed or deleted\)/)
      await engine.whenIdle()
      expect(engine.get(o!.id)!.state).toBe('done')
      // Nothing lost: the record and the server upload wait for the file to come back.
      const [rec] = await engine.records()
      expect(rec!.parts.length).toBeGreaterThanOrEqual(2)
      const journaled = new Set(rec!.parts.map((p) => p.n))
      expect(await openUploads(client, bucket, rec!.key)).toHaveLength(1)
      await run('cp', ['--preserve=timestamps', copy, file])
      const mark = counter.requests.length
      engine.setBandwidthLimit(0)
      engine.retry(s!.id)
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      const resent = counter.requests
        .slice(mark)
        .filter((r) => r.op === 'UploadPart' && journaled.has(r.partNumber!))
      expect(resent).toEqual([])
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      await engine.close()
    } finally {
      await counter.stop()
    }
  })

  it.each([
    ['grown (appended to)', (f: string) => appendFile(f, Buffer.alloc(3 * MiB, 7))],
    [
      // Bytes overwritten where they are: the size never changes, not even for an instant.
      'rewritten in place (same size, new bytes)',
      async (f: string) => {
        const size = (await stat(f)).size
        const fh = await open(f, 'r+')
        try {
          for (let off = 0; off < size; off += 8 * MiB) {
            await fh.write(randomBytes(Math.min(8 * MiB, size - off)), 0, undefined, off)
          }
        } finally {
          await fh.close()
        }
        await utimes(f, new Date(), new Date(Date.now() + 2000))
      },
    ],
    [
      // What an editor exporting over the file does: truncate, then write. A part read in
      // between sees a shorter file; either way it is the same plain "changed" failure.
      'written again from scratch (truncated, then the same size)',
      async (f: string) => {
        const size = (await stat(f)).size
        await randomFile(f, size)
        await utimes(f, new Date(), new Date(Date.now() + 2000))
      },
    ],
  ])(
    '%s mid-upload: fails as changed, the next file completes; Retry uploads the new version whole, the old upload is aborted',
    async (label, change) => {
      const file = await randomFile(join(tmp.dir, `changed ${label}.mp4`), 30 * MiB)
      const next = await randomFile(join(tmp.dir, `after changed ${label}.mp4`), 6 * MiB)
      const engine = testEngine({
        store: directStore(bucket),
        stateDir: stateDir(`changed-${label.split(' ')[0]}`),
        preferredPartSize: 5 * MiB,
        concurrency: 1,
        bandwidthLimit: 15 * MiB,
      })
      const [s, n] = await engine.add([{ path: file }, { path: next }])
      const mid = await waitFor(engine, s!.id, (x) => x.partsDone >= 2)
      await change(file)
      const failed = await waitFor(engine, s!.id, (x) => x.state === 'failed')
      expect(failed.error?.code).toBe('SourceChanged')
      expect(failed.error?.message).toMatch(/changed while it was uploading/)
      // The rest of the queue goes on.
      const nextDone = await waitFor(
        engine,
        n!.id,
        (x) => x.state === 'done' || x.state === 'failed',
      )
      expect(nextDone.error).toBeUndefined()
      expect(nextDone.state).toBe('done')
      expect(await sha256OfObject(client, bucket, nextDone.key!)).toBe(await sha256OfFile(next))
      engine.setBandwidthLimit(0)
      engine.retry(s!.id)
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.state).toBe('done')
      expect(done.notice).toMatch(/changed since the upload started/)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      expect(await openUploads(client, bucket, mid.key)).toEqual([])
      await engine.close()
    },
  )
})

describe('folders', () => {
  it('a symlink loop is reported once and walked once; the videos in it upload once each', async () => {
    const root = join(tmp.dir, 'loop')
    await mkdir(join(root, 'a', 'b'), { recursive: true })
    await randomFile(join(root, 'one.mp4'), 1000)
    await randomFile(join(root, 'a', 'two.mov'), 2000)
    await randomFile(join(root, 'a', 'b', 'three.mkv'), 3000)
    await symlink(root, join(root, 'a', 'b', 'back-to-top'))
    await symlink(join(root, 'a'), join(root, 'a', 'b', 'sideways'))
    const r = await spawnCli([
      'upload',
      root,
      '--bucket',
      bucket,
      '--endpoint',
      testServer().endpoint,
      '--state-dir',
      stateDir('loop'),
      '--json',
      '--no-media',
      '--key-template',
      'loop/{relativeDir}/{filename}',
    ]).output
    expect(r.code, r.stderr).toBe(0)
    const lines = jsonLines(r.stdout)
    const skipped = lines.filter((l) => l.type === 'skipped')
    expect(skipped.map((l) => l.reason)).toEqual([
      'folder already included (symbolic link loop)',
      'folder already included (symbolic link loop)',
    ])
    const completed = lines.filter((l) => l.type === 'completed').map((l) => l.key)
    expect(completed.sort()).toEqual([
      'loop/loop/a/b/three.mkv',
      'loop/loop/a/two.mov',
      'loop/loop/one.mp4',
    ])
  })

  // CI queues all 10,000 and uploads the first 1,000 (about 10 s); `npm run soak` uploads them
  // all (UPREEL_MANY_FILES_UPLOAD=10000, about 1.5 min).
  const UPLOAD = Number(process.env.UPREEL_MANY_FILES_UPLOAD ?? 1000)
  it(`a folder of 10,000 small files: scanned and queued in well under a second, ${UPLOAD} uploaded`, async () => {
    const root = join(tmp.dir, 'many')
    for (let d = 0; d < 100; d++) {
      await mkdir(join(root, `day ${d}`), { recursive: true })
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          writeFile(join(root, `day ${d}`, `clip ${i}.mp4`), `clip ${d}/${i}`.padEnd(1024, '.')),
        ),
      )
    }
    let t = performance.now()
    const scan = await scanInputs([root], { allFileTypes: false })
    const scanMs = performance.now() - t
    expect(scan.files).toHaveLength(10_000)
    expect(scan.skipped).toEqual([])
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('many'),
      keyTemplate: 'many/{relativeDir}/{filename}',
    })
    t = performance.now()
    const queued = await engine.add(scan.files)
    const addMs = performance.now() - t
    expect(queued).toHaveLength(10_000)
    expect(new Set(queued.map((s) => s.id)).size).toBe(10_000)
    t = performance.now()
    let done = 0
    const enough = new Promise<void>((resolve) => {
      engine.on('completed', () => {
        if (++done === UPLOAD) resolve()
      })
    })
    await enough
    const uploadMs = performance.now() - t
    await engine.close()
    const states = engine.list().reduce<Record<string, number>>((m, s) => {
      m[s.state] = (m[s.state] ?? 0) + 1
      return m
    }, {})
    console.info(
      `10,000 files: scan ${scanMs.toFixed(0)} ms, queue ${addMs.toFixed(0)} ms, ${UPLOAD} uploaded in ${(uploadMs / 1000).toFixed(1)} s (${(uploadMs / UPLOAD).toFixed(1)} ms per file); states after close: ${JSON.stringify(states)}`,
    )
    expect(scanMs).toBeLessThan(5000)
    expect(addMs).toBeLessThan(5000)
    expect(states.failed ?? 0).toBe(0)
    expect(states.done).toBeGreaterThanOrEqual(UPLOAD)
    // The ones uploaded are whole: spot-check the first and the last.
    const finished = engine.list().filter((s) => s.state === 'done')
    for (const s of [finished[0]!, finished.at(-1)!]) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: s.key! }))
      expect(head.ContentLength).toBe(1024)
    }
    await rm(root, { recursive: true, force: true })
  }, 600_000)
})

describe('awkward names', () => {
  const NAMES = [
    'été à Montréal — 日本語 🎬.mp4',
    'two  spaces and a tab\t.mp4',
    '100% real.mp4',
    'a+b=c.mp4',
    'take #3.mp4',
    'why?.mp4',
    'all of them %2F + # ? & = ;.mov',
  ]

  it('direct mode: each name uploads to a key holding it exactly, and reads back byte-identical', async () => {
    const dir = join(tmp.dir, 'names')
    await mkdir(dir)
    const files = await Promise.all(NAMES.map((n, i) => randomFile(join(dir, n), 100_000 + i)))
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: stateDir('names'),
      keyTemplate: 'names/{filename}',
    })
    const snaps = await engine.add(files.map((path) => ({ path })))
    await engine.whenIdle()
    for (const [i, s] of snaps.entries()) {
      const done = engine.get(s.id)!
      expect(done.error, NAMES[i]).toBeUndefined()
      expect(done.key).toBe(`names/${NAMES[i]}`)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(files[i]!))
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: done.key! }))
      const encoded = head.Metadata?.['original-filename'] ?? ''
      const m = /^=\?UTF-8\?B\?(.*)\?=$/.exec(encoded)
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : encoded
      expect(decoded).toBe(NAMES[i])
    }
    await engine.close()
  })

  it('backend mode: the backend makes a safe key of each name; every file reads back byte-identical', async () => {
    const backend = await startTestBackend({ bucket })
    try {
      const dir = join(tmp.dir, 'names-backend')
      await mkdir(dir)
      const files = await Promise.all(NAMES.map((n, i) => randomFile(join(dir, n), 6 * MiB + i)))
      const engine = testEngine({
        store: createCompanionStore({ baseUrl: backend.url, headers: backend.auth() }),
        stateDir: stateDir('names-backend'),
        preferredPartSize: 5 * MiB,
      })
      const snaps = await engine.add(files.map((path) => ({ path })))
      await engine.whenIdle()
      const keys = new Set<string>()
      for (const [i, s] of snaps.entries()) {
        const done = engine.get(s.id)!
        expect(done.error, NAMES[i]).toBeUndefined()
        expect(done.key).toMatch(/^users\/alice\//)
        keys.add(done.key!)
        expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(files[i]!))
      }
      expect(keys.size).toBe(NAMES.length)
      await engine.close()
    } finally {
      await backend.close()
    }
  })
})

describe('the state folder', () => {
  it('is a file, not a folder: every row says so; nothing is sent', async () => {
    const file = await randomFile(join(tmp.dir, 'blocked.mp4'), 6 * MiB)
    const blocker = join(tmp.dir, 'state-is-a-file')
    await writeFile(blocker, 'not a folder')
    const engine = testEngine({
      store: directStore(bucket),
      stateDir: blocker,
      keyTemplate: 'blocked/{filename}',
    })
    const [s] = await engine.add([{ path: file }])
    await engine.whenIdle()
    const snap = engine.get(s!.id)!
    expect(snap.error?.code).toBe('StateNotAFolder')
    expect(snap.error?.message).toMatch(/something other than a folder is in the way/)
    expect(await openUploads(client, bucket, 'blocked/')).toEqual([])
    await engine.close()
  })

  it('is read-only (a read-only bind mount): every row says so; nothing is sent', async (ctx) => {
    const why = await canMount()
    if (why) {
      console.warn(`skipped: ${why}`)
      ctx.skip()
      return
    }
    const ro = join(tmp.dir, 'state-ro')
    await mkdir(join(ro, 'uploads'), { recursive: true })
    await run('mount', ['--bind', ro, ro])
    try {
      await run('mount', ['-o', 'remount,ro,bind', ro])
      const file = await randomFile(join(tmp.dir, 'ro.mp4'), 6 * MiB)
      const engine = testEngine({
        store: directStore(bucket),
        stateDir: ro,
        keyTemplate: 'ro/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      await engine.whenIdle()
      const snap = engine.get(s!.id)!
      expect(snap.error?.code).toBe('StateReadOnly')
      expect(snap.error?.message).toMatch(
        /cannot save upload progress in .*: that disk is read-only/,
      )
      expect(await openUploads(client, bucket, 'ro/')).toEqual([])
      await engine.close()
    } finally {
      await run('umount', [ro])
    }
  })

  it('fills up mid-upload (256 KiB tmpfs): the row says the disk is full; space freed, Retry finishes without re-sending what was stored', async (ctx) => {
    const why = await canMount()
    if (why) {
      console.warn(`skipped: ${why}`)
      ctx.skip()
      return
    }
    const small = join(tmp.dir, 'state-small')
    await mkdir(small)
    await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small])
    const counter = new FaultProxy(testServer().endpoint, { seed: 1, rates: {} })
    const url = await counter.start()
    try {
      // 50 parts: after the disk fills, the part lines (~110 bytes each) must cross a 4 KiB page.
      const file = await randomFile(join(tmp.dir, 'diskfull.mp4'), 250 * MiB)
      const engine = testEngine({
        store: directStore(bucket, url),
        stateDir: small,
        preferredPartSize: 5 * MiB,
        concurrency: 2,
        keyTemplate: 'diskfull/{filename}',
      })
      const [s] = await engine.add([{ path: file }])
      await waitFor(engine, s!.id, (x) => x.partsDone >= 1)
      await run('dd', ['if=/dev/zero', `of=${join(small, 'filler')}`, 'bs=4k']).catch(
        () => undefined, // dd stops with "No space left on device": that is the point
      )
      const failed = await waitFor(engine, s!.id, (x) => x.state === 'failed', 120_000)
      expect(failed.error?.code).toBe('DiskFull')
      expect(failed.error?.message).toMatch(/is full\. Free some space, then retry/)
      // Nothing lost: the upload is still open on the server, the journal still loads.
      expect(await openUploads(client, bucket, 'diskfull/')).toHaveLength(1)
      const [name] = (await readdir(join(small, 'uploads'))).filter((n) => n.endsWith('.jsonl'))
      const parsed = parseLog(await readFile(join(small, 'uploads', name!), 'utf8'))!
      const journaled = new Set(parsed.record.parts.map((p) => p.n))
      const storedBefore = new Set(
        counter.requests
          .filter((r) => r.op === 'UploadPart' && r.status === 200)
          .map((r) => r.partNumber!),
      )
      await unlink(join(small, 'filler'))
      const mark = counter.requests.length
      engine.retry(s!.id)
      await engine.whenIdle()
      const done = engine.get(s!.id)!
      expect(done.error).toBeUndefined()
      expect(done.state).toBe('done')
      const resent = counter.requests
        .slice(mark)
        .filter((r) => r.op === 'UploadPart' && storedBefore.has(r.partNumber!))
      // Parts stored but never journaled (the disk was full) are adopted from ListParts.
      expect(resent).toEqual([])
      expect(storedBefore.size).toBeGreaterThan(journaled.size)
      expect(await sha256OfObject(client, bucket, done.key!)).toBe(await sha256OfFile(file))
      expect(await openUploads(client, bucket, 'diskfull/')).toEqual([])
      await engine.close()
    } finally {
      await counter.stop()
      await run('umount', [small])
    }
  }, 240_000)

  it('two processes on one state dir: the second says the file is being uploaded by the first and uploads its other file', async () => {
    // 80 MiB at 2 MiB/s: the first process is still at it while the other two start and end, even
    // when a loaded machine takes seconds to start each CLI. It is paused (Ctrl-C) afterwards and
    // resumed at full speed, so the test does not wait for the slow rate.
    const file = await randomFile(join(tmp.dir, 'shared.mp4'), 80 * MiB)
    const other = await randomFile(join(tmp.dir, 'other.mp4'), 3 * MiB)
    const state = stateDir('two')
    const common = [
      '--bucket',
      bucket,
      '--endpoint',
      testServer().endpoint,
      '--state-dir',
      state,
      '--json',
      '--no-media',
    ]
    const first = spawnCli(['upload', file, ...common, '--limit-rate', '2MiB'])
    const { untilJournaled } = await import('../support/journal')
    await untilJournaled(state, 1)
    const second = await spawnCli(['upload', file, other, ...common]).output
    expect(second.code).toBe(1)
    const lines = jsonLines(second.stdout)
    const locked = lines.find((l) => l.type === 'failed')!
    expect(locked).toMatchObject({ path: file, code: 'Locked' })
    expect(locked.error).toMatch(
      new RegExp(`Another Upreel process \\(pid ${first.pid}\\) is already uploading this file`),
    )
    expect(lines.find((l) => l.type === 'completed')).toMatchObject({ path: other })
    // `resume` from a third process leaves it alone too, and says why.
    const third = await spawnCli(['resume', ...common]).output
    expect(first.exitCode, 'the first process ended too early for this check').toBeNull()
    expect(third.stderr).toMatch(new RegExp(`another Upreel process \\(pid ${first.pid}\\)`))
    first.kill('SIGINT')
    const firstOut = await first.output
    expect(firstOut.code, firstOut.stderr).toBe(130)
    const resumed = await spawnCli(['resume', ...common]).output
    expect(resumed.code, resumed.stderr).toBe(0)
    const completed = jsonLines(resumed.stdout).find((l) => l.type === 'completed')!
    expect(completed).toMatchObject({ path: file })
    expect(await sha256OfObject(client, bucket, completed.key as string)).toBe(
      await sha256OfFile(file),
    )
    // One object for the file, not two: no silent copy was uploaded by the second process.
    const history = (await readFile(join(state, 'history.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { path: string })
    expect(history.filter((h) => h.path === file)).toHaveLength(1)
    expect(await readdir(join(state, 'uploads'))).toEqual([])
  })
})
