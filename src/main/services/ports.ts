/**
 * The Electron pieces the services use, as narrow interfaces. index.ts passes the real modules
 * (they satisfy these structurally); unit tests and the e2e harness pass Node doubles for the
 * native bits only (dialogs, safeStorage, notifications, power), so the services themselves are
 * the real code everywhere.
 */

export interface OpenDialogLike {
  showOpenDialog(options: {
    title?: string
    properties: ('openFile' | 'openDirectory' | 'multiSelections' | 'createDirectory')[]
    filters?: { name: string; extensions: string[] }[]
  }): Promise<{ canceled: boolean; filePaths: string[] }>
  showMessageBox(options: {
    type?: 'none' | 'info' | 'error' | 'question' | 'warning'
    title?: string
    message: string
    detail?: string
    buttons: string[]
    defaultId?: number
    cancelId?: number
  }): Promise<{ response: number }>
}

/** Electron's safeStorage. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plainText: string): Buffer
  decryptString(encrypted: Buffer): string
  /** Linux only: 'basic_text' means no keyring (obfuscation, not encryption). */
  getSelectedStorageBackend?(): string
}

/** electron-store (a Conf): a JSON document on disk. */
export interface KeyValueStore {
  get(key: string): unknown
  set(key: string, value: unknown): void
  delete(key: string): void
}

export interface ClipboardLike {
  writeText(text: string): void
}

export interface ShellLike {
  openExternal(url: string): Promise<void>
  showItemInFolder(path: string): void
}

export interface NotifierLike {
  /** Shows a system notification (Electron's Notification), when supported. */
  notify(title: string, body: string): void
}

export interface PowerSaveBlockerLike {
  start(type: 'prevent-app-suspension' | 'prevent-display-sleep'): number
  stop(id: number): void
  isStarted(id: number): boolean
}

export interface PowerMonitorLike {
  on(event: 'suspend' | 'resume' | 'lock-screen' | 'unlock-screen', listener: () => void): unknown
  off(event: 'suspend' | 'resume' | 'lock-screen' | 'unlock-screen', listener: () => void): unknown
}

/** Taskbar/dock progress (BrowserWindow.setProgressBar). */
export interface ProgressBarLike {
  setProgressBar(
    progress: number,
    options?: { mode: 'none' | 'normal' | 'indeterminate' | 'error' | 'paused' },
  ): void
}

/** Electron's session.cookies (the app session's cookie jar), read-only. */
export interface SessionCookiesLike {
  get(filter: { url: string }): Promise<{ name: string; value: string }[]>
}

/**
 * The session's cookies for `url` as a Cookie header, asked per request (cookies change: a
 * platform's sign-in may refresh them). The jar decides which cookies belong to the URL, as a
 * browser would; a failing jar adds nothing rather than failing the upload.
 */
export function cookieHeaders(
  cookies: SessionCookiesLike,
): (url: string) => Promise<Record<string, string>> {
  return async (url): Promise<Record<string, string>> => {
    try {
      const list = await cookies.get({ url })
      if (list.length === 0) return {}
      return { Cookie: list.map((c) => `${c.name}=${c.value}`).join('; ') }
    } catch {
      return {}
    }
  }
}

/**
 * The sign-in headers of a request with the session's added. A `Cookie` typed as an extra header
 * and the session's cookies for the URL both go, in one `Cookie` header (typed first: a server
 * that sees a name twice usually takes the first); nothing else the session adds replaces a typed
 * header. Names are compared case-insensitively, as HTTP does.
 */
export function withSessionHeaders(
  fixed: Record<string, string> | undefined,
  session: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = { ...fixed }
  for (const [name, value] of Object.entries(session)) {
    const same = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase())
    if (same === undefined) out[name] = value
    else if (name.toLowerCase() === 'cookie' && value) {
      out[same] = out[same] ? `${out[same]}; ${value}` : value
    }
  }
  return out
}

export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string, error?: unknown): void
}

export const consoleLogger: Logger = {
  info: (m) => console.log(`[upreel] ${m}`),
  warn: (m) => console.warn(`[upreel] ${m}`),
  error: (m, e) => console.error(`[upreel] ${m}`, e ?? ''),
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} }
