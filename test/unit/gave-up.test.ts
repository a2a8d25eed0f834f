/**
 * The message a file fails with once a retryable error has used up its attempts. Retryable
 * messages say only what happened (while Upreel retries, the row's own "Retrying…" notice says
 * so), and gaveUp adds the ending: so no failed file reads "…sending it again. Upreel gave up…".
 * Checked over every retryable error the S3 explainer, the network mapping, the backend
 * explainer, CompanionStore and the part PUT can make.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { explainBackendError } from '../../src/main/core/backend/backend-errors'
import { createCompanionStore } from '../../src/main/core/backend/companion-store'
import { gaveUp } from '../../src/main/core/engine/file-upload'
import { UploadError } from '../../src/main/core/errors'
import { putPart } from '../../src/main/core/http/put-part'
import { explainS3Error, networkError } from '../../src/main/core/s3/explain'

const ENDING =
  /^(.*[.!?]) Upreel gave up after (\d+) attempts; press Retry to continue where it stopped\.$/s
/** Words that promise another try (or say one is under way). */
const PROMISE = /\bagain\b|\bretr(y|ying|ies)\b|\bshortly\b|keep trying|\bwill\b|when it is back/i

const target = { key: 'users/a/clip.mp4', uploadId: 'U1' }

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
}

/** A fetch answering `reply` for each request (a scripted upload server). */
function scripted(
  reply: (method: string, url: URL) => { status: number; body?: unknown },
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const { status, body } = reply(init?.method ?? 'GET', new URL(String(input)))
    return new Response(body === undefined ? '' : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json' },
    })
  }) as typeof fetch
}

let server: Server
let base: string
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upreel-gaveup-'))
  // /silent never answers (an idle PUT); /wrong-etag stores the part under an ETag that is not
  // its MD5 (a storage that kept other bytes).
  server = createServer((req, res) => {
    req.resume()
    if (req.url?.startsWith('/silent')) return
    req.on('end', () => res.writeHead(200, { etag: `"${'0'.repeat(32)}"` }).end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  await rm(dir, { recursive: true, force: true })
})

/** Every retryable error the code that talks to storage and upload servers can make. */
async function retryableErrors(): Promise<UploadError[]> {
  const out: unknown[] = []
  const s3Codes = [
    'SlowDown',
    'ServiceUnavailable',
    'InternalError',
    'RequestTimeout',
    'RequestExpired',
    'BadDigest',
    'SomethingNew',
    undefined,
  ]
  for (const code of s3Codes)
    for (const status of [undefined, 408, 429, 500, 503])
      out.push(explainS3Error(code, { operation: 'UploadPart', partNumber: 2, status }))
  for (const cause of [{ code: 'ECONNREFUSED' }, { code: 'ECONNRESET' }, new Error('x')])
    out.push(networkError('UploadPart', cause, 1))

  const bodies = [{}, { message: 'Something went wrong' }, { error: 'busy' }, 'oops']
  for (const status of [400, 404, 408, 425, 429, 500, 501, 502, 503, 504])
    for (const body of bodies)
      for (const operation of ['ListParts', 'SignPart', 'CompleteMultipartUpload', 'Create'])
        out.push(explainBackendError(status, body, { operation, host: 'upload.example.com' }))

  // CompanionStore: no answer, no answer in time, a cancel the server could not do.
  const unreachable = createCompanionStore({
    baseUrl: 'http://b.test',
    headers: {},
    fetch: (async () => {
      throw new TypeError('fetch failed')
    }) as typeof fetch,
  })
  out.push(await rejection(unreachable.listParts(target)))
  const slow = createCompanionStore({
    baseUrl: 'http://b.test',
    headers: {},
    requestTimeoutMs: 20,
    fetch: ((_: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) =>
        init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)),
      )) as typeof fetch,
  })
  out.push(await rejection(slow.listParts(target)))
  const stuck = createCompanionStore({
    baseUrl: 'http://b.test',
    headers: {},
    fetch: scripted((method) =>
      method === 'DELETE'
        ? { status: 500, body: { message: 'Something went wrong' } }
        : { status: 200, body: [] },
    ),
  })
  out.push(await rejection(stuck.abort(target)))
  // A small file whose storage kept other bytes than were sent.
  const file = join(dir, 'small.mp4')
  await writeFile(file, 'tiny video')
  const small = createCompanionStore({
    baseUrl: 'http://b.test',
    headers: {},
    fetch: scripted((method, url) => {
      if (method === 'POST') return { status: 200, body: { key: 'k', uploadId: 'U9' } }
      if (url.pathname.endsWith('/1')) return { status: 200, body: { url: `${base}/wrong-etag` } }
      return { status: 200, body: {} }
    }),
  })
  out.push(
    await rejection(
      small.putSmall({
        key: 'k',
        filename: 'small.mp4',
        contentType: 'video/mp4',
        metadata: {},
        path: file,
        size: 10,
        md5Base64: Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64'),
        signal: new AbortController().signal,
        onProgress: () => undefined,
      }),
    ),
  )

  // The part PUT: no byte moving for the idle timeout.
  out.push(
    await rejection(
      putPart({
        url: `${base}/silent`,
        body: Buffer.from('part'),
        signal: new AbortController().signal,
        idleTimeoutMs: 50,
        partNumber: 1,
      }),
    ),
  )

  for (const e of out) expect(e).toBeInstanceOf(UploadError)
  return (out as UploadError[]).filter((e) => e.retryable)
}

describe('gaveUp: the message once the retries are used up', () => {
  it('says what happened and that Upreel gave up; none promises another try', async () => {
    const errors = await retryableErrors()
    const codes = new Set(errors.map((e) => e.code))
    // The ones that used to promise a retry are among them.
    for (const c of [
      'BackendBusy',
      'BackendError',
      'BackendStorageError',
      'ListPartsFailed',
      'BackendTimeout',
      'NetworkError',
      'AbortFailed',
      'BadDigest',
      'RequestTimeout',
    ])
      expect(codes, c).toContain(c)
    for (const e of errors) {
      expect(e.message, e.code).not.toMatch(PROMISE)
      const out = gaveUp(e, 8) as UploadError
      const [, said, n] = ENDING.exec(out.message) ?? []
      expect(said, out.message).toBe(e.message.replace(/([^.!?])$/, '$1.'))
      expect(n).toBe('8')
      expect(out).toMatchObject({ code: e.code, status: e.status, partNumber: e.partNumber })
    }
  })

  it('adds the full stop a message lacks', () => {
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
})
