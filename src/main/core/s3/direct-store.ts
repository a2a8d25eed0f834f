import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createReadStream } from 'node:fs'
import { isAbortError, UploadError } from '../errors'
import type { ObjectOptions } from '../journal/types'
import type {
  CompletedObject,
  CreatedMultipart,
  CreateMultipartInput,
  ListedUpload,
  MultipartTarget,
  ObjectStore,
  PutSmallInput,
  RemotePart,
  SignedPartRequest,
} from '../ports'
import { createS3Client, type S3ConnectionConfig } from './client'
import { explainS3Error, isNetworkError, networkError } from './explain'

/**
 * Part URLs are presigned for an hour. They are signed right before each PUT, so this only has to
 * outlive one part on a slow uplink (16 MiB at 1 Mbit/s ≈ 2 min; a 5 GiB part at 20 Mbit/s ≈ 36 min).
 */
const PART_URL_LIFETIME_S = 3600

export interface DirectS3Config extends S3ConnectionConfig {
  bucket: string
}

/**
 * Direct mode: the user's own credentials. Control requests (create, list, complete, abort) go
 * through the SDK; part bytes are PUT by the engine to URLs presigned here, so they travel with
 * UNSIGNED-PAYLOAD (no SHA-256 of every byte just to sign) and Content-MD5 (the server verifies
 * every byte), through the same code path as backend mode.
 */
export class DirectS3Store implements ObjectStore {
  readonly destinationId: string
  readonly label: string
  readonly client: S3Client

  constructor(
    readonly config: DirectS3Config,
    client?: S3Client,
  ) {
    this.client = client ?? createS3Client(config)
    this.destinationId = `s3:${config.endpoint ?? `aws:${config.region}`}/${config.bucket}`
    this.label = config.endpoint ? `${config.endpoint}/${config.bucket}` : `s3://${config.bucket}`
  }

  private get bucket() {
    return this.config.bucket
  }

  async createMultipart(
    input: CreateMultipartInput,
    signal?: AbortSignal,
  ): Promise<CreatedMultipart> {
    const res = await this.call('CreateMultipartUpload', signal, undefined, () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: input.key,
          ContentType: input.contentType,
          Metadata: input.metadata,
          ...objectParams(input.options),
        }),
        { abortSignal: signal },
      ),
    )
    if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId')
    return { key: input.key, uploadId: res.UploadId, bucket: this.bucket }
  }

  async signPart(target: MultipartTarget, partNumber: number): Promise<SignedPartRequest> {
    const url = await this.call('SignPart', undefined, partNumber, () =>
      getSignedUrl(
        this.client,
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: target.key,
          UploadId: target.uploadId,
          PartNumber: partNumber,
        }),
        // The presigner stamps `new Date()` and ignores the clock offset the client learnt from
        // the server (RequestTimeTooSkewed, see `call`): with a system clock far off, every part
        // URL would carry a wrong X-Amz-Date and be refused (expired, or not yet valid).
        { expiresIn: PART_URL_LIFETIME_S, signingDate: this.serverNow() },
      ),
    )
    return { url, expiresAt: Date.now() + PART_URL_LIFETIME_S * 1000 }
  }

  /** The server's time as this client knows it: the system clock plus the learnt offset. */
  private serverNow(): Date {
    return new Date(Date.now() + (this.client.config.systemClockOffset || 0))
  }

  async listParts(target: MultipartTarget, signal?: AbortSignal): Promise<RemotePart[]> {
    const parts: RemotePart[] = []
    let marker: string | undefined
    for (;;) {
      const res = await this.call('ListParts', signal, undefined, () =>
        this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: target.key,
            UploadId: target.uploadId,
            PartNumberMarker: marker,
            MaxParts: 1000,
          }),
          { abortSignal: signal },
        ),
      )
      for (const p of res.Parts ?? []) {
        parts.push({ partNumber: p.PartNumber!, etag: unquote(p.ETag), size: p.Size ?? 0 })
      }
      if (!res.IsTruncated) return parts
      // "Truncated" without a next marker (some S3-compatibles): S3's marker is the last part
      // listed. Stopping here would hide parts (sent again needlessly); looping, forever.
      const next = res.NextPartNumberMarker ?? res.Parts?.at(-1)?.PartNumber
      if (next === undefined || String(next) === marker) throw listingStuck('ListParts')
      marker = String(next)
    }
  }

  async complete(
    target: MultipartTarget,
    parts: { partNumber: number; etag: string }[],
    signal?: AbortSignal,
  ): Promise<CompletedObject> {
    const res = await this.call('CompleteMultipartUpload', signal, undefined, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: target.key,
          UploadId: target.uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })),
          },
        }),
        { abortSignal: signal },
      ),
    )
    return {
      key: target.key,
      bucket: this.bucket,
      etag: unquote(res.ETag),
      location: res.Location,
      encryption: encryptionOf(res),
    }
  }

  async abort(target: MultipartTarget, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('AbortMultipartUpload', signal, undefined, () =>
        this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: target.key,
            UploadId: target.uploadId,
          }),
          { abortSignal: signal },
        ),
      )
    } catch (e) {
      if (e instanceof UploadError && e.code === 'NoSuchUpload') return
      throw e
    }
  }

  async putSmall(input: PutSmallInput): Promise<CompletedObject> {
    const abortController = new AbortController()
    const onAbort = () => abortController.abort()
    input.signal.addEventListener('abort', onAbort, { once: true })
    try {
      // A fresh Upload (and file stream) per call: `call` may send it a second time.
      const send = () => {
        const upload = new Upload({
          client: this.client,
          // One part: lib-storage sends a single PutObject when the body fits in partSize.
          partSize: Math.max(5 * 1024 * 1024, input.size + 1),
          queueSize: 1,
          leavePartsOnError: false,
          abortController,
          params: {
            Bucket: this.bucket,
            Key: input.key,
            Body: input.size === 0 ? Buffer.alloc(0) : createReadStream(input.path),
            ContentLength: input.size,
            ContentMD5: input.md5Base64,
            ContentType: input.contentType,
            Metadata: input.metadata,
            ...objectParams(input.options),
          },
        })
        upload.on('httpUploadProgress', (p) => {
          if (typeof p.loaded === 'number') input.onProgress(p.loaded)
        })
        return upload.done()
      }
      const res = await this.call('PutObject', input.signal, undefined, send)
      input.onProgress(input.size)
      return {
        key: input.key,
        bucket: this.bucket,
        etag: unquote(res.ETag),
        location: res.Location,
        encryption: encryptionOf(res),
      }
    } finally {
      input.signal.removeEventListener('abort', onAbort)
    }
  }

  async listMultipartUploads(prefix: string, signal?: AbortSignal): Promise<ListedUpload[]> {
    const out: ListedUpload[] = []
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    for (;;) {
      const res = await this.call('ListMultipartUploads', signal, undefined, () =>
        this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix || undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
            // Swift's s3api cannot paginate with MaxUploads=1; AWS's maximum is 1000.
            MaxUploads: 1000,
          }),
          { abortSignal: signal },
        ),
      )
      for (const u of res.Uploads ?? []) {
        out.push({ key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated })
      }
      if (!res.IsTruncated) return out
      // Without next markers, the request for the "next" page asked for the first page again,
      // forever. S3's markers are the last upload listed, so that is what is sent instead.
      const last = res.Uploads?.at(-1)
      const nextKey = res.NextKeyMarker ?? last?.Key
      const nextId = res.NextKeyMarker ? res.NextUploadIdMarker : last?.UploadId
      if (!nextKey || (nextKey === keyMarker && nextId === uploadIdMarker))
        throw listingStuck('ListMultipartUploads')
      keyMarker = nextKey
      uploadIdMarker = nextId
    }
  }

  async headObject(key: string, signal?: AbortSignal) {
    try {
      const res = await this.call('HeadObject', signal, undefined, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
          abortSignal: signal,
        }),
      )
      return { etag: unquote(res.ETag), size: res.ContentLength }
    } catch (e) {
      if (e instanceof UploadError && (e.status === 404 || e.code === 'NotFound')) return undefined
      throw e
    }
  }

  destroy(): void {
    this.client.destroy()
  }

  /** Runs an SDK call and turns its failures into UploadErrors with plain words. */
  private async call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    partNumber: number | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const offset = this.client.config.systemClockOffset
    try {
      return await fn()
    } catch (e) {
      // A clock far off the server's: the SDK has just set its offset from the answer's Date
      // (it would then retry itself, but its retries are off: see client.ts), so the same
      // request signed again now goes through. Once only; a clock that keeps drifting fails
      // with RequestTimeTooSkewed's own message.
      if (isSkewError(e) && this.client.config.systemClockOffset !== offset && !signal?.aborted) {
        try {
          return await fn()
        } catch (again) {
          throw toUploadError(again, operation, signal, partNumber)
        }
      }
      throw toUploadError(e, operation, signal, partNumber)
    }
  }
}

/** A listing that says it goes on but gives no way to read further: stop rather than loop. */
function listingStuck(operation: string): UploadError {
  return new UploadError({
    code: 'ListingStuck',
    message:
      'The storage said its list goes on but gave no way to read the rest (no next marker), so Upreel stopped reading it. Retry later, or report it to whoever runs the storage.',
    operation,
  })
}

function isSkewError(e: unknown): boolean {
  const err = e as { name?: string; Code?: string }
  return err?.name === 'RequestTimeTooSkewed' || err?.Code === 'RequestTimeTooSkewed'
}

export function toUploadError(
  e: unknown,
  operation: string,
  signal?: AbortSignal,
  partNumber?: number,
): unknown {
  if (signal?.aborted || isAbortError(e)) {
    const err = new Error('aborted')
    err.name = 'AbortError'
    return err
  }
  if (e instanceof UploadError) return e
  const meta = (e as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata
  const status = meta?.httpStatusCode
  if (!status) {
    if (isNetworkError(e)) return networkError(operation, e, partNumber)
    // The SDK's default chain found nothing usable (no env, profile, SSO or instance role).
    if (e instanceof Error && /credential/i.test(`${e.name} ${e.message}`)) {
      return new UploadError({
        code: 'NoCredentials',
        message:
          'No S3 credentials were found. Enter an access key in Settings, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE.',
        operation,
        cause: e,
      })
    }
  }
  const err = e as { name?: string; Code?: string; message?: string }
  // Some servers answer errors the SDK cannot parse (Swift's HTML for bad credentials): the SDK
  // then names them after the status ("Forbidden") or "Unknown".
  let code = err.Code ?? err.name
  if (code === 'UnknownError' || code === 'Unknown' || code === 'Error') code = undefined
  if (!code && status === 403) code = 'AccessDenied'
  if (!code && status === 404 && operation === 'HeadBucket') code = 'NoSuchBucket'
  return explainS3Error(code, {
    operation,
    partNumber,
    status,
    requestId: meta?.requestId,
    serverMessage: err.message,
    cause: e,
  })
}

function objectParams(o: ObjectOptions | undefined) {
  if (!o) return {}
  return {
    ACL: o.acl,
    ServerSideEncryption: o.sse,
    SSEKMSKeyId: o.sse === 'aws:kms' ? o.kmsKeyId : undefined,
    StorageClass: o.storageClass as never,
  }
}

/** What the storage says it encrypted with (see put-part.ts etagIsContentMd5). */
function encryptionOf(res: object): string | undefined {
  const r = res as { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }
  return r.SSECustomerAlgorithm ? 'SSE-C' : r.ServerSideEncryption
}

export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '').toLowerCase()
}
