/**
 * The engine's public vocabulary: what a caller (the desktop app's services, the CLI, tests) sees.
 * Everything here is plain data so it can cross IPC as is.
 */

/**
 * queued → preparing → uploading ⇄ paused / retrying → completing → done | failed | cancelled.
 * `paused` and `failed` can go back to `queued` (resume, retry); `done` and `cancelled` are final.
 */
export type UploadState =
  | 'queued'
  | 'preparing'
  | 'uploading'
  | 'retrying'
  | 'paused'
  | 'completing'
  | 'done'
  | 'failed'
  | 'cancelled'

export const FINAL_STATES: readonly UploadState[] = ['done', 'cancelled']

/** A failure as a creator reads it, plus what an engineer needs to dig in. */
export interface UploadErrorInfo {
  /** Stable machine code: 'AccessDenied', 'NoSuchBucket', 'SourceChanged', 'FileEmpty', … */
  code: string
  /** One or two plain sentences for the creator: what happened and what to do. */
  message: string
  /** Technical detail (operation, part, HTTP status, request id); shown on demand. */
  detail?: string
}

export interface MediaInfo {
  durationSec?: number
  width?: number
  height?: number
  videoCodec?: string
  audioCodec?: string
  fps?: number
  bitrate?: number
  container?: string
}

export interface UploadSnapshot {
  /** Stable id of this upload (also the journal record's id). */
  id: string
  path: string
  /** File name for display. */
  name: string
  /** Folder of the file relative to the dropped folder ('' for a file dropped alone). */
  relativeDir: string
  size: number
  bytesSent: number
  state: UploadState
  /** Smoothed bytes per second while moving, 0 otherwise. */
  speed: number
  /** Seconds left at the smoothed speed, null when unknown. */
  etaSeconds: number | null
  partSize: number
  partsTotal: number
  partsDone: number
  bucket?: string
  key?: string
  etag?: string
  location?: string
  /** Why the upload restarted from zero, or other notices worth showing (not errors). */
  notice?: string
  error?: UploadErrorInfo
  /** Attempts of the request currently being retried (shown as "retrying (3)…"). */
  retryAttempt?: number
  media?: MediaInfo
  /** Local file path of the poster JPEG once made. */
  thumbnailPath?: string
  thumbnailKey?: string
  /** True when this upload continued an earlier session's journal record. */
  resumed: boolean
  createdAt: number
  updatedAt: number
  completedAt?: number
}

/** A file handed to the engine. */
export interface AddFileInput {
  path: string
  /** Folder relative to a dropped folder root, '' when the file was dropped alone. */
  relativeDir?: string
  /** Extra metadata (x-amz-meta-*), e.g. probe results. */
  metadata?: Record<string, string>
}

export interface EngineEvents {
  /** Any snapshot changed (state, progress, error). Fired often: consumers throttle. */
  changed: [snapshot: UploadSnapshot]
  completed: [snapshot: UploadSnapshot]
  failed: [snapshot: UploadSnapshot]
  cancelled: [snapshot: UploadSnapshot]
  removed: [id: string]
  /** Every upload is done, failed, paused or cancelled. */
  idle: []
}
