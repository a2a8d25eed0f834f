import { UploadError } from '../errors'

/**
 * S3 error codes in plain words. Each entry: what a creator reads, and whether trying again later
 * can help. Codes not listed fall back on the HTTP status class.
 */
const S3_ERRORS: Record<string, { message: string; retryable: boolean }> = {
  AccessDenied: {
    message:
      'The storage refused access. The credentials work but are not allowed to upload here: ask whoever manages the bucket to grant s3:PutObject and multipart permissions.',
    retryable: false,
  },
  NoSuchBucket: {
    message: 'The bucket does not exist. Check the bucket name (and region) in Settings.',
    retryable: false,
  },
  InvalidAccessKeyId: {
    message:
      'The access key is not recognised by the storage. Check the access key ID in Settings (or AWS_ACCESS_KEY_ID).',
    retryable: false,
  },
  SignatureDoesNotMatch: {
    message:
      'The storage rejected the request signature: the secret access key does not match the access key ID. Check both in Settings (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).',
    retryable: false,
  },
  RequestTimeTooSkewed: {
    message:
      "This computer's clock is too far from the storage's clock, so requests are refused. Set the date and time automatically in your system settings, then retry.",
    retryable: false,
  },
  AuthorizationHeaderMalformed: {
    message:
      'The storage expects a different region. Check the region in Settings (the bucket lives in another one).',
    retryable: false,
  },
  PermanentRedirect: {
    message:
      'The bucket lives in another region or endpoint. Check the region and endpoint in Settings.',
    retryable: false,
  },
  InvalidBucketName: {
    message: 'The bucket name is not valid. Check it in Settings.',
    retryable: false,
  },
  EntityTooLarge: {
    message: 'The file is larger than the storage accepts in one upload.',
    retryable: false,
  },
  EntityTooSmall: {
    message: 'The storage refused a part as too small (an internal error in the part plan).',
    retryable: false,
  },
  BadDigest: {
    message: 'The data arrived damaged (its checksum did not match), so the storage refused it.',
    retryable: true,
  },
  InvalidDigest: {
    message: 'The storage could not read the checksum sent with the data.',
    retryable: false,
  },
  NoSuchUpload: {
    message: 'The storage no longer knows this upload (it was aborted or expired).',
    retryable: false,
  },
  InvalidPart: {
    message: 'The storage is missing a part of this upload.',
    retryable: false,
  },
  SlowDown: {
    message: 'The storage asked Upreel to slow down (too many requests).',
    retryable: true,
  },
  ServiceUnavailable: {
    message: 'The storage is temporarily unavailable.',
    retryable: true,
  },
  InternalError: { message: 'The storage had an internal error.', retryable: true },
  RequestTimeout: {
    message: 'The storage timed out waiting for data.',
    retryable: true,
  },
  RequestExpired: {
    message: 'The upload link expired before it was used.',
    retryable: true,
  },
  ExpiredToken: {
    message: 'The temporary credentials have expired. Sign in again or refresh the credentials.',
    retryable: false,
  },
  InvalidToken: {
    message: 'The session token is not valid. Refresh the credentials in Settings.',
    retryable: false,
  },
  KMS: {
    message:
      'The storage could not use the encryption key (KMS). Check the key id and its permissions.',
    retryable: false,
  },
}

export interface S3ErrorContext {
  operation: string
  partNumber?: number
  status?: number
  requestId?: string
  serverMessage?: string
  cause?: unknown
}

/** An S3 error code (from XML or the SDK) as an UploadError with plain words. */
export function explainS3Error(code: string | undefined, ctx: S3ErrorContext): UploadError {
  const status = ctx.status
  let known = code ? S3_ERRORS[code] : undefined
  if (!known && code?.startsWith('KMS')) known = S3_ERRORS.KMS
  if (!known && code === 'NotFound' && ctx.operation === 'HeadBucket')
    known = S3_ERRORS.NoSuchBucket
  if (!known && code === 'Forbidden') known = S3_ERRORS.AccessDenied
  if (known) {
    return new UploadError({ code: code!, ...known, ...ctxFields(ctx) })
  }
  if (code === 'NotImplemented' || code === 'InvalidStorageClass') {
    return new UploadError({
      code,
      message: `The storage does not support a setting in use${ctx.serverMessage ? ` (${ctx.serverMessage.replace(/\.$/, '')})` : ''}. Turn it off or change it in Settings (encryption, storage class, ACL).`,
      retryable: false,
      ...ctxFields(ctx),
    })
  }
  const retryable = status === undefined || status >= 500 || status === 429 || status === 408
  const message =
    status && status >= 500
      ? 'The storage answered with a server error.'
      : `The storage refused the request${code ? ` (${code})` : status ? ` (HTTP ${status})` : ''}${
          ctx.serverMessage ? `: ${ctx.serverMessage}` : '.'
        }`
  return new UploadError({
    code: code ?? (status ? `HTTP${status}` : 'UnknownError'),
    message,
    retryable,
    ...ctxFields(ctx),
  })
}

function ctxFields(ctx: S3ErrorContext) {
  return {
    operation: ctx.operation,
    partNumber: ctx.partNumber,
    status: ctx.status,
    requestId: ctx.requestId,
    cause: ctx.cause,
  }
}

/** Network failures (no HTTP answer): always worth retrying, and they mean "wait for the network". */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
  'RequestTimeout',
])

export function isNetworkError(e: unknown): boolean {
  if (!(e instanceof Error)) return false
  const code = (e as { code?: string }).code
  if (code && NETWORK_CODES.has(code)) return true
  if (e.name === 'TimeoutError') return true
  if (/socket hang up|network|fetch failed|other side closed/i.test(e.message)) return true
  return e.cause !== undefined && e.cause !== e && isNetworkError(e.cause)
}

export function networkError(operation: string, cause: unknown, partNumber?: number): UploadError {
  const code = (cause as { code?: string })?.code
  const refused = code === 'ECONNREFUSED'
  return new UploadError({
    code: 'NetworkError',
    message: refused
      ? 'The storage server is not answering (connection refused).'
      : 'The network connection to the storage failed.',
    retryable: true,
    operation,
    partNumber,
    cause,
  })
}

/** Minimal parse of an S3 XML error body: <Code>, <Message>, <RequestId>. */
export function parseS3ErrorXml(body: string): {
  code?: string
  message?: string
  requestId?: string
} {
  const pick = (tag: string) => {
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)
    return m?.[1]
  }
  return { code: pick('Code'), message: pick('Message'), requestId: pick('RequestId') }
}
