/**
 * Where the reference backend puts objects: keys from a template under a per-user prefix, with
 * filenames reduced to characters that are safe in every S3 tool, URL and file system.
 */

/** Default key layout: one folder per upload, so a thumbnail can sit beside its video. */
export const DEFAULT_KEY_TEMPLATE = 'users/{userId}/{uuid}/{filename}'

const PLACEHOLDERS = new Set(['userId', 'uuid', 'filename', 'yyyy', 'mm', 'dd'])

/** Longest sanitised filename in UTF-8 bytes (S3 keys may be 1024 bytes; the prefix needs room). */
export const MAX_FILENAME_BYTES = 200

/** Longest extension kept intact when a long name is shortened ('.mp4', '.webm', '.jpeg'). */
const MAX_EXTENSION_CHARS = 12

/** What `{uuid}` renders to (crypto.randomUUID). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Name used for the poster JPEG beside a video (backend mode). */
export const THUMBNAIL_NAME = 'thumbnail.jpg'

/**
 * Where the parts of a valid template sit, counted in '/'-separated segments: the user's folder
 * and the upload's own folder. Keys keep this shape because no value contains '/' (user ids and
 * sanitised filenames cannot).
 */
export interface KeyLayout {
  /** The literal folders before the user's, joined with '/' ('users'), or ''. */
  base: string
  /** Index of the `{userId}` segment. */
  userSegment: number
  /** Index of the `{uuid}` segment (always after userSegment, never the last segment). */
  uuidSegment: number
}

/**
 * Checks a key template and returns its layout. Throws unless it keeps users apart and every
 * upload in a folder of its own:
 * - `{userId}` is a whole folder and only literal folders come before it, so each user has one
 *   fixed prefix (`users/alice/`) that ownership checks and IAM policies can rely on;
 * - `{uuid}` is a whole folder after it with the file's name below it, so two uploads of the
 *   same filename never share a key and a video's folder is its own (its thumbnail goes there:
 *   with `{userId}-{uuid}-{filename}` every user's thumbnail would be `thumbnail.jpg` at the
 *   bucket root, with `users/{userId}/{uuid}-{filename}` one per user, overwritten by the next);
 * - `{filename}` only below the `{uuid}` folder.
 */
export function keyLayout(template: string): KeyLayout {
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!)
  const unknown = used.filter((p) => !PLACEHOLDERS.has(p))
  if (unknown.length) throw new Error(`key template: unknown placeholder {${unknown.join('}, {')}}`)
  if (!used.includes('userId')) throw new Error('key template must contain {userId}')
  if (!used.includes('uuid')) throw new Error('key template must contain {uuid}')
  if (template.startsWith('/')) throw new Error('key template must not start with "/"')
  const segs = template.split('/')
  if (segs.some((seg) => seg === '..' || seg === '.'))
    throw new Error('key template must not contain "." or ".." segments')
  if (segs.some((seg) => seg === ''))
    throw new Error('key template must not contain empty folders ("//" or a trailing "/")')
  const userSegment = segs.indexOf('{userId}')
  if (userSegment < 0 || segs.slice(0, userSegment).some((seg) => seg.includes('{')))
    throw new Error(
      "key template must start with the user's folder: literal folders, then {userId} as a whole folder (e.g. users/{userId}/{uuid}/{filename})",
    )
  const uuidSegment = segs.indexOf('{uuid}', userSegment + 1)
  if (uuidSegment < 0 || uuidSegment === segs.length - 1)
    throw new Error(
      'key template must have {uuid} as a whole folder after {userId}, with the file name below it (e.g. users/{userId}/{uuid}/{filename})',
    )
  if (segs.slice(0, uuidSegment).some((seg) => seg.includes('{filename}')))
    throw new Error('key template must put {filename} below the {uuid} folder')
  return { base: segs.slice(0, userSegment).join('/'), userSegment, uuidSegment }
}

/** Throws when the template cannot keep users apart or uploads unique (see keyLayout). */
export function validateKeyTemplate(template: string): void {
  keyLayout(template)
}

/** The fixed prefix all of a user's keys start with: `users/alice/`. */
export function userPrefix(layout: KeyLayout, userId: string): string {
  return `${layout.base ? layout.base + '/' : ''}${userId}/`
}

export function renderKey(
  template: string,
  v: { userId: string; uuid: string; filename: string; now?: Date },
): string {
  const now = v.now ?? new Date()
  const values: Record<string, string> = {
    userId: v.userId,
    uuid: v.uuid,
    filename: v.filename,
    yyyy: String(now.getUTCFullYear()),
    mm: String(now.getUTCMonth() + 1).padStart(2, '0'),
    dd: String(now.getUTCDate()).padStart(2, '0'),
  }
  return template.replace(/\{([^}]*)\}/g, (_, name: string) => values[name] ?? '')
}

/**
 * A filename as it may appear in a key: the last path segment only (a client cannot pick the
 * folder), NFC, no control or bidi-override characters (they disguise extensions), only letters,
 * digits, marks, space and `._-()`, no leading dots (no hidden files, no `..`), at most
 * MAX_FILENAME_BYTES keeping the extension. Never empty.
 */
export function sanitizeFilename(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? ''
  let name = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[^\p{L}\p{N}\p{M} ._()-]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/_{2,}/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
  if (!name || /^[_.\s]+$/.test(name)) name = 'file'
  return truncateKeepingExtension(name, MAX_FILENAME_BYTES)
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name
  const dot = name.lastIndexOf('.')
  const ext = dot > 0 && name.length - dot <= MAX_EXTENSION_CHARS ? name.slice(dot) : ''
  const stem = ext ? name.slice(0, dot) : name
  let out = ''
  let bytes = Buffer.byteLength(ext)
  // Code point by code point, so a multi-byte character is never cut in half.
  for (const ch of stem) {
    const b = Buffer.byteLength(ch)
    if (bytes + b > maxBytes) break
    out += ch
    bytes += b
  }
  return out.trimEnd() + ext
}

/**
 * `users/alice/1234/clip.mp4` → `users/alice/1234/thumbnail.jpg`: the poster beside its video.
 * Undefined when that place is not inside this user's folder and this upload's own `{uuid}`
 * folder (a video recorded under an older, different template), so a thumbnail can never land
 * where another upload's, or another user's, would.
 */
export function thumbnailKeyFor(
  videoKey: string,
  layout: KeyLayout,
  userId: string,
): string | undefined {
  const slash = videoKey.lastIndexOf('/')
  if (slash < 0) return undefined
  const folder = videoKey.slice(0, slash)
  const segs = folder.split('/')
  if (!videoKey.startsWith(userPrefix(layout, userId))) return undefined
  if (segs.length <= layout.uuidSegment || !UUID.test(segs[layout.uuidSegment]!)) return undefined
  return `${folder}/${THUMBNAIL_NAME}`
}

/** `Video/MP4; codecs="avc1"` → `video/mp4`. */
export function normalizeContentType(type: string): string {
  return type.split(';')[0]!.trim().toLowerCase()
}

/** Allow-list entries are exact types (`image/jpeg`) or a family (`video/*`). */
export function contentTypeAllowed(type: string, allowList: readonly string[]): boolean {
  const t = normalizeContentType(type)
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t)) return false
  return allowList.some((entry) => {
    const e = entry.trim().toLowerCase()
    return e.endsWith('/*') ? t.startsWith(e.slice(0, -1)) : t === e
  })
}
