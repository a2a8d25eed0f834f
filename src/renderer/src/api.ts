// Types only: importing values from the contract would pull zod into the page bundle.
import type { UpreelApi } from '../../preload/contract'

declare global {
  interface Window {
    /** Exposed by the preload under the contract's API_KEY ('upreel'; a unit test pins it). */
    upreel: UpreelApi
  }
}

/** The preload's intent-level API: the page's only way to reach main. */
export const api: UpreelApi = window.upreel

/** Error text from main (it throws plain words; Electron prefixes the channel). */
export function errorMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e)
  return raw.replace(/^Error invoking remote method '[^']+': (Error: )?/, '')
}
