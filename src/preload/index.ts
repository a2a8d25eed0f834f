/**
 * Turns the contract into the page's API (window.upreel): one function per intent and one
 * subscription per event. The page never gets ipcRenderer, a channel name it chooses, or anything
 * that reads a path: it asks main to do things, and main checks every request again.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { API_KEY, events, invoke, type AddResult, type UpreelApi } from './contract'

const NOT_FROM_DISK = 'Not a file on this computer.'

/**
 * A drop's File objects → their paths, asked of Electron here so that the page never handles a
 * path. webUtils throws for anything that is not a File and gives '' for a File the page built
 * itself (not backed by the disk): both are refused without reaching main.
 */
function dropped(files: unknown): { paths: string[]; refused: AddResult['refused'] } {
  if (!Array.isArray(files)) throw new TypeError('addDropped takes the File objects of a drop')
  const paths: string[] = []
  const refused: AddResult['refused'] = []
  for (const file of files) {
    let path: string
    try {
      path = webUtils.getPathForFile(file as File)
    } catch {
      path = ''
    }
    if (path) paths.push(path)
    else refused.push({ name: file instanceof File ? file.name : 'An item', reason: NOT_FROM_DISK })
  }
  return { paths, refused }
}

function buildApi(): UpreelApi {
  const api: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(invoke)) {
    // Exactly one argument crosses, whatever the page passes: main's schema parses it.
    api[name] = (request?: unknown) => ipcRenderer.invoke(def.channel, request)
  }
  api.addDropped = async (files: unknown): Promise<AddResult> => {
    const { paths, refused } = dropped(files)
    if (paths.length === 0) return { added: 0, skipped: [], skippedCount: 0, refused }
    const result = (await ipcRenderer.invoke(invoke.addDropped.channel, { paths })) as AddResult
    return refused.length ? { ...result, refused: [...result.refused, ...refused] } : result
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
  return Object.freeze(api) as UpreelApi
}

contextBridge.exposeInMainWorld(API_KEY, buildApi())
