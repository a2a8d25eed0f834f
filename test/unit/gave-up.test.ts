import { describe, expect, it } from 'vitest'
import { explainBackendError } from '../../src/main/core/backend/backend-errors'
import { gaveUp } from '../../src/main/core/engine/file-upload'
import { UploadError } from '../../src/main/core/errors'

describe('gaveUp: the message once the retries are used up', () => {
  it('drops the promise to try again and says Upreel gave up', () => {
    const e = new UploadError({
      code: 'BackendError',
      message: 'The upload server had a problem (HTTP 502); Upreel will try again.',
      retryable: true,
      status: 502,
    })
    const out = gaveUp(e, 8) as UploadError
    expect(out.message).toBe(
      'The upload server had a problem (HTTP 502). Upreel gave up after 8 attempts; press Retry to continue where it stopped.',
    )
    expect(out).toMatchObject({ code: 'BackendError', status: 502 })
  })

  it('drops a longer promise after a full stop too', () => {
    const e = new UploadError({
      code: 'ListPartsFailed',
      message:
        'The upload server could not list the parts already uploaded. Upreel will try again and, if this keeps failing, start this file over.',
      retryable: true,
    })
    expect((gaveUp(e, 3) as UploadError).message).toBe(
      'The upload server could not list the parts already uploaded. Upreel gave up after 3 attempts; press Retry to continue where it stopped.',
    )
  })

  it('keeps a message without such a promise, adding the full stop it lacks', () => {
    const e = new UploadError({
      code: 'NetworkError',
      message: 'The connection was reset',
      retryable: true,
    })
    expect((gaveUp(e, 2) as UploadError).message).toBe(
      'The connection was reset. Upreel gave up after 2 attempts; press Retry to continue where it stopped.',
    )
  })

  it('leaves final errors alone', () => {
    const e = new UploadError({ code: 'AccessDenied', message: 'No.', retryable: false })
    expect(gaveUp(e, 1)).toBe(e)
  })

  it('no message the backend explainer retries with reads as a promise after giving up', () => {
    const bodies = [{}, { message: 'Something went wrong' }, { error: 'busy' }]
    let checked = 0
    for (const status of [500, 502, 503, 504])
      for (const body of bodies)
        for (const operation of ['ListParts', 'SignPart', 'CompleteMultipartUpload']) {
          const explained = explainBackendError(status, body, {
            operation,
            host: 'upload.example.com',
          })
          if (!explained.retryable) continue
          checked++
          expect((gaveUp(explained, 8) as UploadError).message).not.toMatch(/will try again/)
        }
    expect(checked).toBeGreaterThan(0)
  })
})
