import { describe, expect, it } from 'vitest'
import { cookieHeaders, withSessionHeaders } from '../../src/main/services/ports'

describe('session cookies beside the sign-in headers', () => {
  it('a typed Cookie and the session cookies for the URL go in one header, typed first', () => {
    expect(
      withSessionHeaders(
        { Authorization: 'Bearer t', cookie: 'typed=1' },
        { Cookie: 'platform_session=abc' },
      ),
    ).toEqual({ Authorization: 'Bearer t', cookie: 'typed=1; platform_session=abc' })
  })

  it('either one alone is sent as it is', () => {
    expect(withSessionHeaders({ Cookie: 'typed=1' }, {})).toEqual({ Cookie: 'typed=1' })
    expect(withSessionHeaders(undefined, { Cookie: 's=1' })).toEqual({ Cookie: 's=1' })
    expect(withSessionHeaders({ 'X-Api-Key': 'k' }, {})).toEqual({ 'X-Api-Key': 'k' })
  })

  it('reads the jar for the URL on each call; a failing jar adds nothing', async () => {
    const asked: string[] = []
    const read = cookieHeaders({
      get: async ({ url }) => {
        asked.push(url)
        if (url.includes('broken')) throw new Error('jar unavailable')
        return [
          { name: 'a', value: '1' },
          { name: 'b', value: '2' },
        ]
      },
    })
    expect(await read('https://up.example/s3/multipart')).toEqual({ Cookie: 'a=1; b=2' })
    expect(await read('https://broken.example/')).toEqual({})
    expect(asked).toEqual(['https://up.example/s3/multipart', 'https://broken.example/'])
  })
})
