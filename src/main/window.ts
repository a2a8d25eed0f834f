/**
 * The one BrowserWindow factory. Secure defaults (Electron's security checklist): sandboxed,
 * isolated preload, no Node in the page, no <webview>, no new windows, no navigation away from our
 * page; links open in the browser only when https (./external.ts).
 */
import { BrowserWindow, shell, type WebContents } from 'electron'
import { openExternalSafely } from './external'

export interface WindowOptions {
  /** URL of the page: upreel://app/index.html, or the dev server in development. */
  url: string
  /** Our page's URLs (navigation to anything else is blocked). */
  isAppUrl(url: string): boolean
  preloadPath: string
  /** The system shows dark colours (nativeTheme.shouldUseDarkColors): the page will be dark. */
  dark: boolean
}

/** The page's --bg in light and dark (src/renderer/src/styles.css): no flash before it paints. */
export const WINDOW_BACKGROUND = { light: '#f6f7f9', dark: '#111318' } as const

const hardened = new WeakSet<WebContents>()

/**
 * Applies to every WebContents the app creates (index.ts calls it from 'web-contents-created', and
 * the window factory for its own). Once per WebContents: a second set of listeners would open a
 * blocked link in the browser twice.
 */
export function hardenWebContents(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  if (hardened.has(contents)) return
  hardened.add(contents)
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalSafely(shell, url)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event, url) => {
    // Reloads of our own page are fine; anything else (a dropped file, a link) stays out.
    if (!isAppUrl(url)) {
      event.preventDefault()
      void openExternalSafely(shell, url)
    }
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1180,
    height: 760,
    minWidth: 760,
    minHeight: 480,
    show: false,
    title: 'Upreel',
    // The page's own background for the system's theme, so there is no white (or black) flash.
    // An opaque window: a transparent colour here would show the desktop through it on Linux.
    backgroundColor: opts.dark ? WINDOW_BACKGROUND.dark : WINDOW_BACKGROUND.light,
    webPreferences: {
      preload: opts.preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  })
  hardenWebContents(win.webContents, opts.isAppUrl)
  win.once('ready-to-show', () => win.show())
  void win.loadURL(opts.url)
  return win
}
