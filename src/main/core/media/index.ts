/** Video probe and posters with ffmpeg, in plain Node (no Electron). See README "Video probe and thumbnails". */
export { VIDEO_EXTENSIONS, isVideoExtension } from './extensions'
export {
  asarUnpacked,
  defaultMediaTools,
  resolveMediaTools,
  type MediaTools,
  type ResolveDeps,
} from './ffmpeg-path'
export { createMediaPort, type LocalMediaPort, type MediaPortOptions } from './media-port'
export { MediaErrorCode } from './media-errors'
export { mediaMetadata } from './metadata'
export { probe, PROBE_TIMEOUT_MS, type ProbeOptions } from './probe'
export { runProcess, type RunOptions, type RunResult } from './run-process'
export {
  DEFAULT_MAX_LONG_SIDE,
  posterOffsets,
  thumbnail,
  THUMBNAIL_TIMEOUT_MS,
  type ThumbnailOptions,
  type ThumbnailResult,
} from './thumbnail'
