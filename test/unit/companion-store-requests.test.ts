/**
 * What CompanionStore (and the processing hook) refuse to send, and what they refuse to follow:
 * headers fetch cannot send (said by name, final instead of a wait "for the network"), part URLs
 * signed with flexible checksums (Companion without WHEN_REQUIRED), and redirects, checked with
 * the real fetch against real local HTTP servers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { postProcessingHook } from '../../src/main/core/backend/processing-hook'
import { UploadError } from '../../src/main/core/errors'

const target = { key: 'users/a/clip.mp4', uploadId: 'U1' }

async function rejection(p: Promise<unknown>): Promise<UploadError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(UploadError)
  return e as UploadError
}

describe('headers that cannot be sent', () => {
  it.each([
    ['a space in the name', { 'X Token': 'abc' }, /header name "X Token"/],
    ['a colon in the name', { 'Authorization:': 'Bearer t' }, /header name "Authorization:"/],
    ['a character above Latin-1 in the value', { Authorization: 'Bearer t€k' }, /"Authorization"/],
    ['a line break in the value', { 'X-Token': 'a\r\nX-Evil: 1' }, /"X-Token"/],
  ])('%s: the store refuses them up front, naming the header', (_, headers, named) => {
    let e: unknown
    try {
      createCompanionStore({ baseUrl: 'http://b.test', headers })
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(UploadError)
    expect(e).toMatchObject({ code: 'BadHeader', retryable: false })
    expect((e as Error).message).toMatch(named)
    // The value is never repeated: it is usually a secret.
    for (const v of Object.values(headers)) expect((e as Error).message).not.toContain(v)
  })

  it('Latin-1 values (a token with é) are sent as they are', async () => {
    let seen: string | undefined
    const fetchFn = (async (_: unknown, init?: RequestInit) => {
      seen = new Headers(init!.headers).get('x-name')!
      return new Response('[]', { status: 200 })
    }) as typeof fetch
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      headers: { 'X-Name': 'José' },
      fetch: fetchFn,
    })
    await store.listParts(target)
    expect(seen).toBe('José')
  })

  it('a headers function (the app’s cookies) that yields a bad one: final, fetch never called', async () => {
    let calls = 0
    const fetchFn = (async () => {
      calls++
      return new Response('[]')
    }) as typeof fetch
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      headers: () => ({ Cookie: 'sid=“curly”' }),
      fetch: fetchFn,
    })
    const e = await rejection(store.listParts(target))
    expect(e).toMatchObject({ code: 'BadHeader', retryable: false })
    expect(e.message).toMatch(/"Cookie"/)
    expect(calls).toBe(0)
  })

  it('fetch refusing to build a request (a TypeError that is not "fetch failed") is final, not a network wait', async () => {
    const fetchFn = (() =>
      Promise.reject(
        new TypeError('Headers.append: "secret-value" is an invalid header value.'),
      )) as typeof fetch
    const store = createCompanionStore({ baseUrl: 'http://b.test', fetch: fetchFn })
    const e = await rejection(store.listParts(target))
    expect(e).toMatchObject({ code: 'BackendRequestInvalid', retryable: false })
    expect(e.detail).not.toContain('secret-value')
  })

  it('a real network failure ("fetch failed") is still a retryable NetworkError', async () => {
    const store = createCompanionStore({ baseUrl: 'http://127.0.0.1:9', requestTimeoutMs: 5000 })
    const e = await rejection(store.listParts(target))
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true })
  })

  it('the processing hook says so too, without trying', async () => {
    let calls = 0
    const r = await postProcessingHook(
      'http://hook.test/done',
      { key: 'k', bucket: 'b', size: 1, metadata: {} },
      {
        headers: { Authorization: 'Bearer t€k' },
        fetch: (async () => {
          calls++
          return new Response('')
        }) as typeof fetch,
      },
    )
    expect(r.ok).toBe(false)
    expect(r.ok ? '' : r.message).toMatch(
      /^The upload is complete, but the value of the header "Authorization"/,
    )
    expect(calls).toBe(0)
  })
})

describe('part URLs signed with flexible checksums (Companion without WHEN_REQUIRED)', () => {
  // What Companion hands out with the SDK's default WHEN_SUPPORTED (companion-protocol.md, Gotcha 1).
  const checksummed = (n: number) =>
    `http://s3.test/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Date=20261121T124612Z&X-Amz-Expires=800&X-Amz-Signature=s&X-Amz-SignedHeaders=host&partNumber=${n}&uploadId=U1&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32&x-id=UploadPart`

  function backend(batch: boolean) {
    return (async (input: string | URL | Request) => {
      const url = new URL(String(input))
      if (url.pathname.endsWith('/batch')) {
        if (!batch) return new Response('{"error":"no batch"}', { status: 400 })
        const nums = url.searchParams.get('partNumbers')!.split(',')
        return Response.json({
          presignedUrls: Object.fromEntries(nums.map((n) => [n, checksummed(+n)])),
        })
      }
      return Response.json({ url: checksummed(1), expires: 800 })
    }) as typeof fetch
  }

  it.each([
    ['one part signed alone', false],
    ['parts signed in a batch', true],
  ])('%s: refused at once, in words for whoever runs the backend', async (_, batch) => {
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      fetch: backend(batch),
      signWindow: batch ? 4 : 1,
    })
    const e = await rejection(store.signPart(target, 1))
    expect(e).toMatchObject({ code: 'BackendChecksumUrls', retryable: false, partNumber: 1 })
    expect(e.message).toMatch(/x-amz-checksum-crc32/)
    expect(e.message).toMatch(/AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED/)
  })

  it('a URL with only X-Amz-*, partNumber, uploadId and x-id is fine', async () => {
    const store = createCompanionStore({
      baseUrl: 'http://b.test',
      signWindow: 1,
      fetch: (async () =>
        Response.json({
          url: checksummed(1).replace(
            /&x-amz-checksum-crc32=[^&]*&x-amz-sdk-checksum-algorithm=CRC32/,
            '',
          ),
          expires: 800,
        })) as typeof fetch,
    })
    const signed = await store.signPart(target, 1)
    expect(signed.url).not.toMatch(/checksum/)
  })
})

describe('redirects are not followed (real fetch, real servers)', () => {
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  afterEach(async () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
  })

  async function listen(
    handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
  ) {
    const server = createServer(handler)
    server.on('connection', (s) => sockets.add(s))
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  /** Where the redirect points: it answers like a backend, and counts who came. */
  async function elsewhere() {
    const seen: { method: string; authorization?: string }[] = []
    const url = await listen((req, res) => {
      seen.push({ method: req.method!, authorization: req.headers.authorization })
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(req.method === 'POST' ? '{"key":"k","uploadId":"u","bucket":"b"}' : '[]')
      })
    })
    return { url, seen }
  }

  it.each([
    [302, 'listParts'],
    [307, 'createMultipart'],
    [308, 'complete'],
  ])(
    'a backend answering %i to %s: BackendRedirect naming the new address; nothing reaches it',
    async (status, op) => {
      const other = await elsewhere()
      const base = await listen((req, res) => {
        req.resume()
        res.writeHead(status, { location: `${other.url}${req.url}` })
        res.end()
      })
      const store = createCompanionStore({
        baseUrl: base,
        headers: { Authorization: 'Bearer secret' },
      })
      const call =
        op === 'listParts'
          ? store.listParts(target)
          : op === 'createMultipart'
            ? store.createMultipart({
                key: 'k',
                filename: 'a.mp4',
                contentType: 'video/mp4',
                metadata: {},
                size: 1,
              })
            : store.complete(target, [{ partNumber: 1, etag: 'e' }])
      const e = await rejection(call)
      expect(e).toMatchObject({ code: 'BackendRedirect', retryable: false, status })
      // What the creator reads:
      expect(e.message).toMatch(
        new RegExp(
          `^The upload server at 127\\.0\\.0\\.1:\\d+ redirects elsewhere \\(${other.url}/s3/multipart`,
        ),
      )
      expect(e.message).toMatch(/Use the final address as the backend URL\.$/)
      expect(other.seen).toEqual([])
    },
  )

  it('the processing hook does not follow one either: a plain notice, nothing reaches the new address', async () => {
    const other = await elsewhere()
    const hook = await listen((req, res) => {
      req.resume()
      res.writeHead(302, { location: `${other.url}/hook` })
      res.end()
    })
    const r = await postProcessingHook(
      `${hook}/done`,
      { key: 'k', bucket: 'b', size: 1, metadata: {} },
      { headers: { Authorization: 'Bearer secret' }, attempts: 3, baseDelayMs: 1 },
    )
    expect(r).toMatchObject({ ok: false, status: 302 })
    expect(r.ok ? '' : r.message).toMatch(
      new RegExp(
        `redirects elsewhere \\(${other.url}/hook\\).*Use the final address as the hook URL`,
      ),
    )
    expect(other.seen).toEqual([])
  })
})
