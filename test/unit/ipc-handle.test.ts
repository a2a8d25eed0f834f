import { describe, expect, it, vi } from 'vitest'
import {
  emitter,
  IpcRouter,
  mainFramePolicy,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../src/main/ipc/handle'
import { appUrlCheck } from '../../src/main/app-url'
import { events, invoke } from '../../src/preload/contract'

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>()
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  call(channel: string, event: InvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (!h) throw new Error(`no handler for ${channel}`)
    return Promise.resolve().then(() => h(event, ...args))
  }
}

const webContents = { id: 1 }
const win = { webContents, isDestroyed: () => false }
const isAppUrl = appUrlCheck(['upreel://app'])
const policy = mainFramePolicy(() => win, isAppUrl)
const good: InvokeEventLike = {
  sender: webContents,
  senderFrame: { url: 'upreel://app/index.html', parent: null },
}

function setup() {
  const ipc = new FakeIpcMain()
  const router = new IpcRouter(ipc, policy)
  return { ipc, router }
}

describe('IpcRouter sender check', () => {
  const bad: [string, InvokeEventLike][] = [
    [
      'another page',
      { sender: webContents, senderFrame: { url: 'https://evil.example/', parent: null } },
    ],
    [
      'a file:// page',
      { sender: webContents, senderFrame: { url: 'file:///tmp/x.html', parent: null } },
    ],
    [
      'an iframe',
      { sender: webContents, senderFrame: { url: 'upreel://app/index.html', parent: {} } },
    ],
    [
      'another window',
      { sender: { id: 2 }, senderFrame: { url: 'upreel://app/index.html', parent: null } },
    ],
    ['a frame that is gone', { sender: webContents, senderFrame: null }],
  ]
  for (const [name, event] of bad) {
    it(`refuses ${name} before the handler runs`, async () => {
      const { ipc, router } = setup()
      const fn = vi.fn()
      router.handle('pause', fn)
      await expect(ipc.call('uploads:pause', event, { id: 'a' })).rejects.toThrow(/Refused/)
      expect(fn).not.toHaveBeenCalled()
    })
  }

  it('refuses everything once the window is destroyed', async () => {
    const ipc = new FakeIpcMain()
    const router = new IpcRouter(
      ipc,
      mainFramePolicy(() => ({ webContents, isDestroyed: () => true }), isAppUrl),
    )
    const fn = vi.fn()
    router.handle('pauseAll', fn)
    await expect(ipc.call('uploads:pause-all', good)).rejects.toThrow(/Refused/)
    expect(fn).not.toHaveBeenCalled()
  })

  it('passes our main frame with the parsed request', async () => {
    const { ipc, router } = setup()
    const fn = vi.fn(() => undefined)
    router.handle('pause', fn)
    await ipc.call('uploads:pause', good, { id: 'abc' })
    expect(fn).toHaveBeenCalledWith({ id: 'abc' })
  })
})

describe('IpcRouter schema parsing', () => {
  const cases: [keyof typeof invoke, string, unknown[]][] = [
    ['pause', 'a number id', [{ id: 42 }]],
    ['pause', 'an extra key', [{ id: 'a', path: '/etc/passwd' }]],
    ['pause', 'no payload', []],
    ['pause', 'two arguments', [{ id: 'a' }, { id: 'b' }]],
    ['addDropped', 'an empty list', [{ paths: [] }]],
    ['addDropped', 'a path longer than PATH_MAX', [{ paths: ['/' + 'a'.repeat(5000)] }]],
    ['copyShareLink', 'a link longer than S3 allows (8 days)', [{ id: 'a', hours: 192 }]],
    ['openExternal', 'a file: URL', [{ url: 'file:///etc/passwd' }]],
    ['openExternal', 'an http: URL', [{ url: 'http://example.com' }]],
    ['confirmDuplicates', 'a token that is not a uuid', [{ token: '../x', upload: true }]],
    ['saveSettings', 'a part size below S3 minimum', [{ settings: { partSizeMiB: 4 } }]],
    [
      'saveSettings',
      'a javascript: endpoint',
      [{ settings: { s3: { endpoint: 'javascript:alert(1)' } } }],
    ],
    ['saveSettings', 'settings without the envelope', [{ partSizeMiB: 16 }]],
    [
      'saveSettings',
      'an unknown secret name',
      [{ settings: {}, secrets: { awsSessionToken: 'x' } }],
    ],
    [
      'saveSettings',
      'a token that would smuggle a second header',
      [{ settings: {}, secrets: { backendToken: 'tok\r\nX-Evil: 1' } }],
    ],
    [
      'saveSettings',
      'an extra header with a line break in its value',
      [{ settings: {}, secrets: { backendHeaders: [{ name: 'X-Key', value: 'a\nb' }] } }],
    ],
    [
      'saveSettings',
      'a token pasted with a curly quote (not Latin-1: no header can carry it)',
      [{ settings: {}, secrets: { backendToken: '\u201ctok\u201d' } }],
    ],
    [
      'saveSettings',
      'an extra header value with an emoji',
      [{ settings: {}, secrets: { backendHeaders: [{ name: 'X-Key', value: 'key \u{1F511}' }] } }],
    ],
    [
      'saveSettings',
      'an extra header name that is not a token',
      [{ settings: {}, secrets: { backendHeaders: [{ name: 'X Key', value: 'a' }] } }],
    ],
    [
      'saveSettings',
      'an extra Host header',
      [{ settings: {}, secrets: { backendHeaders: [{ name: 'host', value: 'evil.test' }] } }],
    ],
    [
      'saveSettings',
      'an extra Cookie header with a line break (a second header smuggled in)',
      [{ settings: {}, secrets: { backendHeaders: [{ name: 'Cookie', value: 'a=b\r\nX: 1' }] } }],
    ],
    [
      'saveSettings',
      'the same extra header twice',
      [
        {
          settings: {},
          secrets: {
            backendHeaders: [
              { name: 'X-Key', value: 'a' },
              { name: 'x-key', value: 'b' },
            ],
          },
        },
      ],
    ],
    ['clearSecret', 'an unknown secret name', [{ name: 'awsSessionToken' }]],
    ['pageReady', 'a payload', [{ paths: ['/etc/passwd'] }]],
    ['getSettings', 'a payload where none is expected', [{ leak: true }]],
  ]
  for (const [name, what, args] of cases) {
    it(`${name}: refuses ${what}`, async () => {
      const { ipc, router } = setup()
      const fn = vi.fn()
      router.handle(name, fn as never)
      await expect(ipc.call(invoke[name].channel, good, ...args)).rejects.toThrow()
      expect(fn).not.toHaveBeenCalled()
    })
  }

  it('takes a Cookie extra header (a platform that signs in by cookie)', async () => {
    const { ipc, router } = setup()
    const fn = vi.fn((s: unknown) => s)
    router.handle('saveSettings', fn as never)
    const secrets = { backendHeaders: [{ name: 'Cookie', value: 'platform_session=abc' }] }
    await ipc.call('settings:save', good, { settings: {}, secrets })
    expect(fn).toHaveBeenCalledWith(expect.objectContaining({ secrets }))
  })

  it('fills settings defaults from the schema', async () => {
    const { ipc, router } = setup()
    const fn = vi.fn((s: unknown) => s)
    router.handle('saveSettings', fn as never)
    const out = (await ipc.call('settings:save', good, { settings: { mode: 'backend' } })) as {
      settings: { partSizeMiB: number; keyTemplate: string }
    }
    expect(out.settings.partSizeMiB).toBe(16)
    expect(out.settings.keyTemplate).toBe('videos/{uuid}/{filename}')
  })

  it('turns handler errors into plain messages without stack or cause', async () => {
    const { ipc, router } = setup()
    const secretCause = new Error('secret=AKIA…')
    router.handle('pauseAll', () => {
      throw new Error('Choose where uploads go first.', { cause: secretCause })
    })
    const err = (await ipc.call('uploads:pause-all', good).catch((e: unknown) => e)) as Error
    expect(err.message).toBe('Choose where uploads go first.')
    expect(err.cause).toBeUndefined()
  })
})

describe('contract', () => {
  it('has unique channels and every intent registered by handleAll', () => {
    const channels = Object.values(invoke).map((d) => d.channel)
    expect(new Set(channels).size).toBe(channels.length)
    const eventChannels = Object.values(events)
    expect(new Set([...channels, ...eventChannels]).size).toBe(
      channels.length + eventChannels.length,
    )
    const { ipc, router } = setup()
    const handlers = Object.fromEntries(Object.keys(invoke).map((k) => [k, () => undefined]))
    router.handleAll(handlers as never)
    expect([...ipc.handlers.keys()].sort()).toEqual([...channels].sort())
    router.dispose()
    expect(ipc.handlers.size).toBe(0)
  })

  it('emits typed events on the contract channel only', () => {
    const send = vi.fn()
    const emit = emitter(() => ({ send }))
    emit('onNotice', { kind: 'info', message: 'hi' })
    expect(send).toHaveBeenCalledWith('app:notice', { kind: 'info', message: 'hi' })
    const none = emitter(() => null)
    expect(() => none('onNavigate', 'queue')).not.toThrow()
  })
})
