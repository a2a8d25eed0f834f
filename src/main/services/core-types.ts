/** Engine types the services use (re-exported so services import them from one place). */
export type { CleanupReport, EngineApi, HistoryEntry, InterruptedUpload } from '../core/engine/api'
export type { AddFileInput, UploadSnapshot } from '../core/engine/types'
export type { TestConnectionResult } from '../../preload/contract'

/** 1 MiB in bytes. */
export const MiB = 1024 * 1024

/** Mbit/s (what creators read on their plan) → bytes/s for the engine's pacer; 0 stays 0. */
export function mbpsToBytesPerSecond(mbps: number): number {
  return Math.round((mbps * 1_000_000) / 8)
}
