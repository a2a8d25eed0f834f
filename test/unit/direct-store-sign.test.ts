/**
 * Direct mode's part URLs are signed with the server's time as the client learnt it (the SDK's
 * systemClockOffset), not the raw system clock. Presigning is offline: no server is needed.
 */
import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../src/main/core/s3/client'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'

function amzDate(url: string): number {
  const v = new URL(url).searchParams.get('X-Amz-Date')!
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v)!
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

function store() {
  const config = {
    bucket: 'b',
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  }
  return new DirectS3Store(config, createS3Client(config))
}

describe('DirectS3Store.signPart', () => {
  it.each([
    ['3 hours behind the server', 3 * 3600_000],
    ['2 days ahead of the server', -2 * 86400_000],
  ])(
    'a system clock %s: X-Amz-Date is the corrected time once the offset is known',
    async (_, offset) => {
      const s = store()
      // What the SDK sets after a RequestTimeTooSkewed answer (see DirectS3Store.call).
      s.client.config.systemClockOffset = offset
      const before = Date.now()
      const { url } = await s.signPart({ key: 'videos/a.mp4', uploadId: 'u1' }, 1)
      const after = Date.now()
      const signedAt = amzDate(url)
      // X-Amz-Date has whole seconds.
      expect(signedAt).toBeGreaterThanOrEqual(Math.floor((before + offset) / 1000) * 1000)
      expect(signedAt).toBeLessThanOrEqual(after + offset)
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600')
      s.destroy()
    },
  )

  it('without an offset, the system clock', async () => {
    const s = store()
    const before = Date.now()
    const { url } = await s.signPart({ key: 'videos/a.mp4', uploadId: 'u1' }, 2)
    expect(amzDate(url)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(amzDate(url)).toBeLessThanOrEqual(Date.now())
    s.destroy()
  })
})
