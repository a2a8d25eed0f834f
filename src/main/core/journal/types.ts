import type { MediaInfo, UploadSnapshot } from '../engine/types'

export interface JournalPart {
  /** Part number, 1-based. */
  n: number
  /** Unquoted ETag the server returned. */
  etag: string
  /** Hex MD5 of the part's bytes as read locally. */
  md5: string
  size: number
}

export interface ObjectOptions {
  acl?: 'private' | 'public-read'
  sse?: 'AES256' | 'aws:kms'
  kmsKeyId?: string
  storageClass?: string
}

/**
 * How to reach an upload's destination again (`upreel resume` with no destination flags): the
 * connection settings only. Never credentials, tokens or header values: those come from the
 * environment (AWS chain, UPREEL_BACKEND_TOKEN) or flags of the process that resumes.
 */
export type DestinationConnection =
  | { mode: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle?: boolean }
  | { mode: 'backend'; url: string; hookUrl?: string }

/** Everything needed to resume an upload in another process, after a crash or a reboot. */
export interface JournalRecord {
  v: 1
  id: string
  source: {
    path: string
    size: number
    mtimeMs: number
    /** sha256 of size + first MiB + last MiB (util/fingerprint.ts). */
    fingerprint: string
  }
  relativeDir: string
  /** `connection` is absent in records written before it was journaled. */
  destination: { id: string; label: string; connection?: DestinationConnection }
  bucket: string
  /** The key as created (a backend may have chosen it). */
  key: string
  /** Absent for a single-request upload (nothing to resume on the server). */
  uploadId?: string
  partSize: number
  partCount: number
  contentType: string
  metadata: Record<string, string>
  options: ObjectOptions
  media?: MediaInfo
  /**
   * Why the last run stopped: 'active' means the process died while driving it. 'cancelled': the
   * creator cancelled it and its upload on the server is still to be aborted (the network was
   * down, the app quit): whichever engine of this destination starts next does that, then
   * forgets the record. Never resumed.
   */
  status: 'active' | 'paused' | 'failed' | 'cancelled'
  error?: { code: string; message: string }
  parts: JournalPart[]
  createdAt: number
  updatedAt: number
}

export interface HistoryRecord {
  id: string
  path: string
  size: number
  fingerprint: string
  destinationId: string
  destinationLabel: string
  bucket: string
  key: string
  etag?: string
  location?: string
  thumbnailKey?: string
  completedAt: number
}

/**
 * A processing hook owed for a completed upload: written before the upload's record is removed,
 * removed once the hook has run, so a crash in between leaves it for the next start.
 */
export interface PendingHook {
  v: 1
  /** The upload's id (its record is gone by now). */
  id: string
  /** Replayed only by an engine for this destination (its hook configuration). */
  destinationId: string
  /** How to reach that destination again (`upreel resume` with no flags); never credentials. */
  connection?: DestinationConnection
  /** What the hook is given, as it was when the upload completed. */
  snapshot: UploadSnapshot
  savedAt: number
}
