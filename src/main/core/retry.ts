import { isUploadError } from './errors'
import { isNetworkError } from './s3/explain'

export interface RetryOptions {
  /** Attempts of one request before the file fails (network outages wait instead: see below). */
  maxAttempts: number
  /** First delay; doubled each attempt up to maxDelayMs, with "equal jitter" (see retryDelay). */
  baseDelayMs: number
  maxDelayMs: number
}

/**
 * 8 attempts, waiting 0.25–0.5, 0.5–1, 1–2, 2–4, 4–8, 8–16 and 10–20 s between them: 26 to 52 s
 * in all. Long enough to ride out a server or backend restart or a SlowDown burst, short enough
 * that a file that cannot go on is reported while the creator is still there. Refusals
 * (AccessDenied…) fail at once; a dead network waits for as long as it takes (classify).
 */
export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 20_000 }

/**
 * Delay before attempt `attempt + 1` (attempt counts failures so far, from 1): exponential, drawn
 * from [cap/2, cap] ("equal jitter", AWS architecture blog "Exponential Backoff and Jitter").
 * Not full jitter ([0, cap]): the jitter is there so parallel parts that failed together don't
 * retry in lockstep, and half the cap spreads 8 parts well enough; but with full jitter a run of
 * short draws can spend the whole attempt budget in a second or two and fail a file on a blip
 * that a server restart takes longer than. Equal jitter keeps the budget at least half its
 * nominal length (DEFAULT_RETRY: never under 26 s), which is what the README promises.
 */
export function retryDelay(attempt: number, opts: RetryOptions, random = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(cap / 2 + random() * (cap / 2))
}

/** How far a request's failed attempts have got, for the "reset when bytes move" rule. */
export interface AttemptCount {
  /** Failures counted against the budget (classify's `attempt`). */
  attempts: number
  /** Most bytes any counted attempt got through before it failed. */
  best: number
}

/**
 * Counts one failed attempt that had moved `progress` bytes (of a part's body) when it failed.
 * The count resets whenever bytes move: an attempt that got further than every earlier one
 * starts a new count, so a flaky link that makes headway on each try is never given up on. An
 * attempt that gets no further (a refusal before any byte, a server that fails every try at the
 * same point, even after the whole body) counts, so the budget still ends a hopeless request.
 * Each reset needs more of the body through than ever before, so a part cannot loop forever.
 */
export function countFailure(prev: AttemptCount, progress: number): AttemptCount {
  if (progress > prev.best) return { attempts: 1, best: progress }
  return { attempts: prev.attempts + 1, best: prev.best }
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
