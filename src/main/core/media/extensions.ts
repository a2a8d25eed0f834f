import { extname } from 'node:path'

/**
 * Extensions of video files creators bring (cameras, phones, editors, screen recorders, broadcast).
 * A hint for file pickers and folder scans only: whether a file IS a video is decided by probing it.
 */
export const VIDEO_EXTENSIONS: readonly string[] = [
  '.mp4',
  '.m4v',
  '.mov',
  '.qt',
  '.mkv',
  '.webm',
  '.avi',
  '.mxf',
  '.mts',
  '.m2ts',
  '.ts',
  '.m2t',
  '.mpg',
  '.mpeg',
  '.m2v',
  '.vob',
  '.wmv',
  '.asf',
  '.flv',
  '.f4v',
  '.3gp',
  '.3g2',
  '.ogv',
  '.dv',
  '.mj2',
  '.insv',
  '.lrv',
]

const SET = new Set(VIDEO_EXTENSIONS)

/** True when the file name ends in a known video extension (case-insensitive). */
export function isVideoExtension(path: string): boolean {
  return SET.has(extname(path).toLowerCase())
}
