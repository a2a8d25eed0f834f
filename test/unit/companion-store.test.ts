/**
 * CompanionStore's protocol decisions with a scripted backend (a fake fetch): URL encoding,
 * signing window and coalescing, one use per URL, expiry and age, Companion's ambiguous 500s,
 * and error wording.
 */
import { describe, expect, it } from 'vitest'
import { explainBackendError } from '../../src/main/core/backend/backend-errors'
import { createCompanionStore, urlExpiry } from '../../src/main/core/backend/companion-store'
import { UploadError } from '../../src/main/core/errors'

interface Seen {
  method: string
  url: URL
  headers: Record<string, string>
  body?: unknown
}

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> }

/** A fetch that records each request and answers with `reply(request)`. */
function fakeBackend(reply: (r: Seen) => Reply | Promise<Reply>) {
  const seen: Seen[] = []
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const r: Seen = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    }
    seen.push(r)
    const out = await reply(r)
    return new Response(out.body === undefined ? '' : JSON.stringify(out.body), {
      status: out.status ?? 200,
      headers: { 'Content-Type': 'application/json', ...out.headers },
    })
  }) as typeof fetch
  return { seen, fetchFn }
}

/** A SigV4-looking URL signed "now" (by the clock given) for `seconds`. */
function presigned(part: number, signedAtMs: number, seconds = 900, tag = '') {
  const d = new Date(signedAtMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  return `http://s3.test/b/k?X-Amz-Date=${d}&X-Amz-Expires=${seconds}&X-Amz-Signature=sig${part}${tag}&partNumber=${part}`
}

/** Answers sign and batch requests like Companion does (batch without `expires`). */
function signer(clock: { now: number }, seconds = 900) {
  let n = 0
  return (r: Seen): Reply => {
    const segs = r.url.pathname.split('/')
    if (segs[4] === 'batch') {
      const nums = r.url.searchParams.get('partNumbers')!.split(',').map(Number)
      return {
        body: {
          presignedUrls: Object.fromEntries(
            nums.map((p) => [p, presigned(p, clock.now, seconds, `-${++n}`)]),
          ),
        },
      }
    }
    const part = Number(segs[4])
    return { body: { url: presigned(part, clock.now, seconds, `-${++n}`), expires: seconds } }
  }
}

const target = { key: 'users/a/1/clip é &+#%.mp4', uploadId: 'a/b+c=' }
const routeOf = (s: Seen) => `${s.method} ${s.url.pathname.split('/').slice(4).join('/') || '-'}`

describe('CompanionStore requests', () => {
  it('URL-encodes the key in ?key= and the uploadId in the path, and sends the configured headers', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const { seen, fetchFn } = fakeBackend(signer(clock))
    const store = createCompanionStore({
      baseUrl: 'https://up.example/companion/',
      headers: { Authorization: 'Bearer t' },
      fetch: fetchFn,
      signWindow: 1,
      now: () => clock.now,
    })
    await store.signPart(target, 7)
    const raw = seen[0]!.url.href
    expect(raw).toBe(
      'https://up.example/companion/s3/multipart/a%2Fb%2Bc%3D/7?key=users%2Fa%2F1%2Fclip%20%C3%A9%20%26%2B%23%25.mp4',
    )
    expect(seen[0]!.url.searchParams.get('key')).toBe(target.key)
    expect(seen[0]!.headers.Authorization).toBe('Bearer t')
    expect(store.destinationId).toBe('companion:https://up.example/companion')
  })

  it('asks a headers function on every request (fresh cookies or token)', async () => {
    let calls = 0
    const { seen, fetchFn } = fakeBackend(() => ({ body: [] }))
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      headers: async () => ({ Cookie: `sid=${++calls}` }),
    })
    await store.listParts(target)
    await store.listParts(target)
    expect(seen.map((s) => s.headers.Cookie)).toEqual(['sid=1', 'sid=2'])
  })

  it('create sends {filename, type, metadata, size} and returns the backend key', async () => {
    const { seen, fetchFn } = fakeBackend(() => ({
      body: { key: 'backend/chose/this.mp4', uploadId: 'U1', bucket: 'vids' },
    }))
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    const created = await store.createMultipart({
      key: 'engine/wanted.mp4',
      filename: 'this.mp4',
      contentType: 'video/mp4',
      metadata: { name: 'this.mp4' },
      size: 123,
    })
    expect(created).toEqual({ key: 'backend/chose/this.mp4', uploadId: 'U1', bucket: 'vids' })
    expect(seen[0]!.body).toEqual({
      filename: 'this.mp4',
      type: 'video/mp4',
      metadata: { name: 'this.mp4' },
      size: 123,
    })
  })

  it('maps listed parts to RemotePart (ETag unquoted, lower-case) and completes with sorted quoted ETags', async () => {
    const { seen, fetchFn } = fakeBackend((r) =>
      r.method === 'GET'
        ? {
            body: [
              {
                PartNumber: 1,
                ETag: '"ABCDEF0123456789ABCDEF0123456789"',
                Size: 5242880,
                LastModified: 'x',
              },
              { PartNumber: 2, ETag: '"00000000000000000000000000000001"', Size: 7 },
            ],
          }
        : { body: { location: 'http://s3/b/k', key: target.key, bucket: 'b' } },
    )
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    expect(await store.listParts(target)).toEqual([
      { partNumber: 1, etag: 'abcdef0123456789abcdef0123456789', size: 5242880 },
      { partNumber: 2, etag: '00000000000000000000000000000001', size: 7 },
    ])
    const done = await store.complete(target, [
      { partNumber: 2, etag: 'bb' },
      { partNumber: 1, etag: 'aa' },
    ])
    expect(seen[1]!.url.pathname).toBe('/s3/multipart/a%2Fb%2Bc%3D/complete')
    expect(seen[1]!.body).toEqual({
      parts: [
        { PartNumber: 1, ETag: '"aa"' },
        { PartNumber: 2, ETag: '"bb"' },
      ],
    })
    expect(done).toEqual({
      key: target.key,
      bucket: 'b',
      location: 'http://s3/b/k',
      etag: undefined,
    })
  })
})

describe('CompanionStore signing', () => {
  it('parts signed together share one batch request; the next window is one more', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const { seen, fetchFn } = fakeBackend(signer(clock))
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
    })
    const urls = await Promise.all([1, 2, 3, 4].map((n) => store.signPart(target, n)))
    expect(seen.map((s) => s.url.searchParams.get('partNumbers'))).toEqual(['1,2,3,4'])
    expect(new Set(urls.map((u) => u.url)).size).toBe(4)
    urls.forEach((u, i) =>
      expect(new URL(u.url).searchParams.get('partNumber')).toBe(String(i + 1)),
    )
    await store.signPart(target, 5)
    expect(seen.map((s) => s.url.searchParams.get('partNumbers'))).toEqual(['1,2,3,4', '5,6,7,8'])
  })

  it('never hands the same URL out twice: a retry of a part gets a fresh signature', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const { seen, fetchFn } = fakeBackend(signer(clock))
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
    })
    const first = await store.signPart(target, 1)
    const again = await store.signPart(target, 1)
    expect(again.url).not.toBe(first.url)
    // The retry signs that part alone (2..4 are already waiting), on the route that says `expires`.
    expect(seen.map(routeOf)).toEqual(['GET batch', 'GET 1'])
  })

  it('drops a URL signed ahead once it is older than maxUrlAgeMs (sleep, long pause)', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const { seen, fetchFn } = fakeBackend(signer(clock))
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
      maxUrlAgeMs: 60_000,
    })
    await store.signPart(target, 1)
    clock.now += 59_000
    await store.signPart(target, 2)
    expect(seen).toHaveLength(1)
    clock.now += 2_000
    await store.signPart(target, 3)
    // 3 and 4 were signed 61 s ago: both are dropped and signed again with the next window.
    expect(seen.map((s) => s.url.searchParams.get('partNumbers'))).toEqual(['1,2,3,4', '3,4,5,6'])
  })

  it('drops a URL signed ahead that is within the safety margin of its expiry', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const { seen, fetchFn } = fakeBackend(signer(clock, 8))
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
    })
    const one = await store.signPart(target, 1)
    expect(one.expiresAt).toBe(clock.now + 8000)
    // Margin = min(60 s, lifetime / 4) = 2 s: at 5.9 s part 2 is still usable, at 6 s not.
    clock.now += 5_900
    await store.signPart(target, 2)
    expect(seen).toHaveLength(1)
    clock.now += 100
    await store.signPart(target, 3)
    expect(seen.map((s) => s.url.searchParams.get('partNumbers'))).toEqual(['1,2,3,4', '3,4,5,6'])
  })

  it('a refused batch (4xx) falls back to signing the part alone, and stops batching', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const sign = signer(clock)
    const { seen, fetchFn } = fakeBackend((r) =>
      r.url.pathname.endsWith('/batch')
        ? { status: 413, body: { error: 'Part 3 is past the limit' } }
        : sign(r),
    )
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
    })
    await store.signPart(target, 1)
    await store.signPart(target, 2)
    expect(seen.map(routeOf)).toEqual(['GET batch', 'GET 1', 'GET 2'])
  })

  it('a batch that fails for auth is not retried one by one', async () => {
    const { seen, fetchFn } = fakeBackend(() => ({ status: 401, body: { error: 'no' } }))
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await expect(store.signPart(target, 1)).rejects.toMatchObject({ code: 'Unauthorized' })
    expect(seen).toHaveLength(1)
  })

  it('a window never reaches past the last part a file of the created size can have', async () => {
    const clock = { now: Date.UTC(2026, 10, 21, 12) }
    const sign = signer(clock)
    const { seen, fetchFn } = fakeBackend((r) =>
      r.method === 'POST' ? { body: { key: 'k', uploadId: 'u', bucket: 'b' } } : sign(r),
    )
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: fetchFn,
      now: () => clock.now,
    })
    const up = await store.createMultipart({
      key: 'k',
      filename: 'f.mp4',
      contentType: 'video/mp4',
      metadata: {},
      size: 10 * 1024 * 1024 + 1,
    })
    await store.signPart(up, 2)
    expect(seen[1]!.url.searchParams.get('partNumbers')).toBe('2,3')
  })
})

describe('urlExpiry', () => {
  const asked = Date.UTC(2026, 10, 21, 12, 0, 0)
  it('counts X-Amz-Expires from when we asked', () => {
    expect(urlExpiry(presigned(1, asked, 900), asked)).toEqual({
      expiresAt: asked + 900_000,
      lifetimeMs: 900_000,
    })
  })
  it('a URL signed earlier than we asked (reused by the backend) expires earlier', () => {
    expect(urlExpiry(presigned(1, asked - 600_000, 900), asked).expiresAt).toBe(asked + 300_000)
  })
  it('a signer clock ahead of ours cannot make the URL live longer', () => {
    expect(urlExpiry(presigned(1, asked + 120_000, 900), asked).expiresAt).toBe(asked + 900_000)
  })
  it('a signer clock far behind ours (dead on arrival by the dates) falls back to the lifetime', () => {
    expect(urlExpiry(presigned(1, asked - 3_600_000, 900), asked).expiresAt).toBe(asked + 900_000)
  })
  it('uses the answer’s `expires` when the URL has no X-Amz-Expires, else 5 minutes', () => {
    expect(urlExpiry('http://s3/b/k?sig=1', asked, 60).expiresAt).toBe(asked + 60_000)
    expect(urlExpiry('http://s3/b/k?sig=1', asked).expiresAt).toBe(asked + 300_000)
  })
})

describe('Companion’s ambiguous answers', () => {
  const generic500 = { status: 500, body: { message: 'Something went wrong' } }

  it('a generic 500 on listParts is ListPartsFailed, retryable', async () => {
    const { fetchFn } = fakeBackend(() => generic500)
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await expect(store.listParts(target)).rejects.toMatchObject({
      code: 'ListPartsFailed',
      retryable: true,
      status: 500,
    })
  })

  it('abort answered 500, then listing fails too: the upload is taken as gone', async () => {
    const { seen, fetchFn } = fakeBackend(() => generic500)
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await store.abort(target)
    expect(seen.map((s) => s.method)).toEqual(['DELETE', 'GET'])
  })

  it('abort answered 500 while listing still works: AbortFailed, retryable', async () => {
    const { fetchFn } = fakeBackend((r) => (r.method === 'DELETE' ? generic500 : { body: [] }))
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await expect(store.abort(target)).rejects.toMatchObject({
      code: 'AbortFailed',
      retryable: true,
    })
  })

  it('abort answered 404 (the reference backend: already gone) resolves without listing', async () => {
    const { seen, fetchFn } = fakeBackend(() => ({ status: 404, body: { error: 'gone' } }))
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await store.abort(target)
    expect(seen).toHaveLength(1)
  })

  it('a redirect is not followed: BackendRedirect names the address to use instead', async () => {
    const { seen, fetchFn } = fakeBackend(() => ({
      status: 301,
      headers: { Location: 'https://b.test/s3/multipart' },
    }))
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    const e = (await store.listParts(target).catch((err: unknown) => err)) as UploadError
    expect(e).toMatchObject({ code: 'BackendRedirect', retryable: false, status: 301 })
    expect(e.message).toContain('https://b.test/s3/multipart')
    expect(seen).toHaveLength(1)
  })

  it('a 200 that is not JSON (a login page on the way) is BackendBadResponse', async () => {
    const fetchFn = (async () =>
      new Response('<html>sign in</html>', { status: 200 })) as typeof fetch
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    await expect(store.listParts(target)).rejects.toMatchObject({ code: 'BackendBadResponse' })
  })

  it('an abort of the caller’s signal rejects with an AbortError, not an UploadError', async () => {
    const fetchFn = ((_: unknown, init?: RequestInit) =>
      new Promise((_, reject) =>
        init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)),
      )) as typeof fetch
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    const ac = new AbortController()
    const p = store.listParts(target, ac.signal)
    ac.abort()
    const e = await p.catch((err: unknown) => err)
    expect(e).not.toBeInstanceOf(UploadError)
    expect((e as Error).name).toBe('AbortError')
  })
})

describe('explainBackendError', () => {
  const ctx = (operation: string) => ({ operation, host: 'up.example' })
  it.each([
    [401, 'CreateMultipartUpload', 'Unauthorized', false, /did not accept your sign-in/],
    [403, 'SignPart', 'Forbidden', false, /does not allow this upload.*“nope”/],
    [404, 'ListParts', 'NoSuchUpload', false, /start again from the beginning/],
    [
      404,
      'CreateMultipartUpload',
      'BackendNotFound',
      false,
      /No upload service answers at up\.example/,
    ],
    [413, 'CreateMultipartUpload', 'TooLarge', false, /file this large: “nope”/],
    [415, 'CreateMultipartUpload', 'TypeNotAllowed', false, /kind of file: “nope”/],
    [400, 'CompleteMultipartUpload', 'BackendRefused', false, /refused the request: “nope”/],
    [429, 'SignPart', 'BackendBusy', true, /busy/],
    [500, 'ListParts', 'BackendError', true, /HTTP 500/],
    [502, 'CompleteMultipartUpload', 'BackendError', true, /HTTP 502/],
  ])('%i on %s → %s', (status, operation, code, retryable, message) => {
    const e = explainBackendError(status, { error: 'nope' }, ctx(operation))
    expect(e).toMatchObject({ code, retryable, status, operation })
    expect(e.message).toMatch(message)
  })

  it('reads Companion’s {message} bodies and the request id, and cuts long messages', () => {
    const e = explainBackendError(
      400,
      { message: 'x'.repeat(1000), requestId: 'r-1' },
      ctx('CreateMultipartUpload'),
    )
    expect(e.requestId).toBe('r-1')
    expect(e.message.length).toBeLessThan(400)
  })
})
