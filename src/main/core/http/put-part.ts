import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http'
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https'
import { isUploadError, UploadError } from '../errors'
import { explainS3Error, networkError, parseS3ErrorXml } from '../s3/explain'

/**
 * Bytes are written in slices of this size so progress is byte-level while a part streams and a
 * bandwidth limit can pace them (256 KiB: small enough for smooth progress, large enough that the
 * per-slice overhead is negligible next to 16 MiB parts).
 */
const SLICE_BYTES = 256 * 1024

/**
 * A request that moves no byte for this long is abandoned and retried. Idle time, not total: a
 * 5 GiB part on a slow uplink legitimately takes hours.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

// Keep-alive agents shared by every part PUT: reusing sockets saves a TCP (and TLS) handshake per
// part. maxSockets is above any sensible slot count; the engine's slots are the real limit.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 })
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 })

export interface PutPartOptions {
  url: string
  headers?: Record<string, string>
  body: Buffer
  /** Base64 MD5 of body, sent as Content-MD5 so the server refuses damaged bytes (BadDigest). */
  md5Base64?: string
  signal: AbortSignal
  /** Cumulative bytes of this body handed to the socket. */
  onProgress?: (sent: number) => void
  /** Awaited before each slice is written (bandwidth limit). */
  pace?: (bytes: number, signal: AbortSignal) => Promise<void>
  idleTimeoutMs?: number
  operation?: string
  partNumber?: number
  /**
   * Signs the same part again. Given, a PUT answered 403 (an expired link, AccessDenied, a
   * signature refused) is sent once more with a fresh signature before it counts: a link can
   * age past its expiry on the way, or be signed a moment before a permission or key rotation.
   */
  resign?: () => Promise<{ url: string; headers?: Record<string, string> }>
}

export interface PutPartResult {
  /** Unquoted, lower-case ETag. */
  etag: string
  /**
   * The encryption the storage says it applied: its `x-amz-server-side-encryption` answer
   * (`AES256`, `aws:kms`, `aws:kms:dsse`), or `SSE-C` for a customer-provided key. Absent when the
   * storage says nothing (no encryption, or a server that does not report it).
   */
  encryption?: string
}

/**
 * Whether an ETag is the MD5 of the stored bytes, given the encryption the storage applied. Not
 * with SSE-KMS (`aws:kms`, `aws:kms:dsse`) or SSE-C: there the ETag is opaque, and Content-MD5
 * alone protects the bytes (the storage still refuses a damaged body with BadDigest).
 */
export function etagIsContentMd5(encryption: string | undefined): boolean {
  const e = (encryption ?? '').toLowerCase()
  return !e.startsWith('aws:kms') && e !== 'sse-c'
}

/**
 * PUTs a body to a (presigned) URL and returns the unquoted ETag (and the encryption applied).
 * Failures are UploadErrors: S3 XML errors explained, an expired presigned URL as retryable
 * 'RequestExpired' (the caller re-signs), network failures as retryable 'NetworkError'. With
 * `resign`, a 403 is retried once at once with a fresh signature; a second 403 is final, in plain
 * words. An abort rejects with the signal's reason (an AbortError) and is never reported as a
 * failure.
 */
export async function putPart(opts: PutPartOptions): Promise<PutPartResult> {
  try {
    return await putOnce(opts)
  } catch (e) {
    if (!opts.resign || !(isUploadError(e) && e.status === 403) || opts.signal.aborted) throw e
    const fresh = await opts.resign()
    try {
      return await putOnce({ ...opts, url: fresh.url, headers: fresh.headers })
    } catch (again) {
      throw isUploadError(again) && again.status === 403 ? refusedTwice(again) : again
    }
  }
}

/**
 * A freshly signed link refused too: signing again will not help. An expired one means the clock
 * of whatever signs the links is off by more than their lifetime.
 */
function refusedTwice(e: UploadError): UploadError {
  const expired = e.code === 'RequestExpired'
  return new UploadError({
    code: e.code,
    message: expired
      ? 'The storage refused the upload link as expired, even one signed a moment before. The clock of whatever signs the links (the upload server in backend mode, this computer otherwise) is probably wrong: set it to the correct time automatically, then retry.'
      : `${e.message.replace(/([^.!?])$/, '$1.')} A freshly signed link was refused as well.`,
    retryable: false,
    operation: e.operation,
    partNumber: e.partNumber,
    status: e.status,
    requestId: e.requestId,
    cause: e.cause ?? e,
  })
}

function putOnce(opts: PutPartOptions): Promise<PutPartResult> {
  const operation = opts.operation ?? 'UploadPart'
  const { partNumber, body, signal } = opts
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    const url = new URL(opts.url)
    const isHttps = url.protocol === 'https:'
    const headers: Record<string, string> = {
      ...opts.headers,
      'content-length': String(body.length),
    }
    if (opts.md5Base64) headers['content-md5'] = opts.md5Base64
    const req = (isHttps ? httpsRequest : httpRequest)(url, {
      method: 'PUT',
      headers,
      agent: isHttps ? httpsAgent : httpAgent,
    })

    let settled = false
    let refused = false
    let idleTimer: NodeJS.Timeout | undefined
    const finish = (err: unknown, value?: PutPartResult) => {
      if (settled) return
      settled = true
      clearTimeout(idleTimer)
      signal.removeEventListener('abort', onAbort)
      if (err) {
        req.destroy()
        reject(err)
      } else resolve(value!)
    }
    const touch = () => {
      clearTimeout(idleTimer)
      idleTimer = setTimeout(() => {
        finish(
          new UploadError({
            code: 'RequestTimeout',
            message: `No data moved for ${Math.round(idleMs / 1000)} s.`,
            retryable: true,
            operation,
            partNumber,
          }),
        )
      }, idleMs)
    }
    const onAbort = () => finish(abortReason(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    touch()

    req.on('error', (e) => finish(networkError(operation, e, partNumber)))
    req.on('response', (res) => {
      touch()
      if ((res.statusCode ?? 0) >= 300) {
        // S3 may answer before it has read the whole body (an expired URL, a refusal). That
        // connection must not go back to the keep-alive pool: the server would read the rest of
        // our body as the next request, which then hangs and ends in ECONNRESET.
        refused = true
        ;(req as unknown as { shouldKeepAlive: boolean }).shouldKeepAlive = false
      }
      readBody(res)
        .then((text) => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) {
            const etag = String(res.headers.etag ?? '')
              .replace(/"/g, '')
              .toLowerCase()
            if (!etag) {
              return finish(
                new UploadError({
                  code: 'MissingETag',
                  message:
                    'The storage accepted the data but did not say what it stored (no ETag). If the bucket is behind a proxy or CORS rule, it must expose the ETag header.',
                  operation,
                  partNumber,
                  status,
                }),
              )
            }
            const encryption = res.headers['x-amz-server-side-encryption-customer-algorithm']
              ? 'SSE-C'
              : headerString(res, 'x-amz-server-side-encryption')
            return finish(undefined, encryption ? { etag, encryption } : { etag })
          }
          const xml = parseS3ErrorXml(text)
          const requestId = xml.requestId ?? headerString(res, 'x-amz-request-id')
          // A presigned URL past its X-Amz-Expires: re-sign and send again (not a permission problem).
          const expired =
            status === 403 &&
            (/expired/i.test(xml.message ?? '') || /expired/i.test(xml.code ?? ''))
          finish(
            explainS3Error(expired ? 'RequestExpired' : (xml.code ?? undefined), {
              operation,
              partNumber,
              status,
              requestId,
              serverMessage: xml.message,
            }),
          )
        })
        .catch((e) => finish(networkError(operation, e, partNumber)))
    })

    void writeBody().catch((e) => finish(e))

    async function writeBody() {
      let sent = 0
      while (sent < body.length && !settled && !refused) {
        const end = Math.min(sent + SLICE_BYTES, body.length)
        if (opts.pace) await opts.pace(end - sent, signal)
        if (settled) return
        const ok = req.write(body.subarray(sent, end))
        sent = end
        touch()
        opts.onProgress?.(sent)
        if (!ok) await waitDrain()
      }
      if (!settled && !refused) req.end()
    }
    function waitDrain() {
      return new Promise<void>((res) => {
        const done = () => {
          req.off('drain', done)
          req.off('close', done)
          res()
        }
        req.on('drain', done)
        req.on('close', done)
      })
    }
  })
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
    res.on('aborted', () => reject(new Error('response aborted')))
  })
}

function headerString(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  if (r instanceof Error && r.name === 'AbortError') return r
  const e = new Error(typeof r === 'string' ? r : 'aborted')
  e.name = 'AbortError'
  return e
}
