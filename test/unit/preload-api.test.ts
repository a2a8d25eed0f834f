import { beforeAll, describe, expect, it, vi } from 'vitest'
import { API_KEY, events, invoke, type UpreelApi } from '../../src/preload/contract'
import { PRELOAD_API_KEYS } from '../support/preload-api'

const exposed = new Map<string, unknown>()
const ipcRenderer = {
  invoke: vi.fn((..._args: unknown[]) => Promise.resolve('ok')),
  on: vi.fn(),
  removeListener: vi.fn(),
}
const webUtils = { getPathForFile: vi.fn(() => '/videos/clip.mp4') }

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

  it('gets dropped files paths from webUtils, and "" when it throws', () => {
    const file = {} as File
    expect(api.pathForFile(file)).toBe('/videos/clip.mp4')
    webUtils.getPathForFile.mockImplementationOnce(() => {
      throw new Error('not a File')
    })
    expect(api.pathForFile(file)).toBe('')
  })
})
