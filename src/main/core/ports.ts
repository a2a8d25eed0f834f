/**
 * The engine's ports. The engine depends only on these interfaces; Node, Electron and tests inject
 * implementations (tus-js-client's options/node split). Nothing here may import Electron.
 */

import type { DestinationConnection, ObjectOptions } from './journal/types'

/** The ObjectStore addresses an upload by the key the store created it under and its uploadId. */
export interface MultipartTarget {
  key: string
  uploadId: string
}

export interface CreateMultipartInput {
  /** The key the engine would like (from the key template). A backend may choose another. */
  key: string
  filename: string
  contentType: string
  metadata: Record<string, string>
  size: number
  /** ACL, encryption, storage class (direct S3; a backend decides these itself). */
  options?: ObjectOptions
}

export interface CreatedMultipart {
  /** Authoritative key: a backend may return a different one from what was asked. */
  key: string
  uploadId: string
  bucket: string
}

/** One part as the server lists it. `etag` is unquoted lower-case hex where it is an MD5. */
export interface RemotePart {
  partNumber: number
  etag: string
  size: number
}

/** A request the engine sends itself: the URL and any headers the signature needs. */
export interface SignedPartRequest {
  url: string
  headers?: Record<string, string>
  /** Epoch ms after which the URL must not be used (re-sign instead). */
  expiresAt?: number
}

export interface CompletedObject {
  key: string
  bucket: string
  /** Unquoted ETag of the whole object when the store reports it. */
  etag?: string
  location?: string
  /** The encryption the storage says it applied ('aws:kms', 'SSE-C', …): see put-part.ts. */
  encryption?: string
}

export interface PutSmallInput {
  key: string
  filename: string
  contentType: string
  metadata: Record<string, string>
  path: string
  size: number
  /** Base64 MD5 of the whole body (sent as Content-MD5). */
  md5Base64: string
  onProgress: (bytesSent: number) => void
  signal: AbortSignal
  options?: ObjectOptions
}

export interface ListedUpload {
  key: string
  uploadId: string
  initiated?: Date
}

/** Where uploads go: direct S3 (SigV4 with the user's credentials) or a signing backend. */
export interface ObjectStore {
  /** Stable identity of the destination, journaled so a record resumes only against it. */
  readonly destinationId: string
  /** Human-readable destination ("s3://bucket" or the backend URL). */
  readonly label: string
  /** Journaled with each upload so another process can reach it again (no secrets). */
  readonly connection?: DestinationConnection
  /** Content-MD5 is checked by the server on every PUT part this store signs. */
  createMultipart(input: CreateMultipartInput, signal?: AbortSignal): Promise<CreatedMultipart>
  /** Signs one part PUT at send time. */
  signPart(
    target: MultipartTarget,
    partNumber: number,
    signal?: AbortSignal,
  ): Promise<SignedPartRequest>
  /** Every part on the server (all pages). Throws an UploadError with code 'NoSuchUpload'. */
  listParts(target: MultipartTarget, signal?: AbortSignal): Promise<RemotePart[]>
  complete(
    target: MultipartTarget,
    parts: { partNumber: number; etag: string }[],
    signal?: AbortSignal,
  ): Promise<CompletedObject>
  /** Aborting an upload that no longer exists resolves (the goal, nothing left, is met). */
  abort(target: MultipartTarget, signal?: AbortSignal): Promise<void>
  /** One request for files of one part or less. */
  putSmall(input: PutSmallInput): Promise<CompletedObject>
  /** Uploads in progress on the server under a prefix (orphan cleanup). Optional: backends can't. */
  listMultipartUploads?(prefix: string, signal?: AbortSignal): Promise<ListedUpload[]>
  /** The object as stored, to confirm a Complete whose answer was lost. Optional. */
  headObject?(
    key: string,
    signal?: AbortSignal,
  ): Promise<{ etag?: string; size?: number } | undefined>
  /** Called when the engine is closed. */
  destroy?(): void
  /**
   * Files of one part go up as one-part multipart uploads through the engine's part path
   * (journaled, each request retried on its own) instead of putSmall. For stores whose putSmall
   * is a multipart upload anyway (backend mode): then a crash or a flaky request in its middle
   * cannot leave behind an upload that no journal knows.
   */
  readonly multipartOnly?: boolean
}

export interface FileStat {
  size: number
  mtimeMs: number
  isFile: boolean
}

export interface OpenFile {
  /** Positional read; returns the number of bytes read (0 at end of file). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>
  close(): Promise<void>
}

export interface FileSource {
  stat(path: string): Promise<FileStat>
  open(path: string): Promise<OpenFile>
}

export interface Clock {
  now(): number
  /** Resolves after ms, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * Video probe and poster (src/main/core/media). The engine calls probe before creating the upload
 * (its results go into the object's metadata) and makes the thumbnail beside the transfer, never
 * delaying the first part.
 */
export interface MediaPort {
  /** Throws an UploadError with a specific code ('NotVideo', 'Unreadable', 'Truncated', …). */
  probe(path: string, signal?: AbortSignal): Promise<import('./engine/types').MediaInfo>
  /** Makes the poster JPEG and returns its local path (cached by file fingerprint). */
  thumbnail(
    path: string,
    info: import('./engine/types').MediaInfo,
    signal?: AbortSignal,
  ): Promise<string>
}
