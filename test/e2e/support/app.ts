/**
 * The e2e harness: the REAL renderer build in Debian's Chromium (Playwright), the REAL preload
 * (bundled with the electron shim), and the REAL main-process services and IPC handlers running
 * in this Node process against the REAL engine, S3 server and ffmpeg. Only Electron-native pieces
 * are doubles: dialogs (scripted), safeStorage (AES-GCM with a per-run key), notifications,
 * clipboard, shell, power monitor / save blocker and the taskbar bar (recorded).
 *
 * "Restart" closes the services the way quitting does (pause everything, flush the journal) and
 * starts new ones on the same data dir, then reloads the page: what a relaunch does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import ElectronStore from 'electron-store'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createAppProtocolHandler } from '../../../src/main/app-protocol'
import { appUrlCheck } from '../../../src/main/app-url'
import {
  mainFramePolicy,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../../src/main/ipc/handle'
import { createAppServices, type AppServices } from '../../../src/main/services/app-services'
import { realCore } from '../../../src/main/services/core-wiring'
import type {
  OpenDialogLike,
  PowerSaveBlockerLike,
  SafeStorageLike,
} from '../../../src/main/services/ports'
import { SecretBox } from '../../../src/main/services/secrets'
import { credentialOrigins } from '../../../src/main/services/settings'
import { EditableSettings } from '../../../src/preload/contract'
import { PRELOAD_BUNDLE, RENDERER_DIR } from './build'

/** The page's origin in the harness (Electron uses upreel://app; same handler either way). */
export const E2E_ORIGIN = 'http://upreel.test'

export type SettingsInput = Partial<Omit<EditableSettings, 's3' | 'backend' | 'thumbnails'>> & {
  s3?: Partial<EditableSettings['s3']>
  backend?: Partial<EditableSettings['backend']>
  thumbnails?: Partial<EditableSettings['thumbnails']>
}

export interface LaunchOptions {
  dataDir: string
  settings?: SettingsInput
  /** Fields written as they are over the saved settings: what a hand edit or an older Upreel left. */
  storedAsIs?: Record<string, unknown>
  secrets?: { secretAccessKey?: string; backendToken?: string }
  /** The environment main sees (not this process's: AWS_* here must not leak in). */
  env?: NodeJS.ProcessEnv
  viewport?: { width: number; height: number }
  colorScheme?: 'light' | 'dark'
  /** Files the app is launched with ("Open with Upreel", `upreel clip.mp4`). */
  openWith?: string[]
}

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown

class HarnessIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>()
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
}

/** AES-256-GCM with a key per harness: stands in for the OS keychain. */
function testSafeStorage(key: Buffer): SafeStorageLike {
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => 'gnome_libsecret',
    encryptString(text) {
      const iv = randomBytes(12)
      const c = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([c.update(text, 'utf8'), c.final()])
      return Buffer.concat([iv, c.getAuthTag(), body])
    },
    decryptString(buf) {
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12))
      d.setAuthTag(buf.subarray(12, 28))
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8')
    },
  }
}

/** Native dialogs answered from a script the test fills. */
export class ScriptedDialog implements OpenDialogLike {
  readonly openAnswers: string[][] = []
  messageAnswer = 0
  readonly messages: string[] = []
  async showOpenDialog() {
    const next = this.openAnswers.shift()
    return next ? { canceled: false, filePaths: next } : { canceled: true, filePaths: [] }
  }
  async showMessageBox(o: { message: string }) {
    this.messages.push(o.message)
    return { response: this.messageAnswer }
  }
}

export class AppHarness {
  readonly ipc = new HarnessIpcMain()
  readonly dialog = new ScriptedDialog()
  readonly clipboard: string[] = []
  readonly revealed: string[] = []
  readonly notifications: { title: string; body: string }[] = []
  readonly progress: number[] = []
  readonly blockers = new Set<number>()
  readonly powerMonitor = new EventEmitter()
  online = true
  /** The app session's cookie jar (Electron's session.cookies), by origin. */
  readonly cookies = new Map<string, { name: string; value: string }[]>()
  services: AppServices | null = null
  private readonly window = { webContents: { id: 'harness' }, isDestroyed: () => false }
  private readonly key = randomBytes(32)
  private nextBlocker = 1
  private readonly isAppUrl = appUrlCheck([E2E_ORIGIN])

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly opts: LaunchOptions,
  ) {}

  static async launch(browser: Browser, opts: LaunchOptions): Promise<AppHarness> {
    await mkdir(opts.dataDir, { recursive: true })
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1180, height: 760 },
      colorScheme: opts.colorScheme ?? 'light',
    })
    const page = await context.newPage()
    const app = new AppHarness(context, page, opts)
    app.seed()
    await app.wirePage()
    app.services = await app.startServices()
    // As index.ts does at launch: handed to the services before the page exists.
    if (opts.openWith) void app.services.addPaths(opts.openWith, 'argv')
    await page.goto(`${E2E_ORIGIN}/index.html`)
    await page.locator('[data-testid="app"][data-ready="true"]').waitFor()
    // Screenshots and assertions never race the CSS transitions of progress bars.
    await page.emulateMedia({ reducedMotion: 'reduce' })
    return app
  }

  private store(): ElectronStore {
    // The real electron-store (it runs in Node when given an absolute cwd), as index.ts makes it.
    return new ElectronStore({ name: 'settings', cwd: this.opts.dataDir, clearInvalidConfig: true })
  }

  private safeStorage(): SafeStorageLike {
    return testSafeStorage(this.key)
  }

  /** Writes settings and secrets the way the settings screen would have saved them. */
  private seed(): void {
    const store = this.store()
    const s = this.opts.settings ?? {}
    const base = EditableSettings.parse({})
    store.set(
      'settings',
      EditableSettings.parse({
        ...base,
        ...s,
        s3: { ...base.s3, ...s.s3 },
        backend: { ...base.backend, ...s.backend },
        thumbnails: { ...base.thumbnails, ...s.thumbnails },
      }),
    )
    if (this.opts.storedAsIs) {
      store.set('settings', { ...(store.get('settings') as object), ...this.opts.storedAsIs })
    }
    const secrets = new SecretBox(store, this.safeStorage())
    if (this.opts.secrets?.secretAccessKey) {
      secrets.set('secretAccessKey', this.opts.secrets.secretAccessKey)
    }
    if (this.opts.secrets?.backendToken) {
      // Bound to the addresses it was "typed" with, as the settings screen stores it.
      const origins = credentialOrigins(EditableSettings.parse(store.get('settings')))
      secrets.set('backendToken', this.opts.secrets.backendToken, origins)
    }
  }

  private async wirePage(): Promise<void> {
    const page = this.page
    // Nothing leaves the page except to our origin (the CSP says the same; this is a backstop).
    await this.context.route(
      (url) => !url.href.startsWith(E2E_ORIGIN),
      (route) => route.abort('blockedbyclient'),
    )
    const handler = createAppProtocolHandler({
      rendererDir: RENDERER_DIR,
      thumbnailPath: (id) => this.services?.thumbnailPath(id),
    })
    await page.route(`${E2E_ORIGIN}/**`, async (route) => {
      const req = route.request()
      const res = await handler(new Request(req.url(), { method: req.method() }))
      await route.fulfill({
        status: res.status,
        headers: Object.fromEntries(res.headers.entries()),
        body: Buffer.from(await res.arrayBuffer()),
      })
    })
    await page.exposeFunction('__upreelInvoke', async (channel: string, args: unknown[]) => {
      const listener = this.ipc.handlers.get(channel)
      if (!listener) throw new Error(`No handler registered for '${channel}'`)
      // What Electron reports as the sender: our window, its top frame, the page's URL.
      const event: InvokeEventLike = {
        sender: this.window.webContents,
        senderFrame: { url: page.url(), parent: null },
      }
      return listener(event, ...args)
    })
    await page.addInitScript({ path: PRELOAD_BUNDLE })
  }

  private async startServices(): Promise<AppServices> {
    const page = this.page
    const blockers: PowerSaveBlockerLike = {
      start: () => {
        const id = this.nextBlocker++
        this.blockers.add(id)
        return id
      },
      stop: (id) => void this.blockers.delete(id),
      isStarted: (id) => this.blockers.has(id),
    }
    return createAppServices({
      dataDir: this.opts.dataDir,
      stateDir: join(this.opts.dataDir, 'state'),
      core: realCore,
      ipcMain: this.ipc,
      senderPolicy: mainFramePolicy(() => this.window, this.isAppUrl),
      sink: () => ({
        send: (channel, payload) => {
          page
            .evaluate(
              ([c, p]) =>
                (window as unknown as { __upreelEmit(c: unknown, p: unknown): void }).__upreelEmit(
                  c,
                  p,
                ),
              [channel, payload] as const,
            )
            .catch(() => undefined) // the page is reloading or closed
        },
      }),
      store: this.store(),
      safeStorage: this.safeStorage(),
      dialog: this.dialog,
      clipboard: { writeText: (t) => void this.clipboard.push(t) },
      shell: {
        openExternal: async () => undefined,
        showItemInFolder: (p) => void this.revealed.push(p),
      },
      notifier: { notify: (title, body) => void this.notifications.push({ title, body }) },
      powerSaveBlocker: blockers,
      powerMonitor: this.powerMonitor as never,
      isOnline: () => this.online,
      cookies: {
        // What Electron's cookies.get({ url }) gives: the cookies that belong to the URL.
        get: async ({ url }) => this.cookies.get(new URL(url).origin) ?? [],
      },
      progressBar: () => ({ setProgressBar: (p) => void this.progress.push(p) }),
      env: this.opts.env ?? {},
      app: { version: '0.0.0-e2e', platform: process.platform },
      appOrigin: E2E_ORIGIN,
      log: { info: () => {}, warn: () => {}, error: (m, e) => console.error(m, e) },
    })
  }

  /** Quit (pause, flush the journal) and launch again on the same data dir. */
  async restart(): Promise<void> {
    await this.services?.close()
    this.services = await this.startServices()
    await this.page.reload()
    await this.page.locator('[data-testid="app"][data-ready="true"]').waitFor()
  }

  async close(): Promise<void> {
    await this.services?.close().catch(() => undefined)
    this.services = null
    await this.context.close()
  }
}
