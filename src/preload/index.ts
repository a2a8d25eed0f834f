/**
 * Turns the contract into the page's API (window.upreel): one function per intent and one
 * subscription per event. The page never gets ipcRenderer, a channel name it chooses, or anything
 * that reads a path: it asks main to do things, and main checks every request again.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { API_KEY, events, invoke, type UpreelApi } from './contract'

function buildApi(): UpreelApi {
  const api: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(invoke)) {
    // Exactly one argument crosses, whatever the page passes: main's schema parses it.
    api[name] = (request?: unknown) => ipcRenderer.invoke(def.channel, request)
  }
  for (const [name, channel] of Object.entries(events)) {
    api[name] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError(`${name} needs a function`)
      // The IpcRendererEvent (with its sender) stays here; the page gets the payload only.
      const wrapped = (_event: unknown, payload: unknown) => listener(payload)
      ipcRenderer.on(channel, wrapped)
      return () => {
        ipcRenderer.removeListener(channel, wrapped)
      }
    }
  }
  api.pathForFile = (file: File) => {
    try {
      return webUtils.getPathForFile(file)
    } catch {
      return ''
    }
  }
  return Object.freeze(api) as UpreelApi
}

contextBridge.exposeInMainWorld(API_KEY, buildApi())
