/**
 * `electron` for the preload when the e2e harness runs it in Chromium instead of Electron. The
 * REAL src/preload/index.ts is bundled with this module standing in for Electron's renderer API:
 * - ipcRenderer.invoke crosses to the Node test process through Playwright's exposeFunction, where
 *   the REAL main-process IpcRouter (sender check + zod) and services answer;
 * - main's webContents.send arrives through window.__upreelEmit (page.evaluate);
 * - webUtils.getPathForFile looks the File up in a map the test fills when it builds a drop
 *   (Chromium gives pages no file paths; Electron does, only through webUtils).
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
    const path = w.__upreelTestPaths.get(file)
    if (path === undefined) throw new Error('not a file from the disk')
    return path
  },
}
