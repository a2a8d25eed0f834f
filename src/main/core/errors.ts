import type { UploadErrorInfo } from './engine/types'

export interface UploadErrorOptions {
  /** Stable code: S3's own ('AccessDenied', 'NoSuchUpload', …) or ours ('SourceChanged', …). */
  code: string
  /** Plain words for a creator. */
  message: string
  /** Whether trying the same request again later can succeed. */
  retryable?: boolean
  /** The operation that failed: 'UploadPart', 'CreateMultipartUpload', 'probe', … */
  operation?: string
  partNumber?: number
  status?: number
  requestId?: string
  cause?: unknown
}

/**
 * Every failure the engine reports is an UploadError: plain words for the creator and, for the
 * engineer, the operation, part number, HTTP status and request id (tus's DetailedError).
 */
export class UploadError extends Error {
  readonly code: string
  readonly retryable: boolean
  readonly operation?: string
  readonly partNumber?: number
  readonly status?: number
  readonly requestId?: string

  constructor(opts: UploadErrorOptions) {
    super(opts.message, { cause: opts.cause })
    this.name = 'UploadError'
    this.code = opts.code
    this.retryable = opts.retryable ?? false
    this.operation = opts.operation
    this.partNumber = opts.partNumber
    this.status = opts.status
    this.requestId = opts.requestId
  }

  /** "UploadPart part 3: HTTP 503 SlowDown (request id …)" */
  get detail(): string {
    const bits: string[] = []
    if (this.operation)
      bits.push(this.operation + (this.partNumber ? ` part ${this.partNumber}` : ''))
    const http = [this.status ? `HTTP ${this.status}` : '', this.code].filter(Boolean).join(' ')
    if (http) bits.push(http)
    if (this.requestId) bits.push(`request id ${this.requestId}`)
    const cause = this.cause instanceof Error ? this.cause.message : undefined
    if (cause && cause !== this.message) bits.push(cause)
    return bits.join(': ')
  }

  toInfo(): UploadErrorInfo {
    return { code: this.code, message: this.message, detail: this.detail || undefined }
  }
}

export function isUploadError(e: unknown): e is UploadError {
  return e instanceof UploadError
}

/** An abort we asked for (pause, cancel, close): never reported as a failure. */
export function isAbortError(e: unknown): boolean {
  return (
    e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR')
  )
}
