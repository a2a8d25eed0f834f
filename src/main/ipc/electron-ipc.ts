/**
 * The one file that touches Electron's ipcMain. Everything else registers through IpcRouter
 * (./handle.ts) with the contract's schemas and the main-frame sender policy.
 */
import { ipcMain } from 'electron'
import type { IpcMainLike, InvokeEventLike } from './handle'

export const electronIpcMain: IpcMainLike = {
  handle: (channel, listener) =>
    ipcMain.handle(channel, (event, ...args) =>
      listener(event as unknown as InvokeEventLike, ...args),
    ),
  removeHandler: (channel) => ipcMain.removeHandler(channel),
}

/**
 * electron-store registers a synchronous ipcMain listener of its own when a store is created in
 * main ('electron-store-get-data': it answers any renderer with the userData path and the app
 * version, for stores created in a renderer). Upreel has none, and its page cannot send on a raw
 * channel anyway; the listener is removed so that nothing answers outside IpcRouter.
 */
export const ELECTRON_STORE_CHANNEL = 'electron-store-get-data'

export function removeElectronStoreListener(): void {
  ipcMain.removeAllListeners(ELECTRON_STORE_CHANNEL)
}
