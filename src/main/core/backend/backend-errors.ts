/**
 * What an upload backend's refusals mean for a creator. Companion and the reference backend answer
 * `{error}` (validation, ours) or `{message}` (Companion's generic 500 and 404); the status decides
 * whether trying again can help, the body supplies the specifics.
 */
import { UploadError } from '../errors'

/** Longest server message quoted to a creator (a stack trace or HTML page is cut short). */
const MAX_SERVER_MESSAGE_CHARS = 300

/** Operations that address one existing upload (a 404 there means the upload is gone). */
const UPLOAD_SCOPED = new Set([
  'SignPart',
  'ListParts',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
])

export interface BackendErrorContext {
  operation: string
  partNumber?: number
  requestId?: string
  /** Host of the backend, for messages ("upload.example.com"). */
  host: string
}

/** The message a backend put in its JSON error body, if any. */
export function serverMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as { error?: unknown; message?: unknown }
  const m = typeof b.error === 'string' ? b.error : typeof b.message === 'string' ? b.message : ''
  const clean = m.replace(/\s+/g, ' ').trim()
  if (!clean) return undefined
  return clean.length > MAX_SERVER_MESSAGE_CHARS
    ? clean.slice(0, MAX_SERVER_MESSAGE_CHARS - 1) + '…'
    : clean
}

/** Companion's production answer to any S3 error (companion-protocol.md, Gotcha 3). */
const COMPANION_GENERIC_MESSAGE = 'something went wrong'

/**
 * Companion's one answer for every S3 error, `500 {"message":"Something went wrong"}`: the
 * upload may be gone, or the storage may have hiccuped; nothing tells which.
 */
export function isCompanionGenericError(status: number, body: unknown): boolean {
  return status === 500 && serverMessage(body)?.toLowerCase() === COMPANION_GENERIC_MESSAGE
}

/** The S3 error code Companion (development mode) puts in `error.name` / `error.Code`. */
function hiddenS3Code(body: unknown): string | undefined {
  const err = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined
  if (!err || typeof err !== 'object') return undefined
  const e = err as { Code?: unknown; name?: unknown }
  return typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined
}

/** An HTTP error answer from the backend as an UploadError with plain words. */
export function explainBackendError(
  status: number,
  body: unknown,
  ctx: BackendErrorContext,
): UploadError {
  const said = serverMessage(body)
  const requestId =
    ctx.requestId ??
    (body &&
    typeof body === 'object' &&
    typeof (body as { requestId?: unknown }).requestId === 'string'
      ? (body as { requestId: string }).requestId
      : undefined)
  const make = (code: string, message: string, retryable: boolean) =>
    new UploadError({
      code,
      message,
      retryable,
      operation: ctx.operation,
      partNumber: ctx.partNumber,
      status,
      requestId,
      cause: said ? new Error(said) : undefined,
    })
  const quoted = said ? `: “${said}”` : '.'

  if (status === 401)
    return make(
      'Unauthorized',
      'The upload server did not accept your sign-in. Sign in again (or check the token given to Upreel), then retry.',
      false,
    )
  if (status === 403)
    return make(
      'Forbidden',
      `The upload server does not allow this upload for your account${quoted}`,
      false,
    )
  if (status === 404) {
    if (ctx.operation === 'ListParts')
      return make(
        'NoSuchUpload',
        'The upload server no longer knows this upload; it will start again from the beginning.',
        false,
      )
    if (UPLOAD_SCOPED.has(ctx.operation))
      return make('NoSuchUpload', `The upload server no longer knows this upload${quoted}`, false)
    return make(
      'BackendNotFound',
      `No upload service answers at ${ctx.host} (HTTP 404). Check the backend address.`,
      false,
    )
  }
  if (status === 409)
    return make('Conflict', `The upload server refused the request${quoted}`, false)
  if (status === 413)
    return make('TooLarge', `The upload server does not accept a file this large${quoted}`, false)
  if (status === 415)
    return make(
      'TypeNotAllowed',
      `The upload server does not accept this kind of file${quoted}`,
      false,
    )
  if (status === 408 || status === 425 || status === 429)
    return make('BackendBusy', `The upload server is busy (HTTP ${status}).`, true)
  if (status >= 500) {
    // Companion in development mode names the S3 error it hid: an upload that is gone is gone.
    if (UPLOAD_SCOPED.has(ctx.operation) && hiddenS3Code(body) === 'NoSuchUpload')
      return make('NoSuchUpload', `The upload server no longer knows this upload${quoted}`, false)
    if (isCompanionGenericError(status, body)) {
      // Companion turns every S3 error into this one answer: an old upload that is gone looks
      // the same as a storage hiccup. The engine retries it like any 5xx and, for ListParts
      // only, takes a failure that outlasts the whole retry budget as "gone" (see README).
      if (ctx.operation === 'ListParts')
        return make(
          'ListPartsFailed',
          'The upload server could not list the parts already uploaded.',
          true,
        )
      return make(
        'BackendStorageError',
        'The upload server reported a problem with the storage (HTTP 500).',
        true,
      )
    }
    // Any other 5xx (a gateway's 502/503/504 while the backend restarts, the reference
    // backend's 502 for a storage failure) says nothing about the upload: retried, never "gone".
    return make('BackendError', `The upload server had a problem (HTTP ${status}).`, true)
  }
  return make('BackendRefused', `The upload server refused the request${quoted}`, false)
}
