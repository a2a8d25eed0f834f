import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testConnection } from '../../src/main/core/destination'
import { startTestBackend, type TestBackend } from '../support/backend'
import { freshBucket, testClient, testServer } from '../support/s3'

describe('Test connection ("Settings → Test connection"), against the real servers', () => {
  const s3 = testServer()
  const base = {
    mode: 's3' as const,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
  }
  const creds = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
  let bucket: string
  let backend: TestBackend

  beforeAll(async () => {
    bucket = await freshBucket(testClient())
    backend = await startTestBackend({ bucket })
  })
  afterAll(() => backend.close())

  it('connects, and advises a lifecycle rule for abandoned uploads when it cannot see one', async () => {
    const r = await testConnection({ ...base, bucket, credentials: creds })
    expect(r.ok).toBe(true)
    expect(r.message).toMatch(/Connected to/)
    expect(r.advice.join(' ')).toMatch(/AbortIncompleteMultipartUpload/)
  })

  it('tells a wrong secret, a wrong key and a missing bucket apart from a permission problem', async () => {
    const wrongSecret = await testConnection({
      ...base,
      bucket,
      credentials: { ...creds, secretAccessKey: 'nope' },
    })
    expect(wrongSecret.ok).toBe(false)
    expect(wrongSecret.message).toMatch(/secret access key does not match the access key ID/)
    const wrongKey = await testConnection({
      ...base,
      bucket,
      credentials: { ...creds, accessKeyId: 'who:me' },
    })
    // Swift's tempauth answers an unknown key like a wrong secret (AWS says InvalidAccessKeyId).
    expect(wrongKey.message).toMatch(
      /access key is not recognised|secret access key does not match/,
    )
    const missing = await testConnection({
      ...base,
      bucket: 'upreel-no-such-bucket',
      credentials: creds,
    })
    expect(missing.message).toMatch(/bucket does not exist/)
    const down = await testConnection({
      ...base,
      endpoint: 'http://127.0.0.1:9',
      bucket,
      credentials: creds,
    })
    expect(down.ok).toBe(false)
    expect(down.message).toMatch(/not answering|network/)
  })

  it('backend mode: checks the sign-in, not only that the server is up', async () => {
    expect(
      await testConnection({ mode: 'backend', url: backend.url, headers: backend.auth('alice') }),
    ).toMatchObject({
      ok: true,
    })
    const wrong = await testConnection({
      mode: 'backend',
      url: backend.url,
      headers: { Authorization: 'Bearer wrong-token-wrong-token' },
    })
    expect(wrong).toMatchObject({
      ok: false,
      message: expect.stringMatching(/did not accept your sign-in/),
    })
    const none = await testConnection({ mode: 'backend', url: backend.url })
    expect(none.ok).toBe(false)
    const notABackend = await testConnection({ mode: 'backend', url: s3.endpoint })
    expect(notABackend.ok).toBe(false)
    const unreachable = await testConnection({ mode: 'backend', url: 'http://127.0.0.1:9' })
    expect(unreachable.message).toMatch(/cannot be reached/)
  })
})
