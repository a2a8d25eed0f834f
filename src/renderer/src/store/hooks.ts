import { useSyncExternalStore } from 'react'
import type { UploadRow } from '../../../preload/contract'
import { AppStore, type AppState } from './app-store'
import { UploadsStore, type UploadsState } from './uploads-store'

export const uploadsStore = new UploadsStore()
export const appStore = new AppStore()

export function useUploads(): UploadsState {
  return useSyncExternalStore(uploadsStore.subscribe, uploadsStore.getSnapshot)
}

/** The row object for one id: a row component re-renders only when its own row changes. */
export function useRow(id: string): UploadRow | undefined {
  return useSyncExternalStore(uploadsStore.subscribe, () => uploadsStore.getSnapshot().rows.get(id))
}

/** Queue order only: the list re-renders when rows are added, removed or reordered. */
export function useIds(): readonly string[] {
  return useSyncExternalStore(uploadsStore.subscribe, () => uploadsStore.getSnapshot().ids)
}

export function useTotals(): UploadsState['totals'] {
  return useSyncExternalStore(uploadsStore.subscribe, () => uploadsStore.getSnapshot().totals)
}

export function useApp(): AppState {
  return useSyncExternalStore(appStore.subscribe, appStore.getSnapshot)
}
