import { describe, expect, it } from 'vitest'
import {
  checkKeyTemplate,
  DEFAULT_KEY_TEMPLATE,
  DEFAULT_THUMBNAIL_KEY_TEMPLATE,
  renderKey,
  unknownTemplateVariables,
} from '../../src/main/core/key-template'
import { EditableSettings } from '../../src/preload/contract'
import {
  decodeMetadataValue,
  encodeMetadataValue,
  contentTypeFor,
} from '../../src/main/core/content-type'

const now = new Date('2026-11-21T10:00:00Z')

describe('key templates', () => {
  it('renders every variable', () => {
    expect(
      renderKey('{date}/{relativeDir}/{uuid}/{basename}.{ext} ({filename})', {
        filename: 'clip été.MP4',
        relativeDir: 'shoot/day 1',
        uuid: 'u-1',
        now,
      }),
    ).toBe('2026-11-21/shoot/day 1/u-1/clip été.MP4 (clip été.MP4)')
  })

  it('defaults to videos/{uuid}/{filename} with a fresh uuid', () => {
    const a = renderKey(DEFAULT_KEY_TEMPLATE, { filename: 'a.mp4' })
    const b = renderKey(DEFAULT_KEY_TEMPLATE, { filename: 'a.mp4' })
    expect(a).toMatch(/^videos\/[0-9a-f-]{36}\/a\.mp4$/)
    expect(a).not.toBe(b)
  })

  it('collapses empty segments, backslashes and dot segments', () => {
    expect(renderKey('up/{relativeDir}/{filename}', { filename: 'a.mp4', relativeDir: '' })).toBe(
      'up/a.mp4',
    )
    expect(
      renderKey('/{relativeDir}/{filename}', { filename: 'a.mp4', relativeDir: 'x\\..\\y' }),
    ).toBe('x/y/a.mp4')
  })

  it('puts the thumbnail beside the video by default and can reproduce the seeds layout', () => {
    expect(
      renderKey(DEFAULT_THUMBNAIL_KEY_TEMPLATE, { filename: 'a.mp4', key: 'videos/u/a.mp4' }),
    ).toBe('videos/u/thumbnail.jpg')
    const video = renderKey('stories/{uuid}/original.{ext}', { filename: 'a.mp4', uuid: '42' })
    expect(video).toBe('stories/42/original.mp4')
    expect(renderKey('{dir}/thumbnail.jpg', { filename: 'a.mp4', key: video })).toBe(
      'stories/42/thumbnail.jpg',
    )
  })

  it('reports unknown variables and leaves them untouched', () => {
    expect(unknownTemplateVariables('{uuid}/{nope}/{filename}')).toEqual(['nope'])
    expect(unknownTemplateVariables('{dir}/{key}.jpg')).toEqual(['dir', 'key'])
    expect(unknownTemplateVariables('{dir}/{key}.jpg', 'thumbnail')).toEqual([])
    expect(unknownTemplateVariables('{file-name}/{id}/{id}')).toEqual(['file-name', 'id'])
    expect(renderKey('{nope}/{filename}', { filename: 'a' })).toBe('{nope}/a')
  })

  it('splits the extension like node:path (dot files have none)', () => {
    const k = (filename: string) => renderKey('{basename}|{ext}', { filename })
    expect(k('a.tar.gz')).toBe('a.tar|gz')
    expect(k('noext')).toBe('noext|')
    expect(k('.hidden')).toBe('.hidden|')
    expect(k('trailing.')).toBe('trailing|')
  })
})

describe('key template check (CLI flags and app settings)', () => {
  it('accepts the defaults and templates with a per-file variable', () => {
    expect(checkKeyTemplate(DEFAULT_KEY_TEMPLATE)).toBeUndefined()
    expect(checkKeyTemplate('{date}/{relativeDir}/{basename}.{ext}')).toBeUndefined()
    expect(checkKeyTemplate('stories/{uuid}/original.{ext}')).toBeUndefined()
    expect(checkKeyTemplate(DEFAULT_THUMBNAIL_KEY_TEMPLATE, 'thumbnail')).toBeUndefined()
    expect(checkKeyTemplate('posters/{key}.jpg', 'thumbnail')).toBeUndefined()
  })

  it('names unknown variables', () => {
    expect(checkKeyTemplate('videos/{id}/{filename}')).toMatch(
      /unknown variable \{id\} \(use \{uuid\}/,
    )
    expect(checkKeyTemplate('{id}/{name}')).toMatch(/unknown variables \{id\} \{name\}/)
    // {dir} is the video key's folder: meaningless while the video key is being made.
    expect(checkKeyTemplate('{dir}/{filename}')).toMatch(/unknown variable \{dir\}/)
  })

  it('refuses a template that gives every file the same key', () => {
    for (const t of ['uploads/', 'uploads/{date}/video.{ext}', '{relativeDir}', '']) {
      expect(checkKeyTemplate(t), t).toMatch(/every file would get the same key/)
    }
    expect(checkKeyTemplate('thumbs/poster.jpg', 'thumbnail')).toMatch(/same key/)
  })

  it("is the app settings' rule too, with the problem in the message", () => {
    expect(EditableSettings.parse({}).keyTemplate).toBe(DEFAULT_KEY_TEMPLATE)
    expect(EditableSettings.parse({ thumbnailKeyTemplate: '' }).thumbnailKeyTemplate).toBe('')
    const bad = EditableSettings.safeParse({ keyTemplate: 'uploads/{id}' })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0]?.message).toMatch(/^Key template: unknown variable \{id\}/)
    const same = EditableSettings.safeParse({ thumbnailKeyTemplate: 'thumbs/poster.jpg' })
    expect(same.error?.issues[0]?.message).toMatch(/^Thumbnail key template: .*same key/)
  })
})

describe('metadata and content types', () => {
  it('encodes non-ASCII metadata as RFC 2047 and round-trips it', () => {
    expect(encodeMetadataValue('plain name.mp4')).toBe('plain name.mp4')
    const enc = encodeMetadataValue('clip été 🎬.mp4')
    expect(enc).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/)
    expect(decodeMetadataValue(enc)).toBe('clip été 🎬.mp4')
  })

  it('derives Content-Type from the extension', () => {
    expect(contentTypeFor('/a/B.MOV')).toBe('video/quicktime')
    expect(contentTypeFor('x.mkv')).toBe('video/x-matroska')
    expect(contentTypeFor('x.unknown')).toBe('application/octet-stream')
  })

  it('takes the container of a probed video when the extension says nothing', () => {
    expect(contentTypeFor('/cam/CLIP0001.video', 'mp4')).toBe('video/mp4')
    expect(contentTypeFor('capture', 'mpegts')).toBe('video/mp2t')
    expect(contentTypeFor('x.bin', 'mkv')).toBe('video/x-matroska')
    // The extension wins when it is known; an unknown container changes nothing.
    expect(contentTypeFor('x.mov', 'mp4')).toBe('video/quicktime')
    expect(contentTypeFor('x.bin', 'nut')).toBe('application/octet-stream')
  })
})
