import { describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import { classify, countFailure, DEFAULT_RETRY, retryDelay } from '../../src/main/core/retry'
import { explainS3Error, networkError } from '../../src/main/core/s3/explain'

const opts = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 }

describe('retry policy', () => {
  it('grows exponentially with equal jitter inside [cap/2, cap], capped', () => {
    expect(retryDelay(1, opts, () => 0)).toBe(50)
    expect(retryDelay(1, opts, () => 1)).toBe(100)
    expect(retryDelay(3, opts, () => 1)).toBe(400)
    expect(retryDelay(10, opts, () => 1)).toBe(1000)
    expect(retryDelay(10, opts, () => 0)).toBe(500)
  })

  it('retries what can succeed later and fails what cannot', () => {
    const retryable = [
      'SlowDown',
      'InternalError',
      'ServiceUnavailable',
      'RequestTimeout',
      'RequestExpired',
      'BadDigest',
    ]
    for (const code of retryable) {
      expect(
        classify(explainS3Error(code, { operation: 'UploadPart', status: 503 }), 1, opts),
        code,
      ).toBe('retry')
    }
    expect(
      classify(explainS3Error(undefined, { operation: 'UploadPart', status: 502 }), 1, opts),
    ).toBe('retry')
    expect(
      classify(explainS3Error(undefined, { operation: 'UploadPart', status: 429 }), 1, opts),
    ).toBe('retry')
    for (const code of [
      'AccessDenied',
      'NoSuchBucket',
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'RequestTimeTooSkewed',
    ]) {
      expect(
        classify(explainS3Error(code, { operation: 'UploadPart', status: 403 }), 1, opts),
        code,
      ).toBe('fail')
    }
  })

  it('gives up on a retryable server error after maxAttempts', () => {
    const e = explainS3Error('SlowDown', { operation: 'UploadPart', status: 503 })
    expect(classify(e, 3, opts)).toBe('retry')
    expect(classify(e, 4, opts)).toBe('fail')
  })

  it('never fails the file for a dead network: it waits for it instead', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    expect(classify(reset, 1, opts)).toBe('retry')
    expect(classify(reset, 99, opts)).toBe('wait-network')
    expect(classify(networkError('UploadPart', reset), 99, opts)).toBe('wait-network')
  })

  it('explains each credential and clock error in plain words', () => {
    const msg = (code: string) => explainS3Error(code, { operation: 'PutObject' }).message
    expect(msg('AccessDenied')).toMatch(/not allowed to upload/)
    expect(msg('NoSuchBucket')).toMatch(/bucket does not exist/)
    expect(msg('InvalidAccessKeyId')).toMatch(/access key is not recognised/)
    expect(msg('SignatureDoesNotMatch')).toMatch(/secret access key does not match/)
    expect(msg('RequestTimeTooSkewed')).toMatch(/clock/)
  })

  it('keeps operation, part, status and request id for the engineer', () => {
    const e = explainS3Error('SlowDown', {
      operation: 'UploadPart',
      partNumber: 3,
      status: 503,
      requestId: 'r-1',
    })
    expect(e).toBeInstanceOf(UploadError)
    expect(e.detail).toBe('UploadPart part 3: HTTP 503 SlowDown: request id r-1')
  })

  it('uses a default budget of half a minute to a minute, whatever the draws', () => {
    const total = (draw: number) => {
      let sum = 0
      for (let a = 1; a < DEFAULT_RETRY.maxAttempts; a++)
        sum += retryDelay(a, DEFAULT_RETRY, () => draw)
      return sum
    }
    // The README's figures: 26 to 52 s between the first and the last attempt.
    expect(Math.round(total(0) / 1000)).toBe(26)
    expect(Math.round(total(1) / 1000)).toBe(52)
  })

  it('resets the count whenever an attempt gets further than every earlier one', () => {
    let c = { attempts: 0, best: 0 }
    // Refused before any byte moved: counts.
    c = countFailure(c, 0)
    expect(c).toEqual({ attempts: 1, best: 0 })
    // Further each time: a new count each time, never reaching the budget.
    for (const sent of [256, 512, 768, 1024]) {
      c = countFailure(c, sent)
      expect(c.attempts).toBe(1)
    }
    // The whole body, then a 500, again and again: no further than before, so it counts up.
    c = countFailure(c, 2048)
    expect(c.attempts).toBe(1)
    c = countFailure(c, 2048)
    c = countFailure(c, 2048)
    expect(c).toEqual({ attempts: 3, best: 2048 })
    expect(
      classify(
        explainS3Error('InternalError', { operation: 'UploadPart', status: 500 }),
        c.attempts,
        { ...opts, maxAttempts: 3 },
      ),
    ).toBe('fail')
    // Less than the best so far counts too.
    expect(countFailure({ attempts: 2, best: 2048 }, 1024)).toEqual({ attempts: 3, best: 2048 })
  })
})
