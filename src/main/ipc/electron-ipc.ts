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
