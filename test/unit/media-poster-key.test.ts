import { describe, expect, it } from 'vitest'
import { DEFAULT_THUMBNAIL_KEY_TEMPLATE, renderKey } from '../../src/main/core/key-template'
import {
  PER_VIDEO_POSTER_TEMPLATE,
  posterKey,
  recoverKeyValues,
  sharesPosterKey,
} from '../../src/main/core/media/poster-key'

const UUID = '3f2b8c1e-9a4d-4e6f-8b21-0c5d7e9f1a2b'
const file = { filename: 'clip été.mp4', relativeDir: 'shoot/day 1' }

describe('recoverKeyValues', () => {
  it("reads the video's uuid and date back from its key", () => {
    const template = 'stories/{date}/{uuid}/{relativeDir}/{filename}'
    const key = renderKey(template, { ...file, uuid: UUID, now: new Date('2025-12-31T23:59:00Z') })
    expect(recoverKeyValues(template, key, file)).toEqual({ uuid: UUID, date: '2025-12-31' })
  })

  it('copes with collapsed empty segments, regex characters and a repeated {uuid}', () => {
    const alone = { filename: 'a+b (1).[x].mp4', relativeDir: '' }
    const template = 'v/{relativeDir}/{uuid}/{uuid}-{filename}'
    const key = renderKey(template, { ...alone, uuid: UUID })
    expect(key).toBe(`v/${UUID}/${UUID}-a+b (1).[x].mp4`)
    expect(recoverKeyValues(template, key, alone)).toEqual({ uuid: UUID })
  })

  it('gives nothing to recover for a template without drawn values, undefined for a foreign key', () => {
    expect(recoverKeyValues('uploads/{filename}', 'whatever', file)).toEqual({})
    expect(recoverKeyValues('videos/{uuid}/{filename}', 'users/alice/x/clip.mp4', file)).toBe(
      undefined,
    )
  })
})

describe('sharesPosterKey', () => {
  it('is false when each upload has its own folder or the poster is named after the video', () => {
    expect(sharesPosterKey('videos/{uuid}/{filename}', DEFAULT_THUMBNAIL_KEY_TEMPLATE)).toBe(false)
    expect(sharesPosterKey('stories/{uuid}/original.mp4', 'stories/{uuid}/thumbnail.jpg')).toBe(
      false,
    )
    expect(sharesPosterKey('v/{relativeDir}/{basename}/{filename}', '{dir}/thumbnail.jpg')).toBe(
      false,
    )
    expect(sharesPosterKey('uploads/{relativeDir}/{filename}', PER_VIDEO_POSTER_TEMPLATE)).toBe(
      false,
    )
  })

  it('is true when every video of a folder would get the same poster key', () => {
    expect(sharesPosterKey('uploads/{relativeDir}/{filename}', '{dir}/thumbnail.jpg')).toBe(true)
    expect(sharesPosterKey('{uuid}-{filename}', '{dir}/thumbnail.jpg')).toBe(true)
    expect(sharesPosterKey('videos/{uuid}/{filename}', 'posters/latest.jpg')).toBe(true)
  })
})

describe('posterKey', () => {
  it("renders the seeds' layout in the video's own folder: stories/{uuid}/thumbnail.jpg", () => {
    const videoKey = renderKey('stories/{uuid}/original.mp4', { ...file, uuid: UUID })
    const { key, note } = posterKey({
      videoTemplate: 'stories/{uuid}/original.mp4',
      posterTemplate: 'stories/{uuid}/thumbnail.jpg',
      videoKey,
      ...file,
    })
    expect(key).toBe(`stories/${UUID}/thumbnail.jpg`)
    expect(note).toBeUndefined()
  })

  it('keeps {dir}/thumbnail.jpg beside the video in its own folder (the default)', () => {
    const videoKey = `videos/${UUID}/clip été.mp4`
    expect(
      posterKey({
        videoTemplate: 'videos/{uuid}/{filename}',
        posterTemplate: DEFAULT_THUMBNAIL_KEY_TEMPLATE,
        videoKey,
        ...file,
      }).key,
    ).toBe(`videos/${UUID}/thumbnail.jpg`)
  })

  it('names the poster after the video when the folder is shared, and says why', () => {
    const { key, note } = posterKey({
      videoTemplate: 'uploads/{relativeDir}/{filename}',
      posterTemplate: DEFAULT_THUMBNAIL_KEY_TEMPLATE,
      videoKey: 'uploads/shoot/day 1/clip été.mp4',
      ...file,
    })
    expect(key).toBe('uploads/shoot/day 1/clip été.jpg')
    expect(note).toMatch(/same poster/)
  })

  it('puts the poster beside a video whose key came from elsewhere instead of a fresh {uuid}', () => {
    const { key, note } = posterKey({
      videoTemplate: 'videos/{uuid}/{filename}',
      posterTemplate: 'posters/{uuid}.jpg',
      videoKey: 'users/alice/0000/clip été.mp4',
      ...file,
    })
    expect(key).toBe('users/alice/0000/clip été.jpg')
    expect(note).toMatch(/does not match/)
  })
})
