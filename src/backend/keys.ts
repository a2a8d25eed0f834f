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

/** Name used for the poster JPEG beside a video (backend mode). */
export const THUMBNAIL_NAME = 'thumbnail.jpg'

/**
 * Throws when the template cannot keep users apart or uploads unique: it must contain {userId}
 * (the per-user prefix the ownership model and IAM policies rely on) and {uuid} (two uploads of
 * the same filename must never share a key).
 */
export function validateKeyTemplate(template: string): void {
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!)
  const unknown = used.filter((p) => !PLACEHOLDERS.has(p))
  if (unknown.length) throw new Error(`key template: unknown placeholder {${unknown.join('}, {')}}`)
  if (!used.includes('userId')) throw new Error('key template must contain {userId}')
  if (!used.includes('uuid')) throw new Error('key template must contain {uuid}')
  if (template.startsWith('/')) throw new Error('key template must not start with "/"')
  if (template.split('/').some((seg) => seg === '..' || seg === '.'))
    throw new Error('key template must not contain "." or ".." segments')
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

/** `users/u/1234/clip.mp4` → `users/u/1234/thumbnail.jpg`. */
export function thumbnailKeyFor(videoKey: string): string {
  const slash = videoKey.lastIndexOf('/')
  return slash < 0 ? THUMBNAIL_NAME : `${videoKey.slice(0, slash)}/${THUMBNAIL_NAME}`
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
