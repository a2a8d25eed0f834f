/**
 * The add flow's "never from Upreel's own data folder" rule holds through symlinks: a dropped
 * folder holding a link to the data folder (or to a file in it) queues nothing from there, even
 * with "upload all file types" on. Real folder scan (core's scanInputs) on real symlinks; the
 * engine is a recorder (this is about what reaches it).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { scanInputs } from '../../src/main/core/scan'
import type { CoreFunctions } from '../../src/main/services/core'
import type { AddFileInput, EngineApi } from '../../src/main/services/core-types'
import type { EngineService } from '../../src/main/services/engine-service'
import { QueueService } from '../../src/main/services/queue-service'
import type { SettingsService } from '../../src/main/services/settings'
import { EditableSettings } from '../../src/preload/contract'

function queueFor(dataDir: string) {
  const added: string[] = []
  const engine = {
    add: async (files: AddFileInput[]) => {
      added.push(...files.map((f) => f.path))
      return files.map((f, i) => ({ id: String(i), path: f.path }))
    },
    history: async () => [],
  } as unknown as EngineApi
  const queue = new QueueService({
    core: { scanInputs } as unknown as CoreFunctions,
    engines: { require: () => engine } as unknown as EngineService,
    settings: {
      get: () => EditableSettings.parse({ allFileTypes: true }),
    } as unknown as SettingsService,
    forbiddenRoots: [dataDir],
  })
  return { queue, added }
}

describe('QueueService: the data folder through symlinks', () => {
  const root = mkdtempSync(join(tmpdir(), 'upreel-queue-'))
  const dataDir = join(root, 'Upreel')
  mkdirSync(join(dataDir, 'state'), { recursive: true })
  writeFileSync(join(dataDir, 'settings.json'), '{"secrets":{}}')
  writeFileSync(join(dataDir, 'state', 'journal.json'), '{}')
  const drop = join(root, 'shoot')
  mkdirSync(drop)
  writeFileSync(join(drop, 'clip.mp4'), 'video')
  symlinkSync(dataDir, join(drop, 'link')) // a folder link to the data folder
  symlinkSync(join(dataDir, 'settings.json'), join(drop, 'innocent.mp4')) // a file link into it

  it('queues the real files and nothing reached through a link into the data folder', async () => {
    const { queue, added } = queueFor(dataDir)
    const r = await queue.addPaths([drop], 'drop')
    expect(added).toEqual([join(drop, 'clip.mp4')])
    expect(r.added).toBe(1)
    const own = r.skipped.filter((s) => /own data folder/.test(s.reason)).map((s) => s.name)
    expect(own.sort()).toEqual(['innocent.mp4', 'journal.json', 'settings.json'])
  })

  it('the data folder itself sitting behind a symlink is still recognised', async () => {
    const alias = join(root, 'alias-of-data')
    symlinkSync(dataDir, alias)
    // The app was told its data folder by the alias; the drop names the real folder.
    const { queue, added } = queueFor(alias)
    const r = await queue.addPaths([join(dataDir, 'state')], 'drop')
    expect(added).toEqual([])
    expect(r.refused[0]?.reason).toMatch(/own data folder/)
  })
})

describe('QueueService: duplicate questions are kept until answered', () => {
  const root = mkdtempSync(join(tmpdir(), 'upreel-dup-'))
  const clip = join(root, 'again.mp4')
  writeFileSync(clip, 'video') // 5 bytes, like the history entry below
  const previous = { size: 5, key: 'videos/again.mp4', destinationLabel: 's3://b', completedAt: 1 }

  function queueWithHistory() {
    let now = 0
    const added: string[] = []
    const engine = {
      add: async (files: AddFileInput[]) => {
        added.push(...files.map((f) => f.path))
        return files.map((f, i) => ({ id: String(i), path: f.path }))
      },
      history: async () => [previous],
      findDuplicates: async () => [previous],
    } as unknown as EngineApi
    const queue = new QueueService({
      core: { scanInputs } as unknown as CoreFunctions,
      engines: { require: () => engine } as unknown as EngineService,
      settings: {
        get: () => EditableSettings.parse({ allFileTypes: true }),
      } as unknown as SettingsService,
      forbiddenRoots: [join(root, 'data')],
      now: () => now,
    })
    return { queue, added, setNow: (t: number) => (now = t) }
  }

  it('open questions are listed (a new page asks them) until answered', async () => {
    const { queue, added } = queueWithHistory()
    const r = await queue.addPaths([clip], 'argv')
    expect(queue.openQuestions()).toEqual([r.duplicates])
    await queue.confirmDuplicates(r.duplicates!.token, true)
    expect(added).toEqual([clip])
    expect(queue.openQuestions()).toEqual([])
  })

  it('an answer that comes after the files were let go (30 minutes) says so', async () => {
    const { queue, added, setNow } = queueWithHistory()
    const r = await queue.addPaths([clip], 'argv')
    setNow(31 * 60_000)
    expect(queue.openQuestions()).toEqual([])
    const late = await queue.confirmDuplicates(r.duplicates!.token, true)
    expect(added).toEqual([])
    expect(late.refused[0]?.reason).toMatch(/waited more than 30 minutes/)
    // "Skip" late is no news: nothing to say.
    expect((await queue.confirmDuplicates(r.duplicates!.token, false)).refused).toEqual([])
  })
})
