/**
 * The "request processing" step platforms expect after an upload: one POST to the platform with
 * what was stored. The upload is already complete and safe when this runs, so a failure here is
 * reported beside the upload (it never marks it failed) and never throws for HTTP reasons.
 */

import { isNetworkError } from '../s3/explain'
import { checkHeaders } from './headers'

export interface ProcessingHookBody {
  key: string
  bucket: string
  size: number
  /** Unquoted ETag of the object, when known. */
  etag?: string
  metadata: Record<string, string>
  /** Key of the poster JPEG beside the video, when one was uploaded. */
  thumbnailKey?: string
}

export interface ProcessingHookOptions {
  /** E.g. the same `Authorization` the backend gets. */
  headers?: Record<string, string>
  /** Tries in all, the first included (default 4). */
  attempts?: number
  signal?: AbortSignal
  /** Delay before the second try; doubled each time, ±20 % jitter (default 1000 ms). */
  baseDelayMs?: number
  /** Time limit of one try (default 30 s). */
  timeoutMs?: number
  fetch?: typeof fetch
}

export type ProcessingHookResult =
  { ok: true; status: number } | { ok: false; message: string; status?: number }

const DEFAULT_ATTEMPTS = 4
const DEFAULT_BASE_DELAY_MS = 1000
const DEFAULT_TIMEOUT_MS = 30_000
/** Longest piece of the hook's answer quoted in the message. */
const MAX_QUOTED_CHARS = 200

/**
 * POSTs `body` as JSON to the hook. Retries network failures, timeouts, 408/429 and 5xx with
 * exponential backoff; any other 4xx is final (the platform refused the request itself). An abort
 * of `signal` rejects with the AbortError, as everywhere in the engine.
 */
export async function postProcessingHook(
  hookUrl: string,
  body: ProcessingHookBody,
  opts: ProcessingHookOptions = {},
): Promise<ProcessingHookResult> {
  const attempts = Math.max(1, opts.attempts ?? DEFAULT_ATTEMPTS)
  const baseDelay = opts.baseDelayMs ?? DEFAULT_BASE_DELAY_MS
  const fetchFn = opts.fetch ?? fetch
  let host: string
  try {
    host = new URL(hookUrl).host
  } catch {
    return { ok: false, message: `The processing hook address is not a URL: ${hookUrl}` }
  }
  try {
    checkHeaders(opts.headers, 'the processing hook')
  } catch (e) {
    const said = (e as Error).message
    return {
      ok: false,
      message: `The upload is complete, but ${said.charAt(0).toLowerCase()}${said.slice(1)}`,
    }
  }
  let last: { message: string; status?: number } = { message: '' }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(backoff(baseDelay, attempt - 1), opts.signal)
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
    try {
      const res = await fetchFn(hookUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...opts.headers,
        },
        body: JSON.stringify(body),
        signal,
        // Not followed, as with the backend's own requests: a redirect would carry the headers
        // (a bearer token) and the body to an address nobody configured.
        redirect: 'manual',
      })
      const text = await res.text().catch(() => '')
      if (res.ok) return { ok: true, status: res.status }
      if (res.status >= 300 && res.status < 400) {
        const to = res.headers.get('location')
        return {
          ok: false,
          status: res.status,
          message: `The upload is complete, but the processing hook at ${host} redirects elsewhere${to ? ` (${to})` : ''}, and Upreel does not follow redirects with your sign-in. Use the final address as the hook URL.`,
        }
      }
      last = {
        status: res.status,
        message: `The upload is complete, but ${host} did not accept the processing request (HTTP ${res.status}${quote(text)}).`,
      }
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429
      if (!retryable) return { ok: false, ...last }
    } catch (e) {
      if (opts.signal?.aborted) throw abortError(opts.signal)
      // fetch refusing to build the request: the same request would be refused again.
      if (!timeout.aborted && e instanceof TypeError && !isNetworkError(e)) {
        return {
          ok: false,
          message: `The upload is complete, but the request to the processing hook at ${host} could not be built (a header or address that cannot be sent). Check the hook URL and headers.`,
        }
      }
      last = {
        message: `The upload is complete, but ${host} could not be reached to start processing (${
          timeout.aborted ? 'no answer in time' : describe(e)
        }).`,
      }
    }
  }
  return {
    ok: false,
    ...last,
    message: `${last.message} Tried ${attempts} time${attempts === 1 ? '' : 's'}.`,
  }
}

/** baseDelay × 2^(n−1), ±20 % so many clients do not retry in step. */
function backoff(baseDelay: number, n: number): number {
  return baseDelay * 2 ** (n - 1) * (0.8 + Math.random() * 0.4)
}

function quote(text: string): string {
  let said = text
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown }
    said = typeof j.error === 'string' ? j.error : typeof j.message === 'string' ? j.message : ''
  } catch {
    // Not JSON: an HTML error page says nothing useful.
    if (/^\s*</.test(text)) said = ''
  }
  said = said.replace(/\s+/g, ' ').trim()
  if (!said) return ''
  return `: “${said.length > MAX_QUOTED_CHARS ? said.slice(0, MAX_QUOTED_CHARS - 1) + '…' : said}”`
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal!))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  if (r instanceof Error && r.name === 'AbortError') return r
  const e = new Error(typeof r === 'string' ? r : 'aborted')
  e.name = 'AbortError'
  return e
}
