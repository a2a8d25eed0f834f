/**
 * Which backend answers may mean "the upload is gone": only Companion's generic 500 (and, in its
 * development mode, a named NoSuchUpload). A gateway's 502/503/504 while a backend restarts, the
 * reference backend's 502, or any other 500 are plain retryable errors.
 */
import { describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import {
  explainBackendError,
  isCompanionGenericError,
} from '../../src/main/core/backend/backend-errors'

const ctx = (operation: string) => ({ operation, host: 'up.example' })
const generic = { message: 'Something went wrong' }

describe('backend 5xx answers', () => {
  it('Companion’s generic 500 on ListParts is ListPartsFailed (maybe gone), retryable', () => {
    expect(isCompanionGenericError(500, generic)).toBe(true)
    expect(explainBackendError(500, generic, ctx('ListParts'))).toMatchObject({
      code: 'ListPartsFailed',
      retryable: true,
      status: 500,
    })
  })

  it('Companion’s generic 500 elsewhere is a storage problem, retryable', () => {
    expect(explainBackendError(500, generic, ctx('CompleteMultipartUpload'))).toMatchObject({
      code: 'BackendStorageError',
      retryable: true,
    })
  })

  it.each([
    [502, generic],
    [503, generic],
    [504, undefined],
    [500, { error: 'database is down' }],
    [500, undefined],
    [502, { error: 'The storage did not complete ListParts; try again in a moment.' }],
  ])('%i %j on ListParts is a plain BackendError, never "maybe gone"', (status, body) => {
    expect(isCompanionGenericError(status, body)).toBe(false)
    const e = explainBackendError(status, body, ctx('ListParts'))
    expect(e).toMatchObject({ code: 'BackendError', retryable: true, status })
    expect(e.message).toMatch(new RegExp(`HTTP ${status}`))
  })

  it('Companion’s development-mode 500 naming NoSuchUpload is NoSuchUpload', () => {
    const body = {
      message: 'The specified multipart upload does not exist.',
      error: { name: 'NoSuchUpload', Code: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } },
    }
    expect(explainBackendError(500, body, ctx('ListParts'))).toMatchObject({
      code: 'NoSuchUpload',
      retryable: false,
    })
    // A create has no upload to be gone.
    expect(explainBackendError(500, body, ctx('CreateMultipartUpload')).code).toBe('BackendError')
  })
})

describe('CompanionStore.abort after a 5xx', () => {
  const target = { key: 'k', uploadId: 'u' }
  function backend(reply: (method: string) => { status: number; body: unknown }) {
    const seen: string[] = []
    const fetchFn = (async (_: unknown, init?: RequestInit) => {
      const method = init?.method ?? 'GET'
      seen.push(method)
      const r = reply(method)
      return new Response(JSON.stringify(r.body), {
        status: r.status,
        headers: { 'Content-Type': 'application/json' },
      })
    }) as typeof fetch
    return { seen, store: createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn }) }
  }

  it('a gateway 502 on the abort and on the listing is not taken as "gone": retryable', async () => {
    const { seen, store } = backend(() => ({ status: 502, body: { message: 'Bad Gateway' } }))
    await expect(store.abort(target)).rejects.toMatchObject({
      code: 'BackendError',
      retryable: true,
      operation: 'AbortMultipartUpload',
    })
    expect(seen).toEqual(['DELETE', 'GET'])
  })

  it('Companion’s generic 500 on both still is (nothing else can tell)', async () => {
    const { store } = backend(() => ({ status: 500, body: generic }))
    await expect(store.abort(target)).resolves.toBeUndefined()
  })
})
