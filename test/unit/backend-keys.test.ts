import { describe, expect, it } from 'vitest'
import {
  contentTypeAllowed,
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
    const key = renderKey('uploads/{yyyy}/{mm}/{dd}/{userId}/{uuid}/{filename}', {
      userId: 'alice',
      uuid: 'U',
      filename: 'a.mp4',
      now: new Date(Date.UTC(2026, 0, 5)),
    })
    expect(key).toBe('uploads/2026/01/05/alice/U/a.mp4')
  })

  it.each([
    ['users/{uuid}/{filename}', /\{userId\}/],
    ['users/{userId}/{filename}', /\{uuid\}/],
    ['users/{userId}/{uuid}/{name}', /unknown placeholder \{name\}/],
    ['/users/{userId}/{uuid}', /must not start/],
    ['users/../{userId}/{uuid}', /"\.\."/],
  ])('refuses %j', (template, message) => {
    expect(() => validateKeyTemplate(template)).toThrow(message)
  })

  it('puts the thumbnail in the video’s folder', () => {
    expect(thumbnailKeyFor('users/alice/U/clip.mp4')).toBe('users/alice/U/thumbnail.jpg')
    expect(thumbnailKeyFor('clip.mp4')).toBe('thumbnail.jpg')
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
