import { beforeAll, describe, expect, it, vi } from 'vitest'
import { API_KEY, events, invoke, type UpreelApi } from '../../src/preload/contract'
import { PRELOAD_API_KEYS } from '../support/preload-api'

const exposed = new Map<string, unknown>()
const ipcRenderer = {
  invoke: vi.fn((..._args: unknown[]) => Promise.resolve('ok')),
  on: vi.fn(),
  removeListener: vi.fn(),
}
/** Electron's webUtils as documented: a path for a File from the disk, '' for one built in JS,
 *  and an exception for anything that is not a File. Here "from the disk" = registered. */
const onDisk = new Map<File, string>()
const webUtils = {
  getPathForFile: vi.fn((file: unknown) => {
    if (!(file instanceof File)) throw new TypeError('not a File')
    return onDisk.get(file) ?? ''
  }),
}

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
  ipcRenderer,
  webUtils,
}))

let api: UpreelApi

beforeAll(async () => {
  await import('../../src/preload/index')
  api = exposed.get(API_KEY) as UpreelApi
})

describe('preload API', () => {
  it('exposes exactly one global, named upreel', () => {
    expect([...exposed.keys()]).toEqual(['upreel'])
    expect(API_KEY).toBe('upreel')
  })

  it('exposes exactly these intents (pinned: a new key must be a deliberate change)', () => {
    expect(Object.keys(api).sort()).toEqual([...PRELOAD_API_KEYS].sort())
    expect(Object.isFrozen(api)).toBe(true)
    for (const v of Object.values(api)) expect(typeof v).toBe('function')
  })

  it('never exposes Electron or a generic channel primitive', () => {
    const keys = Object.keys(api).map((k) => k.toLowerCase())
    for (const banned of [
      'invoke',
      'send',
      'on',
      'ipcrenderer',
      'readfile',
      'require',
      'getsecret',
    ]) {
      expect(keys).not.toContain(banned)
    }
  })

  it('sends each intent on its contract channel with exactly one argument', async () => {
    ipcRenderer.invoke.mockClear()
    await (api.pause as (r: unknown, extra: unknown) => Promise<void>)({ id: 'a' }, 'smuggled')
    expect(ipcRenderer.invoke).toHaveBeenCalledWith('uploads:pause', { id: 'a' })
    expect(ipcRenderer.invoke.mock.calls[0]).toHaveLength(2)
    for (const [name, def] of Object.entries(invoke)) {
      if (name === 'addDropped') continue // takes Files, below
      ipcRenderer.invoke.mockClear()
      await (api[name as keyof typeof invoke] as (r?: unknown) => Promise<unknown>)(undefined)
      expect(ipcRenderer.invoke.mock.calls[0]?.[0]).toBe(def.channel)
    }
  })

  it('subscriptions give the payload only (never the IPC event) and unsubscribe', () => {
    for (const [name, channel] of Object.entries(events)) {
      ipcRenderer.on.mockClear()
      ipcRenderer.removeListener.mockClear()
      const listener = vi.fn()
      const off = (api[name as keyof typeof events] as (l: (p: unknown) => void) => () => void)(
        listener,
      )
      const [ch, wrapped] = ipcRenderer.on.mock.calls[0] as [
        string,
        (e: unknown, p: unknown) => void,
      ]
      expect(ch).toBe(channel)
      wrapped({ sender: 'ipcRenderer itself' }, { payload: 1 })
      expect(listener).toHaveBeenCalledWith({ payload: 1 })
      expect(listener.mock.calls[0]).toHaveLength(1)
      off()
      expect(ipcRenderer.removeListener).toHaveBeenCalledWith(channel, wrapped)
    }
  })

  it('addDropped: the paths of dropped Files come from webUtils, in the preload', async () => {
    const clip = new File([''], 'clip.mp4')
    const shoot = new File([''], 'shoot')
    onDisk.set(clip, '/videos/clip.mp4')
    onDisk.set(shoot, '/videos/shoot')
    ipcRenderer.invoke.mockClear()
    ipcRenderer.invoke.mockResolvedValueOnce({
      added: 2,
      skipped: [],
      skippedCount: 0,
      refused: [],
    } as never)
    const r = await api.addDropped([clip, shoot])
    expect(ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith('uploads:add-dropped', {
      paths: ['/videos/clip.mp4', '/videos/shoot'],
    })
    expect(r.added).toBe(2)
  })

  it('addDropped refuses a File the page built, and strings, without asking main', async () => {
    ipcRenderer.invoke.mockClear()
    const forged = new File(['root:x:0:0'], 'passwd')
    const r = await api.addDropped([
      forged,
      '/etc/passwd' as unknown as File,
      { name: 'x', path: '/etc/shadow' } as unknown as File,
    ])
    expect(ipcRenderer.invoke).not.toHaveBeenCalled()
    expect(r).toEqual({
      added: 0,
      skipped: [],
      skippedCount: 0,
      refused: [
        { name: 'passwd', reason: 'Not a file on this computer.' },
        { name: 'An item', reason: 'Not a file on this computer.' },
        { name: 'An item', reason: 'Not a file on this computer.' },
      ],
    })
    // The old shape (paths from the page) is no way in either.
    await expect(
      (api.addDropped as unknown as (r: unknown) => Promise<unknown>)({ paths: ['/etc/passwd'] }),
    ).rejects.toThrow(TypeError)
    expect(ipcRenderer.invoke).not.toHaveBeenCalled()
  })

  it('addDropped with real and forged Files: only the real paths cross, the rest are refused', async () => {
    const real = new File([''], 'real.mp4')
    onDisk.set(real, '/videos/real.mp4')
    ipcRenderer.invoke.mockClear()
    ipcRenderer.invoke.mockResolvedValueOnce({
      added: 1,
      skipped: [],
      skippedCount: 0,
      refused: [],
    } as never)
    const r = await api.addDropped([real, new File([''], 'forged.mp4')])
    expect(ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith('uploads:add-dropped', {
      paths: ['/videos/real.mp4'],
    })
    expect(r.refused).toEqual([{ name: 'forged.mp4', reason: 'Not a file on this computer.' }])
  })
})
