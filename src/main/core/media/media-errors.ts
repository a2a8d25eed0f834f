/**
 * The media module's failures, in plain words for creators. Codes are stable (the engine, the CLI's
 * JSON and the UI key on them); the ffmpeg text goes to `cause`, shown only as detail.
 */
import { UploadError } from '../errors'
import type { NotVideoReason } from './parse'

export const MediaErrorCode = {
  FileNotFound: 'FileNotFound',
  NotAFile: 'NotAFile',
  FileEmpty: 'FileEmpty',
  /** No permission, an I/O error, or a container ffmpeg recognises but cannot read (damaged). */
  Unreadable: 'Unreadable',
  NotVideo: 'NotVideo',
  Truncated: 'Truncated',
  MediaToolMissing: 'MediaToolMissing',
  /** The ffmpeg found is older than Upreel supports (see ./ffmpeg-version.ts). */
  MediaToolTooOld: 'MediaToolTooOld',
  MediaTimeout: 'MediaTimeout',
  ThumbnailFailed: 'ThumbnailFailed',
} as const

export type MediaOperation = 'probe' | 'thumbnail'

export function fileNotFound(operation: MediaOperation, cause?: unknown): UploadError {
  return new UploadError({
    code: MediaErrorCode.FileNotFound,
    message: 'This file is no longer there. It may have been moved, renamed or deleted.',
    operation,
    cause,
  })
}

export function notAFile(operation: MediaOperation): UploadError {
  return new UploadError({
    code: MediaErrorCode.NotAFile,
    message: 'This is a folder or a device, not a video file.',
    operation,
  })
}

export function fileEmpty(operation: MediaOperation): UploadError {
  return new UploadError({
    code: MediaErrorCode.FileEmpty,
    message: 'This file is empty (0 bytes), so there is no video in it.',
    operation,
  })
}

export function unreadable(
  operation: MediaOperation,
  why: 'permission' | 'damaged' | 'io',
  cause?: unknown,
): UploadError {
  const message = {
    permission: 'Upreel is not allowed to read this file. Check its permissions, then try again.',
    damaged:
      'This video file is damaged: it looks like a video, but it could not be read. Try exporting ' +
      'or copying it again from the original.',
    io: 'Upreel could not read this file from the disk. If it is on an external drive or a network share, check that it is still connected.',
  }[why]
  return new UploadError({ code: MediaErrorCode.Unreadable, message, operation, cause })
}

export function notVideo(reason: NotVideoReason | 'unknown-format', cause?: unknown): UploadError {
  const message = {
    image: 'This file is a picture, not a video.',
    'audio-only': 'This file has sound but no picture: it is audio, not a video.',
    'no-video': 'This file has no video in it.',
    'unknown-format': 'This file is not a video, or not in a video format Upreel can read.',
  }[reason]
  return new UploadError({ code: MediaErrorCode.NotVideo, message, operation: 'probe', cause })
}

export function truncated(cause?: unknown): UploadError {
  return new UploadError({
    code: MediaErrorCode.Truncated,
    message:
      'This video file is incomplete: it stops before the end of its data, as if a copy, download ' +
      'or recording was cut short. Copy it again from the original.',
    operation: 'probe',
    cause,
  })
}

export function toolMissing(
  operation: MediaOperation,
  binary: string,
  cause?: unknown,
): UploadError {
  return new UploadError({
    code: MediaErrorCode.MediaToolMissing,
    message:
      `Upreel could not start ${binary}, which it needs to read videos and make thumbnails. ` +
      'Install ffmpeg or set FFMPEG_PATH to its full path.',
    operation,
    cause,
  })
}

export function toolTooOld(
  binary: string,
  version: string,
  min: { major: number; minor: number },
): UploadError {
  return new UploadError({
    code: MediaErrorCode.MediaToolTooOld,
    message:
      `The ffmpeg Upreel found (${binary}, version ${version}) is too old to make thumbnails: ` +
      `Upreel needs ffmpeg ${min.major}.${min.minor} or newer. Install a newer ffmpeg, or set ` +
      'FFMPEG_PATH to one.',
    operation: 'thumbnail',
  })
}

export function timedOut(
  operation: MediaOperation,
  timeoutMs: number,
  cause?: unknown,
): UploadError {
  const what = operation === 'probe' ? 'Reading this video' : 'Making the thumbnail'
  return new UploadError({
    code: MediaErrorCode.MediaTimeout,
    message: `${what} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped.`,
    retryable: true,
    operation,
    cause,
  })
}

export function thumbnailFailed(cause?: unknown): UploadError {
  return new UploadError({
    code: MediaErrorCode.ThumbnailFailed,
    message: 'Upreel could not make a thumbnail picture from this video.',
    operation: 'thumbnail',
    cause,
  })
}
