/**
 * The reference upload backend: Companion's S3 multipart routes (so Uppy and Upreel work against
 * it unchanged) plus what Companion lacks for a real deployment — bearer-token auth, persisted
 * ownership of every upload, per-user keys, content-type and size limits, CORS, JSON errors,
 * logs without secrets, graceful shutdown. Plain node:http: eight routes do not need a framework,
 * and every dependency of an internet-facing signer is attack surface (see README).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createS3Client } from '../main/core/s3/client'
import {
  resolveConfig,
  S3_MAX_PARTS,
  tokenHash,
  type BackendConfig,
  type BackendConfigInput,
} from './config'
import { answerPreflight, applyCors, HttpError, readJson, sendJson } from './http'
import {
  contentTypeAllowed,
  keyLayout,
  normalizeContentType,
  renderKey,
  sanitizeFilename,
  thumbnailKeyFor,
} from './keys'
import { OwnershipStore, type UploadRecord } from './ownership'

export interface RunningBackend {
  /** Base URL clients use, e.g. http://127.0.0.1:3020 */
  url: string
  port: number
  config: BackendConfig
  /** Requests being handled right now. */
  readonly inFlight: number
  /** Graceful: stops accepting, lets requests in flight finish (up to shutdownGraceMs). */
  close(): Promise<void>
}

/** S3 caps user metadata at 2 KB (keys + values, AWS "Working with object metadata"). */
const MAX_METADATA_BYTES = 2048

// Companion's own validation messages, kept word for word so clients written against Companion
// see the errors they expect.
const MSG_KEY =
  's3: the object key must be passed as a query parameter. For example: "?key=abc.jpg"'
const MSG_PART = 's3: the part number must be a number between 1 and 10000.'
const MSG_PARTS =
  's3: the part numbers must be passed as a comma separated query parameter. For example: "?partNumbers=4,6,7,21"'
const MSG_COMPLETE = 's3: `parts` must be an array of {ETag, PartNumber} objects.'
const MSG_FILENAME = 's3: the "filename" field is required and must be a non-empty string'
const MSG_TYPE = 's3: content type must be a string'
const MSG_NOT_YOURS = 'You do not have access to this upload.'

interface Ctx {
  req: IncomingMessage
  url: URL
  userId: string
  params: Record<string, string>
  /** Filled by handlers for the log line. */
  log: Record<string, unknown>
}

type Handler = (ctx: Ctx) => Promise<unknown>

export async function startBackend(
  input: BackendConfigInput | BackendConfig,
): Promise<RunningBackend> {
  const config = resolveConfig(input as BackendConfigInput)
  const log = config.log
  const { store, skipped, pruned } = await OwnershipStore.open(config.dataDir, {
    retainFinishedMs: config.finishedRetentionDays * 86_400_000,
  })
  if (skipped)
    log({ level: 'warn', msg: 'ownership file: unreadable lines ignored', lines: skipped })
  if (pruned)
    log({
      level: 'info',
      msg: 'ownership file: finished uploads past the retention window dropped',
      records: pruned,
      days: config.finishedRetentionDays,
    })
  const s3 = createS3Client({
    endpoint: config.s3.endpoint,
    region: config.s3.region,
    forcePathStyle: config.s3.forcePathStyle,
    credentials: config.s3.credentials,
  })
  const bucket = config.s3.bucket
  const users = new Map<string, string>()
  for (const [token, userId] of Object.entries(config.tokens)) {
    users.set(token.startsWith('sha256:') ? token.slice(7).toLowerCase() : tokenHash(token), userId)
  }

  const routes = buildRoutes({ config, store, s3, bucket })
  let closing = false
  let inFlight = 0

  const server = createServer((req, res) => {
    void handle(req, res)
  })
  // Slowloris guards: a client gets 15 s to send headers and 60 s for a whole (small) request.
  server.headersTimeout = 15_000
  server.requestTimeout = 60_000

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now()
    inFlight++
    const requestId = randomUUID()
    const entry: Record<string, unknown> = { requestId, method: req.method }
    res.setHeader('X-Request-Id', requestId)
    // Signed URLs must never sit in a shared cache.
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    const corsOk = applyCors(req, res, config.corsOrigins)
    let status = 200
    // Decided when answering, not when the request came in: a request that was in flight when
    // shutdown began must not leave its keep-alive connection holding close() up.
    const send = (code: number, body: unknown) => {
      if (closing) res.setHeader('Connection', 'close')
      sendJson(res, code, body)
    }
    try {
      if (req.method === 'OPTIONS') {
        entry.route = 'OPTIONS'
        status = 204
        answerPreflight(res, corsOk)
        return
      }
      const url = new URL(req.url ?? '/', 'http://backend.invalid')
      const match = matchRoute(routes, req.method ?? 'GET', url.pathname)
      entry.route = match?.name ?? 'unknown'
      if (!match) throw new HttpError(404, 'Not Found')
      const userId = match.public ? '' : authenticate(req, users)
      if (userId) entry.user = userId
      const body = await match.handler({ req, url, userId, params: match.params, log: entry })
      send(status, body)
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status
        if (status >= 500 && e.cause) entry.error = describeError(e.cause)
        if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer')
        send(status, { error: e.message, ...(e.code ? { code: e.code } : {}), requestId })
      } else {
        status = 500
        entry.error = describeError(e)
        send(500, { error: 'The upload server had an internal error.', requestId })
      }
    } finally {
      inFlight--
      entry.status = status
      entry.ms = Math.round(performance.now() - started)
      log({ level: status >= 500 ? 'error' : 'info', msg: 'request', ...entry })
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  log({ level: 'info', msg: 'listening', url, bucket, records: store.size })

  let closed: Promise<void> | undefined
  const close = () =>
    (closed ??= (async () => {
      closing = true
      log({ level: 'info', msg: 'shutting down' })
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs)
        force.unref()
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      })
      s3.destroy()
      await store.close()
      log({ level: 'info', msg: 'stopped' })
    })())

  return {
    url,
    port,
    config,
    get inFlight() {
      return inFlight
    },
    close,
  }
}

interface Route {
  name: string
  method: string
  /** Path segments; ':name' captures one (URL-decoded). */
  pattern: string[]
  handler: Handler
  public?: boolean
}

function matchRoute(routes: Route[], method: string, pathname: string) {
  const segs = pathname.split('/').filter(Boolean)
  for (const r of routes) {
    if (r.method !== method || r.pattern.length !== segs.length) continue
    const params: Record<string, string> = {}
    let ok = true
    for (let i = 0; i < segs.length && ok; i++) {
      const p = r.pattern[i]!
      let seg: string
      try {
        seg = decodeURIComponent(segs[i]!)
      } catch {
        ok = false
        break
      }
      if (p.startsWith(':')) params[p.slice(1)] = seg
      else ok = p === seg
    }
    if (ok) return { name: r.name, handler: r.handler, params, public: r.public }
  }
  return undefined
}

function authenticate(req: IncomingMessage, users: Map<string, string>): string {
  const header = req.headers.authorization ?? ''
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  const userId = m ? users.get(tokenHash(m[1]!)) : undefined
  if (!userId)
    throw new HttpError(
      401,
      m
        ? 'The sign-in token was not accepted.'
        : 'Sign-in required: send "Authorization: Bearer <token>".',
    )
  return userId
}

function buildRoutes(deps: {
  config: BackendConfig
  store: OwnershipStore
  s3: S3Client
  bucket: string
}): Route[] {
  const { config, store, s3, bucket } = deps
  const layout = keyLayout(config.keyTemplate)

  function requireKey(url: URL): string {
    const key = url.searchParams.get('key')
    if (!key) throw new HttpError(400, MSG_KEY)
    return key
  }

  /** The upload, if the caller owns it; one answer for "not yours" and "no such upload". */
  function owned(ctx: Ctx): UploadRecord {
    const key = requireKey(ctx.url)
    const uploadId = ctx.params.uploadId!
    ctx.log.uploadId = uploadId
    const rec = store.get(uploadId)
    if (!rec || rec.key !== key || rec.userId !== ctx.userId)
      throw new HttpError(403, MSG_NOT_YOURS)
    return rec
  }

  /**
   * A finished upload answers 404, as an upload gone from S3 does: that is what Companion clients
   * (Uppy, Upreel) act on, and they can do nothing with the parts of a finished upload. The
   * distinct `code` and text let a client that looks tell "already complete" (send complete
   * again: it answers the first completion's result) from "gone" (start over).
   */
  function requireOpen(rec: UploadRecord) {
    if (rec.state === 'completed')
      throw new HttpError(
        404,
        'This upload is already complete; send complete again to get its location.',
        'UploadCompleted',
      )
    if (rec.state !== 'open')
      throw new HttpError(404, 'This upload was cancelled.', 'UploadCancelled')
  }

  /**
   * Every part but the last holds at least minPartSize bytes, so signing part N means the file is
   * larger than (N − 1) × minPartSize: refuse numbers that can only be reached past the limit.
   */
  function checkPartNumber(rec: UploadRecord, partNumber: number) {
    if (partNumber > 1 && (partNumber - 1) * config.minPartSize >= rec.sizeLimit)
      throw new HttpError(
        413,
        `Part ${partNumber} would take this upload past its size limit (${rec.sizeLimit} bytes).`,
      )
  }

  async function presignPart(rec: UploadRecord, partNumber: number): Promise<string> {
    return getSignedUrl(
      s3,
      new UploadPartCommand({
        Bucket: rec.bucket,
        Key: rec.key,
        UploadId: rec.uploadId,
        PartNumber: partNumber,
      }),
      { expiresIn: config.urlExpiresSeconds },
    )
  }

  async function listAllParts(rec: UploadRecord): Promise<Part[]> {
    const parts: Part[] = []
    let marker: string | undefined
    for (;;) {
      const res = await s3.send(
        new ListPartsCommand({
          Bucket: rec.bucket,
          Key: rec.key,
          UploadId: rec.uploadId,
          PartNumberMarker: marker,
          MaxParts: 1000,
        }),
      )
      parts.push(...(res.Parts ?? []))
      if (!res.IsTruncated || !res.NextPartNumberMarker) return parts
      marker = res.NextPartNumberMarker
    }
  }

  /**
   * After NoSuchUpload at complete, for an upload still open in our records: if S3's answer to an
   * earlier Complete of ours was lost, the object is there and its ETag is the multipart ETag of
   * exactly the parts the client names (md5 of their binary MD5s, "-N"), which only that
   * Complete can have produced (only the backend completes, after its checks). Then it is
   * recorded as completed and answered as one; otherwise the upload is gone and `cause` stands.
   */
  async function recoverCompleted(
    ctx: Ctx,
    rec: UploadRecord,
    parts: ClientPart[],
    cause: unknown,
  ): Promise<unknown> {
    if (!(cause instanceof HttpError && cause.code === 'NoSuchUpload')) throw cause
    const expected = multipartEtag(parts)
    if (!expected) throw cause
    const head = await s3
      .send(new HeadObjectCommand({ Bucket: rec.bucket, Key: rec.key }))
      .catch((e: unknown) => {
        if ((e as { name?: string })?.name === 'NotFound') return undefined
        throw s3Failure('HeadObject', e)
      })
    if (!head || normalizeEtag(head.ETag ?? '') !== expected) throw cause
    if ((head.ContentLength ?? 0) > rec.sizeLimit) {
      ctx.log.error = 'a completed object is over its size limit'
      throw new HttpError(413, `This file is over this upload's limit of ${rec.sizeLimit} bytes.`)
    }
    await store.markCompleted(rec.uploadId, {
      location: await objectUrl(rec),
      etag: head.ETag,
    })
    ctx.log.recovered = true
    ctx.log.bytes = head.ContentLength
    return completedAnswer(rec)
  }

  /** The object's URL as S3's Complete gives it (endpoint and addressing style of this client). */
  async function objectUrl(rec: UploadRecord): Promise<string> {
    const signed = await getSignedUrl(
      s3,
      new HeadObjectCommand({ Bucket: rec.bucket, Key: rec.key }),
      { expiresIn: 60 },
    )
    return signed.split('?')[0]!
  }

  /** Validates the create fields shared by the multipart and presigned-POST routes. */
  function planObject(
    ctx: Ctx,
    input: { filename: unknown; type: unknown; metadata: unknown; size: unknown },
  ) {
    if (typeof input.filename !== 'string' || !input.filename.trim())
      throw new HttpError(400, MSG_FILENAME)
    if (typeof input.type !== 'string') throw new HttpError(400, MSG_TYPE)
    const type = normalizeContentType(input.type)
    if (!contentTypeAllowed(type, config.allowedContentTypes))
      throw new HttpError(
        415,
        `Files of type "${type.slice(0, 100)}" are not accepted here (allowed: ${config.allowedContentTypes.join(', ')}).`,
      )
    const metadata = cleanMetadata(input.metadata)
    const declared = parseSize(input.size ?? metadata.size)
    if (declared !== undefined && declared > config.maxFileSize)
      throw new HttpError(
        413,
        `This file is ${declared} bytes; the largest accepted is ${config.maxFileSize} bytes.`,
      )
    let key: string
    let thumbnailFor: string | undefined
    // `thumbnailFor` (documented) or `thumbnail-for` (the engine's metadata name, whose value is
    // RFC 2047-encoded when the key is not ASCII).
    const forKey = metadata.thumbnailFor ?? metadata['thumbnail-for']
    if (forKey !== undefined) {
      thumbnailFor = decodeRfc2047(forKey)
      if (type !== 'image/jpeg')
        throw new HttpError(400, 'A thumbnail (metadata.thumbnailFor) must be an image/jpeg.')
      const video = store.findByKey(thumbnailFor)
      if (!video || video.userId !== ctx.userId || video.thumbnailFor !== undefined)
        throw new HttpError(403, 'A thumbnail can only be added to a video you uploaded.')
      const thumbKey = thumbnailKeyFor(video.key, layout, ctx.userId)
      // The video was recorded under another key template, one without a folder of its own.
      if (!thumbKey)
        throw new HttpError(400, 'This video has no folder of its own to put a thumbnail in.')
      if (thumbKey === video.key)
        throw new HttpError(400, 'This video is named like its thumbnail; rename it and retry.')
      key = thumbKey
    } else {
      key = renderKey(config.keyTemplate, {
        userId: ctx.userId,
        uuid: randomUUID(),
        filename: sanitizeFilename(input.filename),
      })
    }
    return {
      key,
      type,
      metadata,
      declared,
      thumbnailFor,
      sizeLimit: Math.min(declared ?? config.maxFileSize, config.maxFileSize),
    }
  }

  const routes: Route[] = [
    {
      name: 'health',
      method: 'GET',
      pattern: ['health'],
      public: true,
      handler: async () => ({ ok: true }),
    },
    {
      name: 'create',
      method: 'POST',
      pattern: ['s3', 'multipart'],
      handler: async (ctx) => {
        const body = asObject(await readJson(ctx.req))
        const plan = planObject(ctx, {
          filename: body.filename,
          type: body.type,
          metadata: body.metadata,
          size: body.size,
        })
        const created = await s3Call('CreateMultipartUpload', () =>
          s3.send(
            new CreateMultipartUploadCommand({
              Bucket: bucket,
              Key: plan.key,
              ContentType: plan.type,
              Metadata: encodeMetadata(plan.metadata),
            }),
          ),
        ).catch(async (e: unknown) => {
          // An answer lost on the way back (connection cut, timeout) may hide an upload S3 did
          // open. The key is ours and unique, so whatever is open under it is that upload: abort
          // it before answering, or it would be left behind where no client can name it.
          await abortOpenUnder(s3, bucket, plan.key)
          throw e
        })
        const uploadId = created.UploadId!
        ctx.log.uploadId = uploadId
        try {
          await store.add({
            uploadId,
            key: plan.key,
            bucket,
            userId: ctx.userId,
            contentType: plan.type,
            declaredSize: plan.declared,
            sizeLimit: plan.sizeLimit,
            thumbnailFor: plan.thumbnailFor,
            createdAt: Date.now(),
            state: 'open',
          })
        } catch (e) {
          // Without a record nobody could ever finish or cancel it: do not leave it open.
          await s3
            .send(
              new AbortMultipartUploadCommand({
                Bucket: bucket,
                Key: plan.key,
                UploadId: uploadId,
              }),
            )
            .catch(() => undefined)
          throw e
        }
        return { key: plan.key, uploadId, bucket }
      },
    },
    {
      name: 'batch',
      method: 'GET',
      pattern: ['s3', 'multipart', ':uploadId', 'batch'],
      handler: async (ctx) => {
        const rec = owned(ctx)
        const raw = ctx.url.searchParams.get('partNumbers')
        if (!raw) throw new HttpError(400, MSG_PARTS)
        const numbers = raw.split(',').map(parsePartNumber)
        if (numbers.length > config.maxBatchParts)
          throw new HttpError(400, `At most ${config.maxBatchParts} parts can be signed at once.`)
        requireOpen(rec)
        for (const n of numbers) checkPartNumber(rec, n)
        const presignedUrls: Record<string, string> = {}
        for (const n of new Set(numbers)) presignedUrls[String(n)] = await presignPart(rec, n)
        ctx.log.parts = numbers.length
        return { presignedUrls }
      },
    },
    {
      name: 'sign',
      method: 'GET',
      pattern: ['s3', 'multipart', ':uploadId', ':partNumber'],
      handler: async (ctx) => {
        const rec = owned(ctx)
        const n = parsePartNumber(ctx.params.partNumber!)
        requireOpen(rec)
        checkPartNumber(rec, n)
        ctx.log.part = n
        return { url: await presignPart(rec, n), expires: config.urlExpiresSeconds }
      },
    },
    {
      name: 'list',
      method: 'GET',
      pattern: ['s3', 'multipart', ':uploadId'],
      handler: async (ctx) => {
        const rec = owned(ctx)
        requireOpen(rec)
        return s3Call('ListParts', () => listAllParts(rec))
      },
    },
    {
      name: 'complete',
      method: 'POST',
      pattern: ['s3', 'multipart', ':uploadId', 'complete'],
      handler: async (ctx) => {
        const rec = owned(ctx)
        const parts = parseCompleteParts(await readJson(ctx.req))
        // A retried complete whose first answer was lost gets the same answer again.
        if (rec.state === 'completed') return completedAnswer(rec)
        requireOpen(rec)
        let listed: Part[]
        try {
          listed = await s3Call('ListParts', () => listAllParts(rec))
        } catch (e) {
          // AWS forgets a completed upload: a retry after S3's answer to our Complete was lost.
          return recoverCompleted(ctx, rec, parts, e)
        }
        // Complete assembles exactly the parts listed here, whose sizes were just checked: each
        // ETag the client names must be the listed one, and S3 gets the listed ETags. Sizes
        // from the listing with the client's ETags at Complete would let a part re-sent bigger
        // (its URL still valid) between the two calls slip past the size limit: S3 takes
        // whichever part carries the ETag named at Complete. With the listed ETags, a part
        // replaced in that window no longer matches and S3 refuses it (InvalidPart). Checking
        // after the fact (HeadObject, delete if too big) would leave the object readable for a
        // while and need s3:DeleteObject, which the backend's credentials should not have.
        const chosen = partsToAssemble(parts, listed)
        const total = chosen.reduce((sum, p) => sum + (p.Size ?? 0), 0)
        if (total > rec.sizeLimit) {
          await s3Call('AbortMultipartUpload', () =>
            s3.send(
              new AbortMultipartUploadCommand({
                Bucket: rec.bucket,
                Key: rec.key,
                UploadId: rec.uploadId,
              }),
            ),
          ).catch((e: unknown) => {
            if (!(e instanceof HttpError && e.status === 404)) throw e
          })
          await store.markAborted(rec.uploadId)
          throw new HttpError(
            413,
            `The uploaded parts add up to ${total} bytes, over this upload's limit of ${rec.sizeLimit} bytes; the upload was cancelled.`,
          )
        }
        let out
        try {
          out = await s3Call('CompleteMultipartUpload', () =>
            s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: rec.bucket,
                Key: rec.key,
                UploadId: rec.uploadId,
                MultipartUpload: {
                  Parts: chosen.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })),
                },
              }),
            ),
          )
        } catch (e) {
          // The SDK retried a Complete whose answer was lost, and S3 had already completed it.
          return recoverCompleted(ctx, rec, parts, e)
        }
        await store.markCompleted(rec.uploadId, { location: out.Location, etag: out.ETag })
        ctx.log.bytes = total
        return completedAnswer(rec)
      },
    },
    {
      name: 'abort',
      method: 'DELETE',
      pattern: ['s3', 'multipart', ':uploadId'],
      handler: async (ctx) => {
        const rec = owned(ctx)
        if (rec.state === 'aborted') return {}
        if (rec.state === 'completed')
          throw new HttpError(409, 'This upload is already complete; there is nothing to cancel.')
        await s3Call('AbortMultipartUpload', () =>
          s3.send(
            new AbortMultipartUploadCommand({
              Bucket: rec.bucket,
              Key: rec.key,
              UploadId: rec.uploadId,
            }),
          ),
        ).catch((e: unknown) => {
          // Already gone on S3 (aborted by a lifecycle rule, say): the goal is met.
          if (!(e instanceof HttpError && e.status === 404)) throw e
        })
        await store.markAborted(rec.uploadId)
        return {}
      },
    },
    {
      name: 'params',
      method: 'GET',
      pattern: ['s3', 'params'],
      handler: async (ctx) => {
        const q = ctx.url.searchParams
        const metadata: Record<string, string> = {}
        for (const [name, value] of q) {
          const m = /^metadata\[([^\]]+)\]$/.exec(name)
          if (m) metadata[m[1]!] = value
        }
        const plan = planObject(ctx, {
          filename: q.get('filename'),
          type: q.get('type'),
          metadata,
          size: q.get('size') ?? undefined,
        })
        const fields: Record<string, string> = {
          success_action_status: '201',
          'content-type': plan.type,
        }
        for (const [k, v] of Object.entries(encodeMetadata(plan.metadata)))
          fields[`x-amz-meta-${k}`] = v
        const post = await s3Call('PresignedPost', () =>
          createPresignedPost(s3, {
            Bucket: bucket,
            Key: plan.key,
            Fields: fields,
            // The form's policy carries the limits the multipart routes enforce by hand.
            Conditions: [
              ['content-length-range', 0, plan.sizeLimit],
              ['eq', '$Content-Type', plan.type],
            ],
            Expires: config.urlExpiresSeconds,
          }),
        )
        return {
          method: 'POST',
          url: post.url,
          fields: post.fields,
          expires: config.urlExpiresSeconds,
        }
      },
    },
  ]
  return routes
}

/** Best effort: aborts every multipart upload open under exactly `key` (see the create route). */
async function abortOpenUnder(s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    const listed = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, MaxUploads: 1000 }),
    )
    for (const u of listed.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId }))
        .catch(() => undefined)
    }
  } catch {
    // the storage is unreachable: the bucket's AbortIncompleteMultipartUpload rule is the backstop
  }
}

/** Wraps an S3 call: S3's errors become answers a client can act on (Companion sends 500 for all). */
async function s3Call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw s3Failure(operation, e)
  }
}

function s3Failure(operation: string, e: unknown): HttpError {
  const name = (e as { name?: string })?.name ?? ''
  const message = (e as { message?: string })?.message ?? ''
  switch (name) {
    case 'NoSuchUpload':
      return new HttpError(
        404,
        'The storage no longer has this upload (it was cancelled or expired).',
        'NoSuchUpload',
      )
    case 'InvalidPart':
    case 'InvalidPartOrder':
    case 'EntityTooSmall':
    case 'MalformedXML':
      return new HttpError(
        400,
        `The storage refused to assemble the file (${name}): ${message}`,
        name,
      )
    default: {
      const err = new HttpError(
        502,
        `The storage did not complete ${operation}; try again in a moment.`,
      )
      err.cause = e
      return err
    }
  }
}

/** What complete answers, the first time and on every retry. */
function completedAnswer(rec: UploadRecord) {
  return {
    location: rec.location,
    key: rec.key,
    bucket: rec.bucket,
    ...(rec.etag ? { etag: rec.etag } : {}),
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 300)
  return String(e).slice(0, 300)
}

function asObject(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new HttpError(400, 'The request body must be a JSON object.')
  return v as Record<string, unknown>
}

function parsePartNumber(raw: string): number {
  if (!/^\d{1,5}$/.test(raw.trim())) throw new HttpError(400, MSG_PART)
  const n = Number(raw.trim())
  if (n < 1 || n > S3_MAX_PARTS) throw new HttpError(400, MSG_PART)
  return n
}

interface ClientPart {
  PartNumber: number
  ETag: string
}

function parseCompleteParts(body: unknown): ClientPart[] {
  const parts = (body as { parts?: unknown } | null)?.parts
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > S3_MAX_PARTS)
    throw new HttpError(400, MSG_COMPLETE)
  const byNumber = new Map<number, ClientPart>()
  for (const p of parts as unknown[]) {
    const { PartNumber, ETag } = (p ?? {}) as { PartNumber?: unknown; ETag?: unknown }
    if (
      typeof PartNumber !== 'number' ||
      !Number.isInteger(PartNumber) ||
      PartNumber < 1 ||
      PartNumber > S3_MAX_PARTS ||
      typeof ETag !== 'string' ||
      !ETag
    )
      throw new HttpError(400, MSG_COMPLETE)
    const seen = byNumber.get(PartNumber)
    if (seen && normalizeEtag(seen.ETag) !== normalizeEtag(ETag))
      throw new HttpError(400, `Part ${PartNumber} is listed twice with different ETags.`)
    byNumber.set(PartNumber, { PartNumber, ETag })
  }
  // S3 wants them in ascending order (Uppy sends them sorted, other clients may not).
  return [...byNumber.values()].sort((a, b) => a.PartNumber - b.PartNumber)
}

/** `"ABC…"` and `abc…` are the same ETag (clients send them quoted or not). */
function normalizeEtag(etag: string): string {
  return etag.replace(/"/g, '').trim().toLowerCase()
}

/**
 * The listed parts the client names, in order. Plain-words refusals where S3 would only say
 * InvalidPart: a part that is not there, or one that is not the one the client names (re-sent
 * since; the listing is what gets assembled, see the complete route).
 */
function partsToAssemble(parts: ClientPart[], listed: Part[]): Part[] {
  const byNumber = new Map(listed.map((p) => [p.PartNumber, p]))
  return parts.map((p) => {
    const there = byNumber.get(p.PartNumber)
    if (!there?.ETag)
      throw new HttpError(
        400,
        `Part ${p.PartNumber} is not on the storage: it was never uploaded, or its upload did not finish. Upload it again, then complete.`,
        'InvalidPart',
      )
    if (normalizeEtag(there.ETag) !== normalizeEtag(p.ETag))
      throw new HttpError(
        409,
        `Part ${p.PartNumber} on the storage is not the one named here: it was uploaded again since. List the parts and complete with the ETags listed.`,
        'PartChanged',
      )
    return there
  })
}

/**
 * S3's ETag of a multipart object: md5 of the parts' binary MD5s, then "-N". Undefined when a
 * part ETag is not an MD5 (SSE-KMS, some S3-compatibles), where it cannot be predicted.
 */
function multipartEtag(parts: ClientPart[]): string | undefined {
  const md5s = parts.map((p) => normalizeEtag(p.ETag))
  if (!md5s.every((e) => /^[0-9a-f]{32}$/.test(e))) return undefined
  const hash = createHash('md5')
  for (const e of md5s) hash.update(Buffer.from(e, 'hex'))
  return `${hash.digest('hex')}-${md5s.length}`
}

/** Declared sizes may be a number or a numeric string (Uppy metadata values are strings). */
function parseSize(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < 0)
    throw new HttpError(400, 'size must be a whole number of bytes.')
  return n
}

/**
 * Client metadata as S3 will store it: names S3 accepts, scalar values as strings (Uppy sends
 * nulls and numbers too), at most 2 KB in all.
 */
function cleanMetadata(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v))
    throw new HttpError(400, 'metadata must be an object.')
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [k, value] of Object.entries(v)) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(k)) continue
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      continue
    const s = String(value)
    bytes += Buffer.byteLength(k) + Buffer.byteLength(s)
    out[k] = s
  }
  if (bytes > MAX_METADATA_BYTES)
    throw new HttpError(400, `metadata is larger than ${MAX_METADATA_BYTES} bytes.`)
  return out
}

/**
 * HTTP headers carry ASCII only: other values are stored RFC 2047-encoded (`=?UTF-8?B?…?=`), as
 * Companion does, so clients reading either backend's objects decode them the same way.
 */
function encodeMetadata(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(meta)) {
    out[k] = /^[\x20-\x7e]*$/.test(v)
      ? v
      : `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`
  }
  return out
}

/** `=?UTF-8?B?…?=` → text; anything else unchanged. */
function decodeRfc2047(v: string): string {
  const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i.exec(v)
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : v
}
