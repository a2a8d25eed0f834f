/**
 * Locks in the state folder. `<name>.lock` names the process driving an upload (or sending a file
 * to a destination), so two processes (the app and the CLI, two CLIs) never do the same work.
 *
 * - **Written whole.** A lock is written to a temp file and hard-linked into place: link never
 *   replaces an existing file, and no reader ever sees an empty or half-written lock. Where the
 *   file system has no hard links (FAT), an exclusive create is the fallback; a lock that does not
 *   parse then counts as held for PARTIAL_LOCK_GRACE_MS (it is being written), stale after.
 * - **Survives pid reuse.** The holder is recorded as host, boot id and the process's start time
 *   (Linux: /proc/sys/kernel/random/boot_id, /proc/<pid>/stat). After a reboot, or when its pid
 *   now belongs to another process, a lock is stale. Where /proc is missing (macOS, Windows) only
 *   "is that pid alive" is known, as before.
 * - **Taken over by one.** Removing a stale lock needs a clear mark, `<lock>.clear-<nonce>.<k>`,
 *   created exclusively the same way. Its creator checks that the lock still holds the very
 *   content judged stale (each lock carries a unique nonce) before removing it, then competes for
 *   the lock like everyone else: two processes clearing the same dead lock cannot both win. A
 *   clearer that died holding mark k is passed by creating k+1.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { UploadError } from '../errors'
import type { JournalFs } from './journal-fs'

/** An unparseable lock younger than this is being written (exclusive-create fallback only). */
export const PARTIAL_LOCK_GRACE_MS = 10_000
/** Rounds of create / judge / clear before giving up (another process keeps clearing). */
const MAX_ROUNDS = 8
/** Clear marks tried for one stale lock (each one's creator died while clearing). */
const MAX_CLEARERS = 4
/** link() answers for "this file system has no hard links". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

interface Holder {
  pid: number
  host: string
  /** Linux boot id: a different one means the machine rebooted since. */
  boot?: string
  /** Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22). */
  start?: string
  nonce?: string
  at?: number
}

interface Seen {
  text: string
  mtimeMs: number
}

/** Lock paths held by this process (a file lock cannot tell two engines of one process apart). */
const heldHere = new Set<string>()

export class LockDir {
  constructor(
    private readonly fs: JournalFs,
    private readonly dir: string,
  ) {}

  private path(name: string) {
    return `${this.dir}/${name}.lock`
  }

  /**
   * Takes `<name>.lock`. Throws UploadError 'Locked' when another live process (or another engine
   * of this one) holds it. Returns the release function.
   */
  async acquire(name: string): Promise<() => Promise<void>> {
    const path = this.path(name)
    if (heldHere.has(path)) throw lockedError(process.pid)
    // Reserved before the first await: two engines of this process must not both get past here.
    heldHere.add(path)
    try {
      const text = JSON.stringify({
        pid: process.pid,
        host: hostname(),
        ...(await selfIdentity()),
        nonce: randomBytes(8).toString('hex'),
        at: Date.now(),
      } satisfies Holder)
      for (let round = 0; round < MAX_ROUNDS; round++) {
        // Another process is clearing a stale lock: it takes milliseconds.
        if (round > 0) await delay(10 * round)
        if (await this.create(path, text)) {
          return async () => {
            heldHere.delete(path)
            await this.removeIfSame(path, { text })
          }
        }
        const seen = await this.read(path)
        if (!seen) continue // released meanwhile
        const verdict = await judge(seen)
        if (verdict.live) throw lockedError(verdict.pid)
        await this.clear(path, seen, text)
      }
      throw lockedError(undefined)
    } catch (e) {
      heldHere.delete(path)
      throw e
    }
  }

  /** The pid holding `<name>.lock`, if that process is alive and not this one. */
  async holder(name: string): Promise<number | undefined> {
    const seen = await this.read(this.path(name)).catch(() => undefined)
    if (!seen) return undefined
    const verdict = await judge(seen)
    return verdict.live && verdict.pid !== process.pid ? verdict.pid : undefined
  }

  /** Creates `path` with `text`, whole, unless it exists. */
  private async create(path: string, text: string): Promise<boolean> {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
    try {
      const fh = await this.fs.open(tmp, 'wx')
      try {
        await fh.write(text)
      } finally {
        await fh.close()
      }
      try {
        await this.fs.link(tmp, path)
        return true
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return false
        if (code && NO_HARD_LINKS.has(code)) return await this.createExclusive(path, text)
        throw e
      }
    } finally {
      await this.fs.unlink(tmp).catch(() => undefined)
    }
  }

  private async createExclusive(path: string, text: string): Promise<boolean> {
    let fh
    try {
      fh = await this.fs.open(path, 'wx')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e
    }
    try {
      await fh.write(text)
      await fh.close()
      return true
    } catch (e) {
      await fh.close().catch(() => undefined)
      await this.fs.unlink(path).catch(() => undefined)
      throw e
    }
  }

  private async read(path: string): Promise<Seen | undefined> {
    try {
      const { mtimeMs } = await this.fs.stat(path)
      return { text: await this.fs.readFile(path, 'utf8'), mtimeMs }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
  }

  /** Removes `path` if it still holds `seen` (and, for an unparseable one, the same mtime). */
  private async removeIfSame(path: string, seen: { text: string; mtimeMs?: number }) {
    const now = await this.read(path).catch(() => undefined)
    if (!now || now.text !== seen.text) return
    if (seen.mtimeMs !== undefined && now.mtimeMs !== seen.mtimeMs) return
    await this.fs.unlink(path).catch(() => undefined)
  }

  /** Removes the stale lock `seen`, if this process wins the right to (see the header). */
  private async clear(path: string, seen: Seen, text: string): Promise<void> {
    const tag =
      parseHolder(seen.text)?.nonce ??
      createHash('sha256').update(`${seen.mtimeMs}\n${seen.text}`).digest('hex').slice(0, 16)
    const mark = (k: number) => `${path}.clear-${tag}.${k}`
    for (let k = 1; k <= MAX_CLEARERS; k++) {
      if (await this.create(mark(k), text)) {
        try {
          await this.removeIfSame(path, seen)
        } finally {
          // `seen` can never come back (its nonce is unique): marks 1..k have done their job,
          // the lower ones' creators are dead.
          for (let j = k; j >= 1; j--) await this.fs.unlink(mark(j)).catch(() => undefined)
        }
        return
      }
      const other = await this.read(mark(k))
      // Gone: its clearer has finished. Alive: it is clearing right now. Either way the caller
      // looks at the lock again.
      if (!other || (await judge(other)).live) return
    }
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const j = JSON.parse(text) as Partial<Holder>
    if (typeof j.pid === 'number' && typeof j.host === 'string') return j as Holder
  } catch {
    // a lock being written (exclusive-create fallback) or damaged
  }
  return undefined
}

/** Whether the process a lock names still holds it. */
async function judge(seen: Seen): Promise<{ live: boolean; pid?: number }> {
  const h = parseHolder(seen.text)
  if (!h) return { live: Date.now() - seen.mtimeMs < PARTIAL_LOCK_GRACE_MS }
  // Another machine's lock (a shared folder) cannot be checked: taken over, as before.
  if (h.host !== hostname()) return { live: false }
  const me = await selfIdentity()
  if (h.boot && me.boot && h.boot !== me.boot) return { live: false } // rebooted since
  // This process, but no engine of it holds the lock (checked before): an engine dropped without
  // close() (a test's simulated crash).
  if (h.pid === process.pid) return { live: false }
  if (!processAlive(h.pid)) return { live: false }
  if (h.start && me.boot && h.boot === me.boot) {
    const start = await startTimeOf(h.pid)
    if (start && start !== h.start) return { live: false } // the pid now names another process
  }
  return { live: true, pid: h.pid }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

let self: Promise<{ boot?: string; start?: string }> | undefined

/** This process's boot id and start time, where the system tells (Linux). */
function selfIdentity(): Promise<{ boot?: string; start?: string }> {
  self ??= (async () => {
    const boot = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
      (t) => t.trim() || undefined,
      () => undefined,
    )
    const start = await startTimeOf(process.pid)
    return boot && start ? { boot, start } : {}
  })()
  return self
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] || undefined
  } catch {
    return undefined
  }
}

export function lockedError(pid: number | undefined): UploadError {
  return new UploadError({
    code: 'Locked',
    message: `Another Upreel process${pid ? ` (pid ${pid})` : ''} is already uploading this file. It continues there; close that one to take it over here.`,
  })
}
