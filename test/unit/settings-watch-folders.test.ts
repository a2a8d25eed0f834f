import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/main/services/ports'
import { WatchFolders } from '../../src/main/services/watch-folders'

/** Short windows keep the test quick; the app uses 3 s stable / 1 s checks. */
const STABLE_MS = 400
const CHECK_MS = 50

let watcher: WatchFolders | undefined
afterEach(() => watcher?.dispose())

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'upreel-watch-'))
  const added: { paths: string[]; at: number }[] = []
  let notify: () => void = () => {}
  const next = () => new Promise<void>((r) => (notify = r))
  watcher = new WatchFolders({
    add: async (paths) => {
      added.push({ paths, at: Date.now() })
      notify()
    },
    log: silentLogger,
    stableMs: STABLE_MS,
    checkMs: CHECK_MS,
  })
  watcher.set([dir])
  return { dir, added, next }
}

describe('WatchFolders', () => {
  it('adds a new file only once its size has been stable for the window', async () => {
    const { dir, added, next } = setup()
    const file = join(dir, 'export.mp4')
    const got = next()
    writeFileSync(file, Buffer.alloc(1000))
    // A slow export: the file keeps growing for a while.
    for (let i = 0; i < 4; i++) {
      await delay(150)
      appendFileSync(file, Buffer.alloc(1000))
    }
    const lastWrite = Date.now()
    await got
    expect(added).toHaveLength(1)
    expect(added[0]!.paths).toEqual([file])
    expect(added[0]!.at - lastWrite).toBeGreaterThanOrEqual(STABLE_MS - CHECK_MS)
  })

  it('watches nested folders, adds each file once, ignores empty files', async () => {
    const { dir, added, next } = setup()
    mkdirSync(join(dir, 'day 2'))
    const got = next()
    writeFileSync(join(dir, 'day 2', 'a.mov'), 'x')
    writeFileSync(join(dir, 'empty.mp4'), '')
    await got
    // Touch it again: it must not be added a second time.
    appendFileSync(join(dir, 'day 2', 'a.mov'), 'y')
    await delay(STABLE_MS + 4 * CHECK_MS)
    expect(added.flatMap((a) => a.paths)).toEqual([join(dir, 'day 2', 'a.mov')])
  })

  it('stops when the folder is removed from the list', () => {
    const { dir } = setup()
    expect(watcher!.folders()).toEqual([dir])
    watcher!.set([])
    expect(watcher!.folders()).toEqual([])
  })
})
