// No Node imports: the app's settings schema (src/preload/contract.ts, bundled into the sandboxed
// preload) validates templates with checkKeyTemplate below.

/** Default object key layout: one folder per upload so a thumbnail can sit beside the video. */
export const DEFAULT_KEY_TEMPLATE = 'videos/{uuid}/{filename}'
/** Default poster key: beside the video. {dir} is the video key's folder. */
export const DEFAULT_THUMBNAIL_KEY_TEMPLATE = '{dir}/thumbnail.jpg'

const VARIABLES = [
  'uuid',
  'filename',
  'basename',
  'ext',
  'date',
  'relativeDir',
  'dir',
  'key',
] as const
export type KeyVariable = (typeof VARIABLES)[number]

/** Variables of a video key template; {dir} and {key} only mean something for the thumbnail. */
const VIDEO_VARIABLES: readonly string[] = VARIABLES.filter((v) => v !== 'dir' && v !== 'key')
/**
 * A template needs one variable that differs from file to file, or every file gets the same key
 * and each upload overwrites the last. ({ext}, {date}, {relativeDir} are shared by many files.)
 */
const PER_FILE: Record<'video' | 'thumbnail', readonly string[]> = {
  video: ['uuid', 'filename', 'basename'],
  thumbnail: ['uuid', 'filename', 'basename', 'dir', 'key'],
}

export interface KeyContext {
  filename: string
  relativeDir?: string
  uuid?: string
  now?: Date
  /** For thumbnail templates: the video's key and its folder. */
  key?: string
}

/**
 * Renders a key template with {uuid} {filename} {basename} {ext} {date} {relativeDir} (and, for
 * thumbnails, {key} {dir}). Empty segments collapse so `{relativeDir}/{filename}` works for a
 * file dropped alone; backslashes become slashes; no leading slash; `..` segments are dropped.
 */
export function renderKey(template: string, ctx: KeyContext): string {
  const ext = extname(ctx.filename)
  const key = ctx.key ?? ''
  const values: Record<KeyVariable, string> = {
    uuid: ctx.uuid ?? globalThis.crypto.randomUUID(),
    filename: ctx.filename,
    basename: ext ? ctx.filename.slice(0, -ext.length) : ctx.filename,
    ext: ext.replace(/^\./, ''),
    date: (ctx.now ?? new Date()).toISOString().slice(0, 10),
    relativeDir: (ctx.relativeDir ?? '').replace(/\\/g, '/'),
    key,
    dir: key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : '',
  }
  const rendered = template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    (VARIABLES as readonly string[]).includes(name) ? values[name as KeyVariable] : whole,
  )
  return rendered
    .replace(/\\/g, '/')
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.' && seg !== '..')
    .join('/')
}

/** node:path's extname for a file name: `.mp4`, '' for `clip` or `.hidden`. */
function extname(filename: string): string {
  const i = filename.lastIndexOf('.')
  return i > 0 && filename !== '..' ? filename.slice(i) : ''
}

/** Unknown {variables} in a template ({dir} and {key} are known only in thumbnail templates). */
export function unknownTemplateVariables(
  template: string,
  kind: 'video' | 'thumbnail' = 'video',
): string[] {
  const known = kind === 'video' ? VIDEO_VARIABLES : (VARIABLES as readonly string[])
  const unknown = [...template.matchAll(/\{([^{}]*)\}/g)]
    .map((m) => m[1]!)
    .filter((v) => !known.includes(v))
  return [...new Set(unknown)]
}

/**
 * Why a key template cannot be used, in plain words, or undefined when it can. The one check the
 * CLI (usage error) and the app's settings schema both apply: an unknown variable would stay in
 * the key literally, and a template with no per-file variable gives every file the same key.
 */
export function checkKeyTemplate(
  template: string,
  kind: 'video' | 'thumbnail' = 'video',
): string | undefined {
  const unknown = unknownTemplateVariables(template, kind)
  if (unknown.length) {
    const known = (kind === 'video' ? VIDEO_VARIABLES : VARIABLES).map((v) => `{${v}}`).join(' ')
    return `unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => `{${v}}`).join(' ')} (use ${known})`
  }
  const used = new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))
  if (!PER_FILE[kind].some((v) => used.has(v))) {
    return `it must contain ${PER_FILE[kind].map((v) => `{${v}}`).join(' or ')}, or every file would get the same key and overwrite the one before`
  }
  return undefined
}
