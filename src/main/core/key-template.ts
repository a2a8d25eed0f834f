import { randomUUID } from 'node:crypto'
import { basename, extname } from 'node:path'

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
    uuid: ctx.uuid ?? randomUUID(),
    filename: ctx.filename,
    basename: basename(ctx.filename, ext),
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

/** Unknown {variables} in a template, for settings validation. */
export function unknownTemplateVariables(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1]!)
    .filter((v) => !(VARIABLES as readonly string[]).includes(v))
}
