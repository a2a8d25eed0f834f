/**
 * The engine's public surface, as the desktop app's services and the CLI use it.
 * Implemented by `UploadEngine` in ./upload-engine.ts.
 */
import type { HistoryRecord } from '../journal/types'
import type { AddFileInput, EngineEvents, UploadSnapshot } from './types'

/** An upload recorded in the journal by an earlier session that is not in the queue now. */
export interface InterruptedUpload {
  id: string
  path: string
  name: string
  size: number
  bytesDone: number
  key: string
  bucket: string
  destinationLabel: string
  updatedAt: number
  /** Held by another live Upreel process (the CLI or a second app): it cannot be resumed here. */
  lockedBy?: number
}

/** A finished upload (kept in the state dir's history for the app and duplicate detection). */
export interface HistoryEntry extends HistoryRecord {
  /** File name for display. */
  name: string
}

export interface CleanupReport {
  /** Journal records older than the threshold that were removed (their uploads aborted). */
  journalRecords: { id: string; path: string; key: string; aborted: boolean }[]
  /** Multipart uploads found on the server under the prefix and aborted (with `server`). */
  serverUploads: { key: string; uploadId: string; aborted: boolean; error?: string }[]
  /**
   * Records old enough but kept, and why: their upload lives at another destination, or could
   * not be aborted (each is the only pointer to what is left on the server).
   */
  kept: { id: string; path: string; key: string; reason: string }[]
  /** Why the server was not listed although `server` was asked for (no safe prefix). */
  serverSkipped?: string
}

export interface EngineApi {
  /** Queue files. Bad inputs (0-byte, unreadable…) come back as `failed` snapshots; the rest go on. */
  add(files: AddFileInput[]): Promise<UploadSnapshot[]>
  list(): UploadSnapshot[]
  get(id: string): UploadSnapshot | undefined
  pause(id: string): Promise<void>
  resume(id: string): void
  /** Aborts the multipart upload on the server and forgets the record. */
  cancel(id: string): Promise<void>
  retry(id: string): void
  /** Removes a finished, failed or cancelled row; an active one is cancelled first. */
  remove(id: string): Promise<void>
  /** New queue order (ids first in the list start first). Unknown ids are ignored. */
  reorder(ids: string[]): void
  pauseAll(): Promise<void>
  resumeAll(): void
  /** Uploads left by an earlier session (crash, quit, CLI) in the same state dir. */
  interrupted(): Promise<InterruptedUpload[]>
  /** Queue interrupted uploads again (all when ids is omitted); they continue from the journal. */
  resumeInterrupted(ids?: string[]): Promise<UploadSnapshot[]>
  /** Aborts an interrupted upload on the server and forgets its record. */
  abortInterrupted(id: string): Promise<void>
  history(): Promise<HistoryEntry[]>
  /** Completed uploads of the same file content to the same destination. */
  findDuplicates(path: string): Promise<HistoryEntry[]>
  cleanup(opts: { olderThanMs: number; server?: boolean; prefix?: string }): Promise<CleanupReport>
  /** The network is back (or the machine woke): parts waiting out a retry delay go now. */
  retryNow(): void
  setConcurrency(slots: number): void
  /** Bytes per second for all transfers together; 0 = unlimited. */
  setBandwidthLimit(bytesPerSecond: number): void
  on<E extends keyof EngineEvents>(event: E, listener: (...args: EngineEvents[E]) => void): this
  off<E extends keyof EngineEvents>(event: E, listener: (...args: EngineEvents[E]) => void): this
  /** Resolves when nothing is queued, preparing or transferring. */
  whenIdle(): Promise<void>
  /** Pauses everything, flushes the journal, releases locks. The engine is unusable after. */
  close(): Promise<void>
}
