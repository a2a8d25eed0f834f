import type { MediaInfo } from '../engine/types'

/**
 * Probe results as S3 user metadata (sent as x-amz-meta-duration, -width, -height, -codec; issue
 * #4). Values are plain ASCII strings because S3 metadata is an HTTP header; unknown fields are left
 * out rather than sent empty.
 */
export function mediaMetadata(info: MediaInfo): Record<string, string> {
  const meta: Record<string, string> = {}
  if (info.durationSec !== undefined) meta.duration = info.durationSec.toFixed(3)
  if (info.width !== undefined) meta.width = String(info.width)
  if (info.height !== undefined) meta.height = String(info.height)
  if (info.videoCodec) meta.codec = info.videoCodec
  return meta
}
