import { describe, expect, it } from 'vitest'
import { parseHeaderLines, savedFor } from '../../src/renderer/src/credentials'

describe('the extra-headers box', () => {
  it('reads "Name: value" lines, trims, skips blank lines, keeps colons in values', () => {
    expect(parseHeaderLines('X-Team: studio\n\n  X-Url: https://a.example:8443/x  \r\n')).toEqual({
      headers: [
        { name: 'X-Team', value: 'studio' },
        { name: 'X-Url', value: 'https://a.example:8443/x' },
      ],
    })
    expect(parseHeaderLines('')).toEqual({ headers: [] })
  })

  it('names the first line that is not a header', () => {
    expect(parseHeaderLines('X-Team: a\njust a token').error).toMatch(/line 2/)
    expect(parseHeaderLines(': no name').error).toMatch(/line 1/)
  })
})

describe('whether a saved credential applies to the address in the form', () => {
  const bound = ['https://up.example']
  it('same origin (any path) → here; another origin → elsewhere; nothing saved → none', () => {
    expect(savedFor(true, bound, 'https://up.example/v2')).toBe('here')
    expect(savedFor(true, bound, 'http://up.example')).toBe('elsewhere')
    expect(savedFor(true, bound, 'https://evil.example')).toBe('elsewhere')
    expect(savedFor(true, bound, 'not a url')).toBe('elsewhere')
    expect(savedFor(false, bound, 'https://up.example')).toBe('none')
  })
})
