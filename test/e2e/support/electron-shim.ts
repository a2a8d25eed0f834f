/**
 * `electron` for the preload when the e2e harness runs it in Chromium instead of Electron. The
 * REAL src/preload/index.ts is bundled with this module standing in for Electron's renderer API:
 * - ipcRenderer.invoke crosses to the Node test process through Playwright's exposeFunction, where
 *   the REAL main-process IpcRouter (sender check + zod) and services answer;
 * - main's webContents.send arrives through window.__upreelEmit (page.evaluate);
 * - webUtils.getPathForFile behaves as Electron documents it (throws for anything that is not a
 *   File, '' for a File built in JS), except that a File the TEST registered as dropped from the
 *   disk gets its path: Chromium gives pages no paths, Electron does, only through webUtils. The
 *   registry (window.__upreelTestPaths) exists only in this shim, never in the real preload.
 * Limitation: without Electron there is no isolated world, so the API lands in the main world.
 */
type Listener = (event: unknown, payload: unknown) => void

interface HarnessWindow {
  __upreelInvoke(channel: string, args: unknown[]): Promise<unknown>
  __upreelEmit(channel: string, payload: unknown): void
  __upreelTestPaths: WeakMap<File, string>
}

const w = window as unknown as HarnessWindow
const listeners = new Map<string, Set<Listener>>()

w.__upreelEmit = (channel, payload) => {
  for (const l of listeners.get(channel) ?? []) l({ sender: null }, payload)
}
w.__upreelTestPaths = new WeakMap()

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    Object.defineProperty(window, key, { value: api, writable: false, configurable: false })
  },
}

export const ipcRenderer = {
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    return w.__upreelInvoke(channel, args)
  },
  on(channel: string, listener: Listener): void {
    let set = listeners.get(channel)
    if (!set) listeners.set(channel, (set = new Set()))
    set.add(listener)
  },
  removeListener(channel: string, listener: Listener): void {
    listeners.get(channel)?.delete(listener)
  },
}

export const webUtils = {
  getPathForFile(file: File): string {
    if (!(file instanceof File)) throw new TypeError('Expected a File')
    return w.__upreelTestPaths.get(file) ?? ''
  },
}
