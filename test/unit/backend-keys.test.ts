import { describe, expect, it } from 'vitest'
import {
  contentTypeAllowed,
  keyLayout,
  MAX_FILENAME_BYTES,
  renderKey,
  sanitizeFilename,
  thumbnailKeyFor,
  validateKeyTemplate,
} from '../../src/backend/keys'

describe('sanitizeFilename', () => {
  it.each([
    ['clip.mp4', 'clip.mp4'],
    ['clip é.mp4', 'clip é.mp4'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\take 1.mov', 'take 1.mov'],
    ['a/b\\c.mp4', 'c.mp4'],
    ['evil\u202egpj.exe.mp4', 'evilgpj.exe.mp4'],
    ['tab\there\nnewline.mp4', 'tabherenewline.mp4'],
    ['what?*<>|:"#%&.mp4', 'what_.mp4'],
    ['.hidden.mp4', 'hidden.mp4'],
    ['..', 'file'],
    ['', 'file'],
    ['???', 'file'],
    ['  spaced   out  .mp4', 'spaced out .mp4'],
    ['e\u0301.mp4', 'é.mp4'],
  ])('%j → %j', (raw, clean) => {
    expect(sanitizeFilename(raw)).toBe(clean)
  })

  it('shortens long names to the byte limit, keeping the extension and whole characters', () => {
    const long = 'é'.repeat(300) + '.mp4'
    const out = sanitizeFilename(long)
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_FILENAME_BYTES)
    expect(out.endsWith('.mp4')).toBe(true)
    expect(out).toMatch(/^é+\.mp4$/)
  })
})

describe('key template', () => {
  it('renders the placeholders', () => {
    const template = 'uploads/{userId}/{yyyy}/{mm}/{dd}/{uuid}/{filename}'
    expect(() => validateKeyTemplate(template)).not.toThrow()
    const key = renderKey(template, {
      userId: 'alice',
      uuid: 'U',
      filename: 'a.mp4',
      now: new Date(Date.UTC(2026, 0, 5)),
    })
    expect(key).toBe('uploads/alice/2026/01/05/U/a.mp4')
  })

  it.each([
    ['users/{uuid}/{filename}', /\{userId\}/],
    ['users/{userId}/{filename}', /\{uuid\}/],
    ['users/{userId}/{uuid}/{name}', /unknown placeholder \{name\}/],
    ['/users/{userId}/{uuid}', /must not start/],
    ['users/../{userId}/{uuid}', /"\.\."/],
    ['users//{userId}/{uuid}/{filename}', /empty folders/],
    ['users/{userId}/{uuid}/', /empty folders/],
    // No per-user folder: every user's thumbnail would be `thumbnail.jpg` at the bucket root.
    ['{userId}-{uuid}-{filename}', /\{userId\} as a whole folder/],
    // The user's folder is not a fixed prefix: no per-user prefix at all.
    ['{filename}/{userId}{uuid}', /\{userId\} as a whole folder/],
    ['{yyyy}/{userId}/{uuid}/{filename}', /literal folders, then \{userId\}/],
    ['users/x{userId}/{uuid}/{filename}', /\{userId\} as a whole folder/],
    // No folder per upload: one thumbnail per user, overwritten by the next.
    ['users/{userId}/{uuid}-{filename}', /\{uuid\} as a whole folder/],
    ['users/{userId}/{uuid}', /\{uuid\} as a whole folder after \{userId\}, with the file name/],
    ['{uuid}/{userId}/{filename}', /literal folders, then \{userId\}/],
    ['users/{userId}/{filename}/{uuid}/x', /\{filename\} below the \{uuid\} folder/],
  ])('refuses %j', (template, message) => {
    expect(() => validateKeyTemplate(template)).toThrow(message)
  })

  it.each([
    ['users/{userId}/{uuid}/{filename}', { base: 'users', userSegment: 1, uuidSegment: 2 }],
    ['{userId}/{uuid}/{filename}', { base: '', userSegment: 0, uuidSegment: 1 }],
    ['a/b/{userId}/{yyyy}/{uuid}/{dd}-{filename}', { base: 'a/b', userSegment: 2, uuidSegment: 4 }],
    ['users/{userId}/{uuid}/original', { base: 'users', userSegment: 1, uuidSegment: 2 }],
  ])('accepts %j', (template, layout) => {
    expect(keyLayout(template)).toEqual(layout)
  })

  describe('thumbnailKeyFor', () => {
    const U = '0b5c2a3e-8f1d-4c8e-9a3b-1f2e3d4c5b6a'
    const layout = keyLayout('users/{userId}/{uuid}/{filename}')

    it('puts the thumbnail in the video’s own folder', () => {
      expect(thumbnailKeyFor(`users/alice/${U}/clip.mp4`, layout, 'alice')).toBe(
        `users/alice/${U}/thumbnail.jpg`,
      )
      const deep = keyLayout('users/{userId}/{uuid}/{yyyy}/{filename}')
      expect(thumbnailKeyFor(`users/alice/${U}/2026/clip.mp4`, deep, 'alice')).toBe(
        `users/alice/${U}/2026/thumbnail.jpg`,
      )
    })

    it.each([
      // Keys recorded under older templates that had no folder per upload.
      ['clip.mp4', 'no folder at all'],
      [`alice-${U}-clip.mp4`, 'bucket root'],
      [`users/alice/${U}-clip.mp4`, 'the user’s folder, shared by all their uploads'],
      ['users/alice/2026/clip.mp4', 'a folder that is not the upload’s uuid'],
      // Another user's prefix, or none.
      [`users/bob/${U}/clip.mp4`, 'someone else’s folder'],
      [`other/alice/${U}/clip.mp4`, 'outside the user prefix'],
      [`users/alicex/${U}/clip.mp4`, 'a user whose id starts like this one'],
    ])('refuses %j (%s)', (videoKey) => {
      expect(thumbnailKeyFor(videoKey, layout, 'alice')).toBeUndefined()
    })
  })
})

describe('contentTypeAllowed', () => {
  const allow = ['video/*', 'image/jpeg']
  it.each([
    ['video/mp4', true],
    ['Video/MP4; codecs="avc1.42E01E"', true],
    ['video/x-matroska', true],
    ['image/jpeg', true],
    ['image/png', false],
    ['video', false],
    ['video/', false],
    ['videos/mp4', false],
    ['text/html', false],
    ['', false],
  ])('%j → %s', (type, ok) => {
    expect(contentTypeAllowed(type, allow)).toBe(ok)
  })
})
