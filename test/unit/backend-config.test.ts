import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { configFromEnv, resolveConfig, tokenHash } from '../../src/backend/config'

const base = { s3: { bucket: 'videos' }, tokens: { 'a-long-enough-token-1': 'alice' } }

describe('resolveConfig', () => {
  it('fills the documented defaults', () => {
    const c = resolveConfig(base)
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 3020,
      keyTemplate: 'users/{userId}/{uuid}/{filename}',
      allowedContentTypes: ['video/*', 'image/jpeg'],
      maxFileSize: 50 * 1024 ** 3,
      minPartSize: 5 * 1024 * 1024,
      urlExpiresSeconds: 900,
      corsOrigins: ['*'],
      finishedRetentionDays: 30,
    })
    expect(c.s3.region).toBe('us-east-1')
  })

  it.each([
    [{ ...base, s3: { bucket: '' } }, /bucket/],
    [{ ...base, tokens: {} }, /at least one token/],
    [{ ...base, tokens: { short: 'alice' } }, /shorter than 16/],
    [{ ...base, tokens: { 'sha256:abc': 'alice' } }, /64 hex/],
    [{ ...base, tokens: { 'a-long-enough-token-1': '../root' } }, /user id/],
    [{ ...base, keyTemplate: '{uuid}/{filename}' }, /\{userId\}/],
    [{ ...base, urlExpiresSeconds: 0 }, /urlExpiresSeconds/],
    [{ ...base, urlExpiresSeconds: 604_801 }, /604800/],
    [{ ...base, maxFileSize: -1 }, /maxFileSize/],
    [{ ...base, finishedRetentionDays: 0 }, /finishedRetentionDays/],
  ])('refuses a bad setting (%#)', (input, message) => {
    expect(() => resolveConfig(input)).toThrow(message)
  })

  it('accepts tokens stored as sha256 hashes', () => {
    const hash = tokenHash('the-real-secret-token')
    expect(() => resolveConfig({ ...base, tokens: { [`sha256:${hash}`]: 'alice' } })).not.toThrow()
  })
})

describe('configFromEnv', () => {
  let dir: string | undefined
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('reads the JSON file and lets variables override it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'upreel-cfg-'))
    const file = join(dir, 'backend.json')
    await writeFile(
      file,
      JSON.stringify({
        port: 4000,
        s3: { bucket: 'from-file', region: 'eu-west-1' },
        tokens: { 'file-token-1234567890': 'carol' },
        maxFileSize: 1000,
      }),
    )
    const input = configFromEnv({
      UPREEL_BACKEND_CONFIG: file,
      UPREEL_BACKEND_PORT: '4001',
      UPREEL_BACKEND_TOKENS: 'tok-aaaaaaaaaaaaaaaa=alice,tok-bbbbbbbbbbbbbbbb=bob',
      UPREEL_BACKEND_CONTENT_TYPES: 'video/mp4, image/jpeg',
      UPREEL_BACKEND_URL_EXPIRES: '120',
      UPREEL_BACKEND_RETENTION_DAYS: '7',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
    })
    const c = resolveConfig(input)
    expect(c.port).toBe(4001)
    expect(c.s3).toMatchObject({
      bucket: 'from-file',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    })
    expect(c.tokens).toEqual({ 'tok-aaaaaaaaaaaaaaaa': 'alice', 'tok-bbbbbbbbbbbbbbbb': 'bob' })
    expect(c.allowedContentTypes).toEqual(['video/mp4', 'image/jpeg'])
    expect(c.urlExpiresSeconds).toBe(120)
    expect(c.finishedRetentionDays).toBe(7)
    expect(c.maxFileSize).toBe(1000)
  })

  it('refuses malformed numbers and token lists', () => {
    expect(() => configFromEnv({ UPREEL_BACKEND_PORT: '30x' })).toThrow(/whole number/)
    expect(() => configFromEnv({ UPREEL_BACKEND_TOKENS: 'no-equals-sign' })).toThrow(/token=user/)
  })
})
