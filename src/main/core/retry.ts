import { isUploadError } from './errors'
import { isNetworkError } from './s3/explain'

export interface RetryOptions {
  /** Attempts of one request before the file fails (network outages wait instead: see below). */
  maxAttempts: number
  /** First delay; doubled each attempt up to maxDelayMs, with full jitter. */
  baseDelayMs: number
  maxDelayMs: number
}

/**
 * 6 attempts over ~1 minute: long enough to ride out a server restart or a SlowDown burst,
 * short enough that a real refusal (AccessDenied…) is reported while the creator is still there.
 */
export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 20_000 }

/**
 * Delay before attempt `attempt + 1` (attempt counts failures so far, from 1): exponential with
 * "full jitter" (AWS architecture blog), so parallel parts that failed together don't retry in
 * lockstep against a struggling server.
 */
export function retryDelay(attempt: number, opts: RetryOptions, random = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(cap / 2 + random() * (cap / 2))
}

export type RetryVerdict = 'retry' | 'wait-network' | 'fail'

/**
 * Retry only what can succeed later: network errors, 5xx, 429/503 SlowDown, RequestTimeout,
 * expired presigned URLs (after re-signing), BadDigest (damaged in transit). A network error
 * that persists past the attempt budget means "offline": wait for the network, don't fail.
 */
export function classify(error: unknown, attempt: number, opts: RetryOptions): RetryVerdict {
  const network = isNetworkError(error) || (isUploadError(error) && error.code === 'NetworkError')
  if (network) return attempt < opts.maxAttempts ? 'retry' : 'wait-network'
  const retryable = isUploadError(error) ? error.retryable : false
  if (!retryable) return 'fail'
  return attempt < opts.maxAttempts ? 'retry' : 'fail'
}
