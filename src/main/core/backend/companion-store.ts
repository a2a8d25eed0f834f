/**
 * The ObjectStore for backend mode: an upload backend that speaks Uppy Companion's S3 multipart
 * protocol signs every request and Upreel PUTs the bytes straight to S3 with the URLs it gets.
 * Works unchanged against Companion itself and against the reference backend (src/backend); the
 * README's "Backend mode" section explains the choices (signing window, URL lifetime, errors).
 */
import { readFile } from 'node:fs/promises'
import { isUploadError, UploadError } from '../errors'
import {
  etagIsContentMd5,
  putPart as defaultPutPart,
  type PutPartOptions,
  type PutPartResult,
} from '../http/put-part'
import type {
  CompletedObject,
  CreatedMultipart,
  CreateMultipartInput,
  MultipartTarget,
  ObjectStore,
  PutSmallInput,
  RemotePart,
  SignedPartRequest,
} from '../ports'
import { isNetworkError } from '../s3/explain'
import { explainBackendError } from './backend-errors'
import { checkHeaders } from './headers'

export type HeadersSource =
  Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>)

export interface CompanionStoreOptions {
  /** Where the Companion routes live: `{baseUrl}/s3/multipart…`. */
  baseUrl: string
  /**
   * Extra headers on every backend request (not on the S3 PUTs): `Authorization: Bearer …`, or,
   * as a function called per request, the app session's current cookies or a refreshed token.
   */
  headers?: HeadersSource
  /** Injected for tests; the global fetch (Node ≥ 20) otherwise. */
  fetch?: typeof fetch
  /**
   * Parts signed per backend request when signing ahead (default 4, 1 = never batch). Small on
   * purpose: a URL signed ahead ages while it waits for its turn.
   */
  signWindow?: number
  /** A URL is not handed out this close to its expiry (default 60 s, at most ¼ of its lifetime). */
  expiryMarginMs?: number
  /**
   * A URL signed ahead and not used within this time is thrown away (default 60 s), so no URL is
   * reused after a sleep or a long pause.
   */
  maxUrlAgeMs?: number
  /** Time limit for one backend request (default 30 s). */
  requestTimeoutMs?: number
  /** Wall clock (jumps forward after a sleep, which is what the age check needs). */
  now?: () => number
  /** The PUT used by putSmall (default src/main/core/http/put-part). */
  putPart?: (opts: PutPartOptions) => Promise<PutPartResult>
}

/** S3's highest part number. */
const MAX_PART_NUMBER = 10_000
/** S3's minimum part size except the last (5 MiB): a file of S bytes has at most ⌈S / 5 MiB⌉ parts. */
const S3_MIN_PART_SIZE = 5 * 1024 * 1024
const DEFAULT_SIGN_WINDOW = 4
const DEFAULT_EXPIRY_MARGIN_MS = 60_000
const DEFAULT_MAX_URL_AGE_MS = 60_000
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** Aborts tried after a small file's PUT failed, 250 ms apart and doubling (under 2 s in all). */
const SMALL_ABORT_ATTEMPTS = 4
const SMALL_ABORT_DELAY_MS = 250

interface SignedUrl {
  url: string
  expiresAt: number
  lifetimeMs: number
  signedAt: number
}

/** Per upload: URLs signed ahead, batch requests in flight, parts already handed a URL. */
interface UploadSigning {
  ready: Map<number, SignedUrl>
  pending: Map<number, Promise<unknown>>
  issued: Set<number>
  /** Highest part number the file can have, when its size is known (uploads created here). */
  lastPossiblePart: number
  /** The backend refused a batch: sign one part at a time from then on. */
  singleOnly: boolean
}

export class CompanionStore implements ObjectStore {
  /** putSmall is a one-part multipart upload: the engine runs it as one, journaled (ports.ts). */
  readonly multipartOnly = true
  readonly destinationId: string
  readonly label: string
  private readonly base: string
  private readonly host: string
  private readonly fetchFn: typeof fetch
  private readonly signWindow: number
  private readonly expiryMarginMs: number
  private readonly maxUrlAgeMs: number
  private readonly timeoutMs: number
  private readonly now: () => number
  private readonly put: (opts: PutPartOptions) => Promise<PutPartResult>
  private readonly signing = new Map<string, UploadSigning>()

  constructor(private readonly opts: CompanionStoreOptions) {
    const url = new URL(opts.baseUrl)
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`backend URL must be http(s): ${opts.baseUrl}`)
    url.search = ''
    url.hash = ''
    this.base = url.toString().replace(/\/+$/, '')
    this.host = url.host
    this.destinationId = `companion:${this.base}`
    this.label = this.base
    this.fetchFn = opts.fetch ?? fetch
    // A bad name or a value fetch cannot send (a token pasted with a curly quote or €) is said
    // now, by name: fetch would refuse it with a TypeError that reads like a network failure.
    if (typeof opts.headers === 'object') checkHeaders(opts.headers, 'the upload server')
    this.signWindow = Math.max(1, Math.floor(opts.signWindow ?? DEFAULT_SIGN_WINDOW))
    this.expiryMarginMs = opts.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS
    this.maxUrlAgeMs = opts.maxUrlAgeMs ?? DEFAULT_MAX_URL_AGE_MS
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.now = opts.now ?? Date.now
    this.put = opts.putPart ?? defaultPutPart
  }

  async createMultipart(
    input: CreateMultipartInput,
    signal?: AbortSignal,
  ): Promise<CreatedMultipart> {
    // `size` is not Companion's; Companion ignores it, the reference backend enforces its limit
    // with it. The key is the backend's choice: the one asked for is not sent.
    const res = await this.call('CreateMultipartUpload', 'POST', '/s3/multipart', {
      body: {
        filename: input.filename,
        type: input.contentType,
        metadata: input.metadata,
        size: input.size,
      },
      signal,
    })
    const { key, uploadId, bucket } = (res ?? {}) as Record<string, unknown>
    if (typeof key !== 'string' || !key || typeof uploadId !== 'string' || !uploadId)
      throw this.badAnswer('CreateMultipartUpload')
    // Signing ahead stops at the file's last possible part: a backend that bounds part numbers by
    // the declared size (the reference one does) would refuse a batch reaching past it.
    this.signingOf({ key, uploadId }).lastPossiblePart = Math.max(
      1,
      Math.ceil(input.size / S3_MIN_PART_SIZE),
    )
    return { key, uploadId, bucket: typeof bucket === 'string' ? bucket : '' }
  }

  /**
   * A URL for one part, signed now or moments ago. Each URL is handed out once: a retry after a
   * failed PUT (an expired URL above all) always gets a fresh signature.
   */
  async signPart(
    target: MultipartTarget,
    partNumber: number,
    signal?: AbortSignal,
  ): Promise<SignedPartRequest> {
    const st = this.signingOf(target)
    const inFlight = st.pending.get(partNumber)
    if (inFlight) await inFlight.catch(() => undefined)
    const ready = this.take(st, partNumber)
    if (ready) return this.issue(st, partNumber, ready)

    const window = [partNumber]
    const last = st.singleOnly ? partNumber : st.lastPossiblePart
    for (let n = partNumber + 1; n < partNumber + this.signWindow && n <= last; n++) {
      if (!st.issued.has(n) && !st.ready.has(n) && !st.pending.has(n)) window.push(n)
    }
    if (window.length > 1) {
      const batch = this.signBatch(target, window, signal).then((urls) => {
        for (const [n, u] of urls) if (n !== partNumber) st.ready.set(n, u)
        return urls
      })
      for (const n of window.slice(1)) st.pending.set(n, batch)
      try {
        const mine = (await batch).get(partNumber)
        if (mine) return this.issue(st, partNumber, mine)
      } catch (e) {
        // A batch the backend refuses as a request (part numbers past the end of the file hit a
        // size limit, say) is retried as this one part; auth, server and network errors are not.
        const refused =
          isUploadError(e) &&
          e.status !== undefined &&
          e.status >= 400 &&
          e.status < 500 &&
          e.status !== 401 &&
          e.status !== 403
        if (!refused) throw e
        st.singleOnly = true
      } finally {
        for (const n of window.slice(1)) if (st.pending.get(n) === batch) st.pending.delete(n)
      }
    }
    return this.issue(st, partNumber, await this.signOne(target, partNumber, signal))
  }

  async listParts(target: MultipartTarget, signal?: AbortSignal): Promise<RemotePart[]> {
    const res = await this.call('ListParts', 'GET', this.uploadPath(target), {
      key: target.key,
      signal,
    })
    if (!Array.isArray(res)) throw this.badAnswer('ListParts')
    return res.map((p: unknown) => {
      const { PartNumber, ETag, Size } = (p ?? {}) as Record<string, unknown>
      if (typeof PartNumber !== 'number' || typeof ETag !== 'string')
        throw this.badAnswer('ListParts')
      return {
        partNumber: PartNumber,
        etag: ETag.replace(/"/g, '').toLowerCase(),
        size: typeof Size === 'number' ? Size : Number(Size ?? 0),
      }
    })
  }

  async complete(
    target: MultipartTarget,
    parts: { partNumber: number; etag: string }[],
    signal?: AbortSignal,
  ): Promise<CompletedObject> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
    const res = await this.call(
      'CompleteMultipartUpload',
      'POST',
      this.uploadPath(target, 'complete'),
      {
        key: target.key,
        // Quoted, as S3 returns ETags and as Uppy sends them; S3 accepts either form.
        body: { parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
        signal,
      },
    )
    this.signing.delete(signingId(target))
    const r = (res ?? {}) as Record<string, unknown>
    return {
      key: typeof r.key === 'string' && r.key ? r.key : target.key,
      bucket: typeof r.bucket === 'string' ? r.bucket : '',
      location: typeof r.location === 'string' ? r.location : undefined,
      etag: typeof r.etag === 'string' ? r.etag.replace(/"/g, '').toLowerCase() : undefined,
    }
  }

  /**
   * Resolves when the upload is gone. Companion answers a generic 500 both for "already aborted"
   * and for a real failure, so after a 5xx the parts are listed: if listing fails too, the upload
   * is taken as gone (a leftover is then only possible when S3 failed twice in a row, and a bucket
   * lifecycle rule for incomplete uploads cleans that); if listing works, it still exists and the
   * abort fails as retryable.
   */
  async abort(target: MultipartTarget, signal?: AbortSignal): Promise<void> {
    this.signing.delete(signingId(target))
    try {
      await this.call('AbortMultipartUpload', 'DELETE', this.uploadPath(target), {
        key: target.key,
        signal,
      })
    } catch (e) {
      if (!isUploadError(e)) throw e
      if (e.code === 'NoSuchUpload') return
      if (e.status === undefined || e.status < 500) throw e
      const stillThere = await this.listParts(target, signal).then(
        () => true,
        (listError: unknown) => {
          // Only an answer that can mean "gone" counts (Companion's generic 500, a 404). No
          // answer, or a gateway's 502/503/504 while the backend restarts: nothing learnt, the
          // abort fails as it was (retryable).
          if (
            isUploadError(listError) &&
            (listError.code === 'ListPartsFailed' || listError.code === 'NoSuchUpload')
          )
            return false
          throw signal?.aborted ? listError : e
        },
      )
      if (stillThere)
        throw new UploadError({
          code: 'AbortFailed',
          message: 'The upload server could not cancel this upload.',
          retryable: true,
          operation: 'AbortMultipartUpload',
          status: e.status,
          requestId: e.requestId,
          cause: e,
        })
    }
  }

  /**
   * Files of one part or less go as a one-part multipart upload: create, sign part 1, PUT with
   * Content-MD5, complete. Not the presigned POST of /s3/params: S3-compatible stores without
   * browser POST (Swift answers 412) would need a second path, and a POST response gives no
   * ETag to check. This way every byte takes the route the big files take, with the backend's
   * auth, ownership and limits, at the cost of two extra small requests.
   */
  async putSmall(input: PutSmallInput): Promise<CompletedObject> {
    const { signal } = input
    const created = await this.createMultipart(
      {
        key: input.key,
        filename: input.filename,
        contentType: input.contentType,
        metadata: input.metadata,
        size: input.size,
      },
      signal,
    )
    try {
      const body = await readFile(input.path)
      if (body.length !== input.size)
        throw new UploadError({
          code: 'SourceChanged',
          message:
            'The file changed while it was being uploaded. Upload it again once it is saved.',
          operation: 'PutObject',
        })
      const expectedEtag = Buffer.from(input.md5Base64, 'base64').toString('hex')
      const signed = await this.signPart(created, 1, signal)
      // A 403 (an expired link above all) is signed again once inside put; the engine's retry
      // of the whole small file does the rest.
      const { etag, encryption } = await this.put({
        url: signed.url,
        headers: signed.headers,
        body,
        md5Base64: input.md5Base64,
        signal,
        onProgress: input.onProgress,
        operation: 'PutObject',
        partNumber: 1,
        resign: () => this.signPart(created, 1, signal),
      })
      // With SSE-KMS or SSE-C (a bucket encrypted by default) the ETag is not the MD5; the
      // Content-MD5 sent has guarded the bytes.
      if (etagIsContentMd5(encryption) && etag !== expectedEtag)
        throw new UploadError({
          code: 'BadDigest',
          message: 'The storage stored different bytes than were sent (checksum mismatch).',
          retryable: true,
          operation: 'PutObject',
        })
      const done = await this.complete(created, [{ partNumber: 1, etag }], signal)
      return { ...done, bucket: done.bucket || created.bucket }
    } catch (e) {
      // Nothing resumes a small file: do not leave its upload (and storage) behind. Not under the
      // caller's signal, which is likely what stopped us.
      await this.abortSmall(created)
      throw e
    }
  }

  /**
   * The abort after a small file's failed PUT, retried: the blip that failed the PUT often fails
   * the abort too, and the engine's retry creates a new upload, so this one would be orphaned.
   */
  private async abortSmall(target: MultipartTarget): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.abort(target)
      } catch (e) {
        if (attempt >= SMALL_ABORT_ATTEMPTS || (isUploadError(e) && !e.retryable)) return
        await new Promise((r) => setTimeout(r, SMALL_ABORT_DELAY_MS * 2 ** (attempt - 1)))
      }
    }
  }

  destroy(): void {
    this.signing.clear()
  }

  // ---------------------------------------------------------------------------------------------

  private signingOf(target: MultipartTarget): UploadSigning {
    const id = signingId(target)
    let st = this.signing.get(id)
    if (!st) {
      st = {
        ready: new Map(),
        pending: new Map(),
        issued: new Set(),
        lastPossiblePart: MAX_PART_NUMBER,
        singleOnly: false,
      }
      this.signing.set(id, st)
    }
    return st
  }

  /** A URL signed ahead, if it is still young and far enough from its expiry; used once. */
  private take(st: UploadSigning, partNumber: number): SignedUrl | undefined {
    const now = this.now()
    // URLs signed together age together: drop every stale one, so the next window re-signs them.
    for (const [n, u] of st.ready) if (!this.usable(u, now)) st.ready.delete(n)
    const u = st.ready.get(partNumber)
    st.ready.delete(partNumber)
    return u
  }

  private usable(u: SignedUrl, now: number): boolean {
    const margin = Math.min(this.expiryMarginMs, u.lifetimeMs / 4)
    // now < signedAt: the clock went back; the URL's age is unknown.
    return now < u.expiresAt - margin && now - u.signedAt <= this.maxUrlAgeMs && now >= u.signedAt
  }

  private issue(st: UploadSigning, partNumber: number, u: SignedUrl): SignedPartRequest {
    st.issued.add(partNumber)
    return { url: u.url, expiresAt: u.expiresAt }
  }

  private async signOne(
    target: MultipartTarget,
    partNumber: number,
    signal?: AbortSignal,
  ): Promise<SignedUrl> {
    const startedAt = this.now()
    const res = await this.call('SignPart', 'GET', this.uploadPath(target, String(partNumber)), {
      key: target.key,
      signal,
      partNumber,
    })
    const { url, expires } = (res ?? {}) as Record<string, unknown>
    if (typeof url !== 'string') throw this.badAnswer('SignPart', partNumber)
    this.refuseChecksumUrl(url, partNumber)
    return signedUrl(url, startedAt, typeof expires === 'number' ? expires : undefined)
  }

  private async signBatch(
    target: MultipartTarget,
    partNumbers: number[],
    signal?: AbortSignal,
  ): Promise<Map<number, SignedUrl>> {
    const startedAt = this.now()
    const res = await this.call('SignPart', 'GET', this.uploadPath(target, 'batch'), {
      key: target.key,
      extraQuery: `partNumbers=${partNumbers.join(',')}`,
      signal,
      partNumber: partNumbers[0],
    })
    const urls = (res as { presignedUrls?: unknown } | undefined)?.presignedUrls
    if (!urls || typeof urls !== 'object') throw this.badAnswer('SignPart', partNumbers[0])
    const out = new Map<number, SignedUrl>()
    for (const [n, url] of Object.entries(urls as Record<string, unknown>)) {
      // Batch answers carry no `expires` (Companion): the lifetime is read from the URL.
      if (typeof url === 'string' && partNumbers.includes(Number(n))) {
        this.refuseChecksumUrl(url, Number(n))
        out.set(Number(n), signedUrl(url, startedAt))
      }
    }
    return out
  }

  /**
   * A part URL signed with the AWS SDK's default flexible checksums carries the checksum of an
   * empty body (`x-amz-checksum-crc32=AAAAAA==`, `x-amz-sdk-checksum-algorithm=CRC32`): Companion
   * run without AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED. AWS S3 (and MinIO, R2) refuse
   * every part sent there as damaged, which would be retried and then reported as "the data
   * arrived damaged". Said at once instead, in words for whoever runs the backend.
   */
  private refuseChecksumUrl(url: string, partNumber: number): void {
    let names: string[]
    try {
      names = [...new URL(url).searchParams.keys()]
    } catch {
      return // not a URL: the PUT will say so
    }
    const bad = names.find((n) => /^x-amz-(checksum-|sdk-checksum-algorithm$)/i.test(n))
    if (!bad) return
    throw new UploadError({
      code: 'BackendChecksumUrls',
      message: `The upload server at ${this.host} signs upload links with a checksum parameter (${bad}) that S3 checks against the data, so every upload would be refused as damaged; Upreel sends nothing to such links. Whoever runs the upload server must turn off the AWS SDK's default request checksums there: set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED in its environment (Uppy Companion) or requestChecksumCalculation: 'WHEN_REQUIRED' on its S3 client, and restart it.`,
      operation: 'SignPart',
      partNumber,
    })
  }

  private uploadPath(target: MultipartTarget, ...rest: string[]): string {
    return ['/s3/multipart', encodeURIComponent(target.uploadId), ...rest].join('/')
  }

  /** One backend request; JSON in and out; failures as UploadErrors. */
  private async call(
    operation: string,
    method: string,
    path: string,
    o: {
      key?: string
      extraQuery?: string
      body?: unknown
      signal?: AbortSignal
      partNumber?: number
    },
  ): Promise<unknown> {
    const query = [o.key !== undefined ? `key=${encodeURIComponent(o.key)}` : '', o.extraQuery]
      .filter(Boolean)
      .join('&')
    const url = this.base + path + (query ? `?${query}` : '')
    const extra =
      typeof this.opts.headers === 'function' ? await this.opts.headers() : this.opts.headers
    if (typeof this.opts.headers === 'function') checkHeaders(extra, 'the upload server')
    const headers: Record<string, string> = { Accept: 'application/json', ...extra }
    if (o.body !== undefined) headers['Content-Type'] = 'application/json'
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout
    let res: Response
    let text: string
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal,
        // Not followed: a redirect would carry the Authorization header (and the body) to an
        // address nobody configured; the user is told the final address instead.
        redirect: 'manual',
      })
      text = await res.text()
    } catch (e) {
      if (o.signal?.aborted) throw abortError(o.signal)
      const timedOut = timeout.aborted
      // fetch refusing to build the request (a TypeError that is not its "fetch failed"): the
      // same request would be refused again, so this is final, not a network wait.
      if (!timedOut && e instanceof TypeError && !isNetworkError(e)) {
        throw new UploadError({
          code: 'BackendRequestInvalid',
          message: `Upreel could not send its request to the upload server at ${this.host}: the request itself was refused before leaving this computer (a header or address that cannot be sent). Check the backend address and headers.`,
          operation,
          partNumber: o.partNumber,
          // fetch quotes the offending header value, which may be a token: not repeated here.
          cause: new Error(e.message.replace(/"[^"]*"/g, '"…"')),
        })
      }
      throw new UploadError({
        code: timedOut ? 'BackendTimeout' : 'NetworkError',
        message: timedOut
          ? `The upload server at ${this.host} did not answer in time.`
          : `Could not reach the upload server at ${this.host}.`,
        retryable: true,
        operation,
        partNumber: o.partNumber,
        cause: e,
      })
    }
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location')
      throw new UploadError({
        code: 'BackendRedirect',
        message: `The upload server at ${this.host} redirects elsewhere${to ? ` (${to})` : ''}. Use the final address as the backend URL.`,
        operation,
        partNumber: o.partNumber,
        status: res.status,
      })
    }
    if (!res.ok) {
      throw explainBackendError(res.status, json, {
        operation,
        partNumber: o.partNumber,
        requestId: res.headers.get('x-request-id') ?? undefined,
        host: this.host,
      })
    }
    if (text && json === undefined) throw this.badAnswer(operation, o.partNumber)
    return json
  }

  private badAnswer(operation: string, partNumber?: number): UploadError {
    return new UploadError({
      code: 'BackendBadResponse',
      message: `The upload server at ${this.host} answered in a way Upreel does not understand. Check the backend address (it must serve the Companion S3 routes).`,
      operation,
      partNumber,
    })
  }
}

export function createCompanionStore(opts: CompanionStoreOptions): CompanionStore {
  return new CompanionStore(opts)
}

function signingId(t: MultipartTarget): string {
  return `${t.uploadId}\n${t.key}`
}

/**
 * When a presigned URL stops working, in local time. The lifetime is X-Amz-Expires (or the
 * answer's `expires`), counted from when we asked — never later than the true expiry, whatever
 * the two clocks say. X-Amz-Date (the signer's clock) can only make it earlier (a backend that
 * hands out a URL it signed a while ago); a date that would make the URL dead on arrival is
 * taken as clock skew and ignored, the PUT's 403 then decides.
 */
export function urlExpiry(
  url: string,
  requestedAt: number,
  expiresSeconds?: number,
): { expiresAt: number; lifetimeMs: number } {
  let params: URLSearchParams
  try {
    params = new URL(url).searchParams
  } catch {
    params = new URLSearchParams()
  }
  const fromUrl = Number(params.get('X-Amz-Expires') ?? params.get('x-amz-expires') ?? NaN)
  // Without any lifetime (not a SigV4 URL) assume 5 minutes: short enough to be re-signed early.
  const seconds = Number.isFinite(fromUrl) && fromUrl > 0 ? fromUrl : (expiresSeconds ?? 300)
  const lifetimeMs = seconds * 1000
  let expiresAt = requestedAt + lifetimeMs
  const signedAt = parseAmzDate(params.get('X-Amz-Date') ?? params.get('x-amz-date'))
  if (signedAt !== undefined && signedAt + lifetimeMs > requestedAt)
    expiresAt = Math.min(expiresAt, signedAt + lifetimeMs)
  return { expiresAt, lifetimeMs }
}

function signedUrl(url: string, requestedAt: number, expiresSeconds?: number): SignedUrl {
  return { url, signedAt: requestedAt, ...urlExpiry(url, requestedAt, expiresSeconds) }
}

/** `20261121T124612Z` → epoch ms. */
function parseAmzDate(v: string | null): number | undefined {
  const m = v && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v)
  if (!m) return undefined
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  if (r instanceof Error && r.name === 'AbortError') return r
  const e = new Error(typeof r === 'string' ? r : 'aborted')
  e.name = 'AbortError'
  return e
}
