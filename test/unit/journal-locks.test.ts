/**
 * Journal locks (journal/lock-file.ts): never seen half-written, a stale one taken over by exactly
 * one process, a reused pid or a reboot not mistaken for the holder, and the per-file lock that
 * stops two processes given the same file from starting two uploads of it. Races use real
 * processes (test/support/lock-child.ts): a lock cannot tell two engines of one process apart.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileJournal } from '../../src/main/core/journal/file-journal'
import { nodeJournalFs, type JournalFs } from '../../src/main/core/journal/journal-fs'
import { PARTIAL_LOCK_GRACE_MS } from '../../src/main/core/journal/lock-file'

const linux = existsSync('/proc/sys/kernel/random/boot_id') && existsSync('/proc/self/stat')
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
const startOf = (pid: number) => {
  const t = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return t.slice(t.lastIndexOf(')') + 2).split(' ')[19]!
}

let dir: string
let children: ChildProcess[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locks-'))
})
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL')
  children = []
  await rm(dir, { recursive: true, force: true })
})

const lockPath = (id: string) => join(dir, 'uploads', `${id}.lock`)

/** A process that sleeps (a live pid that is not ours). */
async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  children.push(child)
  await new Promise((r) => child.once('spawn', r))
  return child
}

/** A pid that was a process a moment ago and is not one now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await new Promise((r) => child.once('exit', r))
  return child.pid!
}

async function writeLock(id: string, content: string) {
  const journal = new FileJournal(dir)
  await journal.list() // creates the uploads folder
  await writeFile(lockPath(id), content)
}

describe('a lock is never taken while it is being written', () => {
  it('an empty lock file (a writer between create and write) counts as held, not stale', async () => {
    await writeLock('a', '')
    await expect(new FileJournal(dir).lock('a')).rejects.toMatchObject({ code: 'Locked' })
    expect(readFileSync(lockPath('a'), 'utf8')).toBe('')
  })

  it('a half-written one too; once it is older than the grace period it is stale and taken over', async () => {
    await writeLock('a', '{"pid":12')
    await expect(new FileJournal(dir).lock('a')).rejects.toMatchObject({ code: 'Locked' })
    const old = (Date.now() - PARTIAL_LOCK_GRACE_MS - 5000) / 1000
    await utimes(lockPath('a'), old, old)
    const release = await new FileJournal(dir).lock('a')
    expect(JSON.parse(readFileSync(lockPath('a'), 'utf8'))).toMatchObject({ pid: process.pid })
    await release()
    expect(existsSync(lockPath('a'))).toBe(false)
  })

  it('the lock appears whole: it is linked into place, never written in place', async () => {
    const calls: string[] = []
    const fs: JournalFs = {
      ...nodeJournalFs,
      open: (path, flags) => {
        calls.push(`open ${flags} ${path.endsWith('.lock') ? 'lock' : 'other'}`)
        return nodeJournalFs.open(path, flags)
      },
      link: (from, to) => {
        calls.push(`link ${to.endsWith('.lock') ? 'lock' : 'other'}`)
        // The lock's whole content is there before it gets its name.
        expect(JSON.parse(readFileSync(from, 'utf8'))).toMatchObject({ pid: process.pid })
        return nodeJournalFs.link(from, to)
      },
    }
    const release = await new FileJournal(dir, { fs }).lock('a')
    expect(calls).toContain('link lock')
    expect(calls).not.toContain('open wx lock')
    expect(calls).not.toContain('open w lock')
    await release()
    // No temp file is left behind.
    expect(await readdir(join(dir, 'uploads'))).toEqual([])
  })

  it('without hard links (FAT), an exclusive create still locks, and only one holder', async () => {
    const fs: JournalFs = {
      ...nodeJournalFs,
      link: () => Promise.reject(Object.assign(new Error('link not supported'), { code: 'EPERM' })),
    }
    const child = await sleeper()
    const release = await new FileJournal(dir, { fs }).lock('a')
    const held = JSON.parse(readFileSync(lockPath('a'), 'utf8')) as { pid: number }
    expect(held.pid).toBe(process.pid)
    await release()
    // A live other holder is respected on such a file system too.
    await writeFile(lockPath('a'), JSON.stringify({ pid: child.pid, host: hostname() }))
    await expect(new FileJournal(dir, { fs }).lock('a')).rejects.toThrow(`pid ${child.pid}`)
    expect(await readdir(join(dir, 'uploads'))).toEqual(['a.lock'])
  })
})

describe('who holds a lock survives pid reuse and reboots', () => {
  it('records host, pid, and on Linux the boot id and the process start time', async (ctx) => {
    const release = await new FileJournal(dir).lock('a')
    const held = JSON.parse(readFileSync(lockPath('a'), 'utf8')) as Record<string, unknown>
    expect(held).toMatchObject({ pid: process.pid, host: hostname() })
    await release()
    if (!linux) return ctx.skip() // no /proc: only the pid is recorded (README, known limits)
    expect(held).toMatchObject({ boot: bootId(), start: startOf(process.pid) })
  })

  it('a live pid with another start time (the pid was reused) is not the holder: taken over', async (ctx) => {
    if (!linux) return ctx.skip() // needs /proc/<pid>/stat
    const child = await sleeper()
    const start = String(Number(startOf(child.pid!)) - 1000)
    await writeLock(
      'a',
      JSON.stringify({ pid: child.pid, host: hostname(), boot: bootId(), start, nonce: 'n1' }),
    )
    expect(await new FileJournal(dir).lockedBy('a')).toBeUndefined()
    const release = await new FileJournal(dir).lock('a')
    await release()
  })

  it('a lock from before a reboot (another boot id) is stale even if its pid is alive now', async (ctx) => {
    if (!linux) return ctx.skip() // needs the boot id
    const child = await sleeper()
    await writeLock(
      'a',
      JSON.stringify({
        pid: child.pid,
        host: hostname(),
        boot: '00000000-0000-0000-0000-000000000000',
        start: startOf(child.pid!),
        nonce: 'n2',
      }),
    )
    const release = await new FileJournal(dir).lock('a')
    await release()
  })

  it('the same pid, boot and start time: held, and lockedBy names it', async (ctx) => {
    if (!linux) return ctx.skip()
    const child = await sleeper()
    await writeLock(
      'a',
      JSON.stringify({
        pid: child.pid,
        host: hostname(),
        boot: bootId(),
        start: startOf(child.pid!),
        nonce: 'n3',
      }),
    )
    expect(await new FileJournal(dir).lockedBy('a')).toBe(child.pid)
    await expect(new FileJournal(dir).lock('a')).rejects.toThrow(`pid ${child.pid}`)
  })
})

/**
 * `n` lock-child processes (started once, slow to start): `race(line)` sends each its
 * `id[\tpath]` in the current test's folder at once and returns what each one got.
 */
async function racers(n: number, keep: ChildProcess[]) {
  const script = resolve(__dirname, '../support/lock-child.ts')
  const procs = Array.from({ length: n }, () => {
    const p = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    keep.push(p)
    const got: string[] = []
    const waiters: (() => void)[] = []
    let buf = ''
    p.stdout!.setEncoding('utf8')
    p.stdout!.on('data', (d: string) => {
      buf += d
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        got.push(buf.slice(0, i))
        buf = buf.slice(i + 1)
        waiters.splice(0).forEach((w) => w())
      }
    })
    const next = async (k: number) => {
      while (got.length < k) await new Promise<void>((r) => waiters.push(r))
      return got[k - 1]!
    }
    return { p, next }
  })
  // All are up and waiting before any tries: as close to "at the same moment" as processes get.
  expect(await Promise.all(procs.map((x) => x.next(1)))).toEqual(Array(n).fill('ready'))
  let round = 1
  return async (line: (i: number) => string): Promise<string[]> => {
    round++
    procs.forEach((x, i) => x.p.stdin!.write(`${dir}\t${line(i)}\n`))
    return Promise.all(procs.map((x) => x.next(round)))
  }
}

describe('racing processes', () => {
  const racing: ChildProcess[] = []
  let race: Awaited<ReturnType<typeof racers>>
  beforeAll(async () => {
    race = await racers(6, racing)
  }, 120_000)
  afterAll(() => {
    for (const c of racing) c.kill('SIGKILL')
  })

  it('six processes clearing the same dead lock: exactly one wins (three times)', async () => {
    for (let round = 0; round < 3; round++) {
      const id = `x${round}`
      await writeLock(
        id,
        JSON.stringify({ pid: await deadPid(), host: hostname(), nonce: `dead-${round}` }),
      )
      const got = await race(() => id)
      expect(
        got.filter((g) => g === 'won'),
        got.join(', '),
      ).toHaveLength(1)
      expect(got.filter((g) => g === 'locked Locked')).toHaveLength(5)
    }
    // No clear marks or temp files left behind by the winners and losers: just the three locks.
    expect((await readdir(join(dir, 'uploads'))).sort()).toEqual(['x0.lock', 'x1.lock', 'x2.lock'])
  })

  it('six processes given the same file for new uploads (each its own record id): exactly one gets it', async () => {
    const file = join(dir, 'clip.mp4')
    await writeFile(file, 'x')
    await new FileJournal(dir).list()
    const got = await race((i) => `rec-${i}\t${file}`)
    expect(
      got.filter((g) => g === 'won'),
      got.join(', '),
    ).toHaveLength(1)
    expect(got.filter((g) => g === 'locked Locked')).toHaveLength(5)
  })
})

describe('the per-file lock in one process', () => {
  it('two uploads of one file to one destination: the second is refused; another destination is not', async () => {
    const journal = new FileJournal(dir)
    const release = await journal.lockUpload('one', { path: '/v/a.mp4', destinationId: 's3:x/b' })
    await expect(
      new FileJournal(dir).lockUpload('two', { path: '/v/a.mp4', destinationId: 's3:x/b' }),
    ).rejects.toMatchObject({ code: 'Locked' })
    // The refused one did not keep its record lock either.
    const other = await journal.lockUpload('two', { path: '/v/a.mp4', destinationId: 's3:y/c' })
    await other()
    await release()
    expect(await readdir(join(dir, 'uploads'))).toEqual([])
  })
})
