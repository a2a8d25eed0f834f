/**
 * App lifecycle only: single-instance lock, the app protocol, services, the window, the menu, and
 * an orderly quit. Everything with logic lives in services/ (testable without Electron).
 */
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  Menu,
  nativeTheme,
  net,
  Notification,
  powerMonitor,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron'
import ElectronStore from 'electron-store'
import { join } from 'node:path'
import { createAppProtocolHandler } from './app-protocol'
import { APP_INDEX_URL, APP_ORIGIN, APP_SCHEME, appUrlCheck } from './app-url'
import { AppShell } from './app-shell'
import { decodeLaunch, encodeLaunch, fileArgs } from './argv'
import { appUserDataDir, defaultStateDir } from './core/paths'
import { CSP } from './csp'
import { openExternalSafely } from './external'
import { electronIpcMain, removeElectronStoreListener } from './ipc/electron-ipc'
import { mainFramePolicy } from './ipc/handle'
import { buildAppMenu } from './menu'
import { pickForAdd } from './services/add-dialog'
import { createAppServices, type AppServices } from './services/app-services'
import { realCore } from './services/core-wiring'
import type { OpenDialogLike } from './services/ports'
import { consoleLogger } from './services/ports'
import { QuitGuard } from './services/quit-guard'
import { createMainWindow, hardenWebContents } from './window'

const LIFECYCLE_DOCS =
  'https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html'

const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined
const isAppUrl = appUrlCheck(devUrl ? [APP_ORIGIN, devUrl] : [APP_ORIGIN])

// Privileged before 'ready': a standard, secure scheme gets a real origin for 'self' in the CSP,
// without the powers file:// has. supportFetchAPI lets Vite's `<script type="module"
// crossorigin>` load (a CORS-mode fetch, same origin); corsEnabled stays off, so no other origin
// can read from the scheme (Electron ≥ 41.x enforces that).
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
])
// The CLI computes the same folder without Electron, so both see the same journal and history.
app.setName('Upreel')
// Windows shows notifications only for an app with a user model id (the installer's appId).
if (process.platform === 'win32') app.setAppUserModelId('app.upreel.desktop')
// UPREEL_USER_DATA_DIR: a throwaway profile for tests (the Playwright _electron spec).
app.setPath('userData', process.env.UPREEL_USER_DATA_DIR || appUserDataDir())

let services: AppServices | null = null
let quitting = false

/**
 * The window, and files from outside the page ("Open with", a second launch, the menu): it opens
 * the window first (macOS runs on without one), then hands them to the services, which hold them
 * until the page listens and a destination exists (duplicates are asked about there).
 */
const appShell = new AppShell<BrowserWindow>({ open: openWindow, services: () => services })

function openWindow(): BrowserWindow {
  const w = createMainWindow({
    url: devUrl ?? APP_INDEX_URL,
    isAppUrl,
    preloadPath: join(__dirname, '../preload/index.js'),
    dark: nativeTheme.shouldUseDarkColors,
  })
  w.on('close', (event) => {
    // Closing the window quits on Windows and Linux: ask first when files are moving.
    if (process.platform !== 'darwin' && !quitting) {
      event.preventDefault()
      app.quit()
    }
  })
  w.on('closed', () => {
    appShell.closed(w)
    // macOS keeps running without a window: files opened now wait for the next one.
    services?.pageGone()
  })
  return w
}

const windowDialog: OpenDialogLike = {
  showOpenDialog: (o) => {
    const win = appShell.window()
    return win ? dialog.showOpenDialog(win, o) : dialog.showOpenDialog(o)
  },
  showMessageBox: (o) => {
    const win = appShell.window()
    return win ? dialog.showMessageBox(win, o) : dialog.showMessageBox(o)
  },
}

async function start(): Promise<void> {
  const ses = session.defaultSession
  // The page asks for nothing (no camera, notifications, clipboard-read…): main does those.
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  ses.setPermissionCheckHandler(() => false)
  // The app protocol sets the CSP on its own responses; this covers anything served over http(s)
  // to our page (the dev server gets Vite's relaxed meta CSP instead, see electron.vite.config).
  if (!devUrl) {
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] },
      })
    })
  }
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, isAppUrl))

  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler({
      rendererDir: join(__dirname, '../renderer'),
      thumbnailPath: (id) => services?.thumbnailPath(id),
    }),
  )

  const store = new ElectronStore({ name: 'settings', clearInvalidConfig: true })
  removeElectronStoreListener()
  services = await createAppServices({
    dataDir: app.getPath('userData'),
    stateDir: process.env.UPREEL_USER_DATA_DIR
      ? join(process.env.UPREEL_USER_DATA_DIR, 'state')
      : defaultStateDir(),
    core: realCore,
    ipcMain: electronIpcMain,
    senderPolicy: mainFramePolicy(() => appShell.window(), isAppUrl),
    sink: () => appShell.window()?.webContents ?? null,
    store,
    safeStorage,
    dialog: windowDialog,
    clipboard,
    shell,
    notifier: {
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show()
      },
    },
    powerSaveBlocker,
    powerMonitor,
    isOnline: () => net.isOnline(),
    cookies: ses.cookies,
    progressBar: () => appShell.window(),
    env: process.env,
    app: { version: app.getVersion(), platform: process.platform },
    log: consoleLogger,
  })

  const guard = new QuitGuard({
    dialog: windowDialog,
    activeCount: () => services?.activeCount() ?? 0,
    shutdown: async () => {
      await services?.close()
      services = null
    },
    quit: () => {
      quitting = true
      app.quit()
    },
    exit: () => {
      consoleLogger.warn('shutdown did not finish in time: exiting')
      app.exit(0)
    },
  })
  app.on('before-quit', (event) => {
    if (quitting) return
    if (!guard.request()) event.preventDefault()
  })

  const s = services
  Menu.setApplicationMenu(
    buildAppMenu({
      addFiles: () => void addViaDialog('files'),
      addFolder: () => void addViaDialog('folders'),
      show: (view) => {
        appShell.show()
        s.navigate(view)
      },
      openHelp: () => void openExternalSafely(shell, LIFECYCLE_DOCS),
      isDev: !app.isPackaged,
    }),
  )

  // The launch's own files wait with any opened before 'ready'; the window comes first.
  appShell.add(fileArgs(process.argv, process.cwd(), process.defaultApp === true), 'argv')
  appShell.start()
}

/** Menu "Add…": the window (the dialog is its sheet), the page's own picker, the same add path. */
async function addViaDialog(kind: 'files' | 'folders'): Promise<void> {
  appShell.show()
  const paths = await pickForAdd(windowDialog, kind)
  if (paths) appShell.add(paths, 'dialog')
}

// Our own file arguments travel as additionalData (Electron documents that the argv it passes to
// 'second-instance' may be reordered and carry Chromium's additions), as strings: see argv.ts
// for the Electron bugs an argv array runs into.
if (
  !app.requestSingleInstanceLock(
    encodeLaunch(process.argv, process.cwd(), process.defaultApp === true),
  )
) {
  // Another Upreel is running: it receives our arguments through 'second-instance'.
  app.quit()
} else {
  app.on('second-instance', (_event, argv, cwd, additionalData) => {
    // The window comes up even with no files (a second launch means "show me Upreel").
    appShell.add(decodeLaunch(additionalData, { argv, cwd }, process.defaultApp === true), 'argv')
  })
  // macOS "Open with Upreel" / dropping on the dock icon: one event per file (the services
  // gather those arriving together into one add).
  app.on('open-file', (event, path) => {
    event.preventDefault()
    appShell.add([path], 'argv')
  })
  app.on('window-all-closed', () => {
    // macOS keeps the app (and its uploads) running without a window, as Mac apps do.
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('activate', () => {
    if (!appShell.window()) appShell.show()
  })
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      consoleLogger.error('startup failed', e)
      dialog.showErrorBox('Upreel could not start', e instanceof Error ? e.message : String(e))
      app.exit(1)
    })
}
