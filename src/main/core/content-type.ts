import { extname } from 'node:path'

const TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  mov: 'video/quicktime',
  qt: 'video/quicktime',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  mxf: 'application/mxf',
  mts: 'video/mp2t',
  m2ts: 'video/mp2t',
  ts: 'video/mp2t',
  wmv: 'video/x-ms-wmv',
  flv: 'video/x-flv',
  '3gp': 'video/3gpp',
  '3g2': 'video/3gpp2',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  ogv: 'video/ogg',
  m2t: 'video/mp2t',
  m2v: 'video/mpeg',
  vob: 'video/mpeg',
  asf: 'video/x-ms-asf',
  f4v: 'video/mp4',
  dv: 'video/x-dv',
  mj2: 'video/mj2',
  // Insta360 and GoPro write MP4 under their own extensions.
  insv: 'video/mp4',
  lrv: 'video/mp4',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  srt: 'application/x-subrip',
  vtt: 'text/vtt',
  m4a: 'audio/mp4',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  json: 'application/json',
  txt: 'text/plain',
}

/** Containers ffmpeg names that are no file extension of the table above. */
const CONTAINER_TYPES: Record<string, string> = {
  mpegts: 'video/mp2t',
  mpeg: 'video/mpeg',
  matroska: 'video/x-matroska',
}

/**
 * Content-Type from the file extension; for a file the probe found to be a video under an
 * extension the table does not know (`clip.video`, `capture`), from its container; S3's default
 * for anything else.
 */
export function contentTypeFor(path: string, container?: string): string {
  const byExt = TYPES[extname(path).slice(1).toLowerCase()]
  if (byExt) return byExt
  const c = container?.toLowerCase()
  return (c && (CONTAINER_TYPES[c] ?? TYPES[c])) || 'application/octet-stream'
}

/**
 * S3 metadata values travel as HTTP headers, which must be ASCII. Non-ASCII values are stored
 * RFC 2047-encoded (`=?UTF-8?B?…?=`), the form S3 itself returns for such values.
 */
export function encodeMetadataValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`
}

export function decodeMetadataValue(value: string): string {
  const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i.exec(value)
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value
}
