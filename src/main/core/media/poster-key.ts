/**
 * The poster's object key: the thumbnail key template rendered with the VIDEO's values.
 *
 * Two things make that more than one renderKey() call:
 * - `{uuid}` and `{date}` are drawn when the video's key is made (a fresh uuid, today's date). The
 *   poster is made later, so rendering its template afresh would put `stories/{uuid}/thumbnail.jpg`
 *   in another folder than `stories/{uuid}/original.mp4`. The video's values are read back from its
 *   key by matching the video template against it.
 * - The default `{dir}/thumbnail.jpg` assumes one folder per upload. With a video template that has
 *   none (`uploads/{relativeDir}/{filename}`), every video of a folder would write the same poster
 *   over the others'. Such a template is detected and `{dir}/{basename}.jpg` is used instead.
 */
import { renderKey } from '../key-template'

/** Used when the poster template would give two videos of one folder the same key. */
export const PER_VIDEO_POSTER_TEMPLATE = '{dir}/{basename}.jpg'

const UUID_MARK = '\u0001'
const DATE_MARK = '\u0002'
const UUID_PATTERN = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'
const DATE_PATTERN = '(\\d{4}-\\d{2}-\\d{2})'

export interface PosterKeyInput {
  /** The key template the video's key was rendered from. */
  videoTemplate: string
  /** The thumbnail key template. */
  posterTemplate: string
  /** The video's key as stored. */
  videoKey: string
  filename: string
  relativeDir: string
}

export interface PosterKey {
  key: string
  /** Why the template asked for was not used as is (for the log). */
  note?: string
}

export function posterKey(input: PosterKeyInput): PosterKey {
  const { videoTemplate, videoKey, filename, relativeDir } = input
  let template = input.posterTemplate
  let note: string | undefined
  if (sharesPosterKey(videoTemplate, template)) {
    note =
      `thumbnail key template "${template}" would give every video in a folder the same ` +
      `poster with key template "${videoTemplate}"; using "${PER_VIDEO_POSTER_TEMPLATE}"`
    template = PER_VIDEO_POSTER_TEMPLATE
  }
  const values = recoverKeyValues(videoTemplate, videoKey, { filename, relativeDir })
  if (!values && /\{(uuid|date)\}/.test(template)) {
    // The key does not come from this template (a backend chose it, or the settings changed
    // since): the video's {uuid}/{date} are unknown, and fresh ones would put the poster
    // somewhere unrelated. Beside the video is the promise the feature makes.
    note = `video key "${videoKey}" does not match "${videoTemplate}"; poster put beside it`
    template = PER_VIDEO_POSTER_TEMPLATE
  }
  const key = renderKey(template, {
    filename,
    relativeDir,
    key: videoKey,
    uuid: values?.uuid,
    now: values?.date ? new Date(`${values.date}T00:00:00Z`) : undefined,
  })
  return { key, note }
}

/**
 * The `{uuid}` and `{date}` that rendered `videoKey` from `videoTemplate` (each absent when the
 * template has none), or undefined when the key does not fit the template.
 */
export function recoverKeyValues(
  videoTemplate: string,
  videoKey: string,
  file: { filename: string; relativeDir: string },
): { uuid?: string; date?: string } | undefined {
  if (!/\{(uuid|date)\}/.test(videoTemplate)) return {}
  // Render with markers in place of the drawn values: every other step (empty segments
  // collapsing, backslashes) happens exactly as it did for the real key.
  const marked = renderKey(videoTemplate.replaceAll('{date}', DATE_MARK), {
    ...file,
    uuid: UUID_MARK,
  })
  const kinds: ('uuid' | 'date')[] = []
  let source = ''
  for (const ch of marked) {
    if (ch === UUID_MARK) {
      kinds.push('uuid')
      source += UUID_PATTERN
    } else if (ch === DATE_MARK) {
      kinds.push('date')
      source += DATE_PATTERN
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  const m = new RegExp(`^${source}$`).exec(videoKey)
  if (!m) return undefined
  const found: { uuid?: string; date?: string } = {}
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i]!
    const value = m[i + 1]!
    // One value per key: a template naming {uuid} twice got the same uuid twice.
    if (found[kind] !== undefined && found[kind] !== value) return undefined
    found[kind] = value
  }
  return found
}

/**
 * True when two different videos dropped in the same folder on the same day would get the same
 * poster key: the video template has no per-upload folder and the poster template nothing of the
 * video's own (`{dir}/thumbnail.jpg` under `uploads/{relativeDir}/{filename}`).
 */
export function sharesPosterKey(videoTemplate: string, posterTemplate: string): boolean {
  const now = new Date('2026-01-02T00:00:00Z')
  const relativeDir = 'shoot'
  const keys = [
    { filename: 'a.mp4', uuid: '00000000-0000-4000-8000-00000000000a' },
    { filename: 'b.mov', uuid: '00000000-0000-4000-8000-00000000000b' },
  ].map((v) => {
    const videoKey = renderKey(videoTemplate, { ...v, relativeDir, now })
    return renderKey(posterTemplate, { ...v, relativeDir, now, key: videoKey })
  })
  return keys[0] === keys[1]
}
