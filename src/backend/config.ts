/**
 * The reference backend's configuration: a JSON file (UPREEL_BACKEND_CONFIG) and/or environment
 * variables (which win), checked once at start so a bad value stops the server with a clear
 * message instead of failing a creator's upload later.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DEFAULT_KEY_TEMPLATE, validateKeyTemplate } from './keys'

/** S3's minimum part size except for the last part (5 MiB, AWS S3 multipart limits). */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024
/** S3's highest part number (AWS S3 multipart limits). */
export const S3_MAX_PARTS = 10_000

export interface BackendS3Config {
  bucket: string
  /** S3-compatible endpoint (MinIO, R2, Swift…); omit for AWS. */
  endpoint?: string
  region: string
  forcePathStyle?: boolean
  /** Omit to use the AWS default chain (env, profile, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error'
  msg: string
  [field: string]: unknown
}

export interface BackendConfig {
  /** Interface to listen on (default 127.0.0.1: put a TLS proxy in front to expose it). */
  host: string
  /** 0 picks a free port (tests). Default 3020. */
  port: number
  s3: BackendS3Config
  /**
   * Bearer tokens → user ids. A key may be the token itself or `sha256:<hex>` of it, so the file
   * need not hold usable secrets.
   */
  tokens: Record<string, string>
  /** Where upload ownership is persisted (uploads.jsonl). */
  dataDir: string
  /**
   * Days a completed or cancelled upload stays on record (a retried complete gets its first
   * answer, a thumbnail can be added to the video); older ones are dropped at start. Open
   * uploads are kept whatever their age.
   */
  finishedRetentionDays: number
  keyTemplate: string
  /** Exact types or families: default video/* and image/jpeg (posters). */
  allowedContentTypes: string[]
  /** Largest file accepted, in bytes (default 50 GiB). */
  maxFileSize: number
  /**
   * Smallest size a client may use for every part but the last (default: S3's 5 MiB). Signing
   * part N means the file has more than (N − 1) × minPartSize bytes, which bounds part numbers.
   */
  minPartSize: number
  /** Lifetime of presigned URLs in seconds (default 900 = 15 min). */
  urlExpiresSeconds: number
  /** Origins allowed by CORS; ['*'] allows any (safe: auth is a bearer header, not a cookie). */
  corsOrigins: string[]
  /** Most part numbers in one batch-sign request. */
  maxBatchParts: number
  /** How long a graceful shutdown waits for requests in flight before cutting them (ms). */
  shutdownGraceMs: number
  /** Where log lines go (default: one JSON line per entry on stdout). */
  log: (entry: LogEntry) => void
}

export type BackendConfigInput = Partial<Omit<BackendConfig, 's3'>> & {
  s3: Partial<BackendS3Config> & { bucket: string }
  tokens: Record<string, string>
}

/** 50 GiB: a long 4K recording; raise it in the configuration for bigger masters. */
export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 ** 3
/** 30 days: far longer than any client retries a complete, short enough to bound the file. */
export const DEFAULT_FINISHED_RETENTION_DAYS = 30
/** 15 minutes: long enough for a 16 MiB part on a slow uplink, short enough to limit a leak. */
export const DEFAULT_URL_EXPIRES_SECONDS = 900
export const DEFAULT_PORT = 3020

export function defaultLog(entry: LogEntry): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n')
}

/** Fills defaults and validates; throws an Error naming the bad setting. */
export function resolveConfig(input: BackendConfigInput): BackendConfig {
  const cfg: BackendConfig = {
    host: input.host ?? '127.0.0.1',
    port: input.port ?? DEFAULT_PORT,
    s3: {
      bucket: input.s3.bucket,
      endpoint: input.s3.endpoint || undefined,
      region: input.s3.region ?? 'us-east-1',
      forcePathStyle: input.s3.forcePathStyle ?? Boolean(input.s3.endpoint),
      credentials: input.s3.credentials,
    },
    tokens: input.tokens,
    dataDir: resolve(input.dataDir ?? '.upreel-backend'),
    finishedRetentionDays: input.finishedRetentionDays ?? DEFAULT_FINISHED_RETENTION_DAYS,
    keyTemplate: input.keyTemplate ?? DEFAULT_KEY_TEMPLATE,
    allowedContentTypes: input.allowedContentTypes ?? ['video/*', 'image/jpeg'],
    maxFileSize: input.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    minPartSize: input.minPartSize ?? S3_MIN_PART_SIZE,
    urlExpiresSeconds: input.urlExpiresSeconds ?? DEFAULT_URL_EXPIRES_SECONDS,
    corsOrigins: input.corsOrigins ?? ['*'],
    maxBatchParts: input.maxBatchParts ?? 1000,
    shutdownGraceMs: input.shutdownGraceMs ?? 10_000,
    log: input.log ?? defaultLog,
  }
  if (!cfg.s3.bucket) throw new Error('config: s3.bucket (UPREEL_BACKEND_BUCKET) is required')
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535)
    throw new Error('config: port must be 0..65535')
  const users = Object.entries(cfg.tokens ?? {})
  if (users.length === 0)
    throw new Error('config: at least one token is required (tokens / UPREEL_BACKEND_TOKENS)')
  for (const [token, userId] of users) {
    if (!token.startsWith('sha256:') && token.length < 16)
      throw new Error(`config: the token of user "${userId}" is shorter than 16 characters`)
    if (token.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/i.test(token))
      throw new Error(`config: the sha256 token of user "${userId}" is not 64 hex digits`)
    // User ids become key prefixes: keep them to characters that cannot escape the prefix.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(userId) || /^\.+$/.test(userId))
      throw new Error(`config: user id "${userId}" must be 1-64 of A-Z a-z 0-9 . _ -`)
  }
  validateKeyTemplate(cfg.keyTemplate)
  if (!cfg.allowedContentTypes.length) throw new Error('config: allowedContentTypes is empty')
  positiveInt('maxFileSize', cfg.maxFileSize)
  positiveInt('minPartSize', cfg.minPartSize)
  positiveInt('urlExpiresSeconds', cfg.urlExpiresSeconds)
  positiveInt('maxBatchParts', cfg.maxBatchParts)
  positiveInt('finishedRetentionDays', cfg.finishedRetentionDays)
  // SigV4 presigned URLs cannot live longer than 7 days.
  if (cfg.urlExpiresSeconds > 604_800) throw new Error('config: urlExpiresSeconds must be ≤ 604800')
  return cfg
}

function positiveInt(name: string, v: number) {
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new Error(`config: ${name} must be a positive integer`)
}

/** sha256 hex of a token: the form tokens are compared in. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/**
 * Reads UPREEL_BACKEND_CONFIG (a JSON file shaped like BackendConfigInput) and lets individual
 * environment variables override it:
 * UPREEL_BACKEND_HOST, _PORT, _BUCKET, _TOKENS ("token=user,token2=user2"), _DATA_DIR,
 * _KEY_TEMPLATE, _CONTENT_TYPES ("video/*,image/jpeg"), _MAX_FILE_SIZE (bytes), _URL_EXPIRES
 * (seconds), _CORS_ORIGINS ("https://a.example,https://b.example" or "*"), _RETENTION_DAYS;
 * S3: S3_ENDPOINT (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), AWS_REGION, S3_FORCE_PATH_STYLE,
 * credentials from the AWS default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile…).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BackendConfigInput {
  const file = env.UPREEL_BACKEND_CONFIG
  const base = file
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<BackendConfigInput>)
    : ({} as Partial<BackendConfigInput>)
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  const int = (name: string) => {
    const v = env[name]
    if (v === undefined || v === '') return undefined
    if (!/^\d+$/.test(v)) throw new Error(`config: ${name} must be a whole number`)
    return Number(v)
  }
  let tokens = base.tokens
  if (env.UPREEL_BACKEND_TOKENS) {
    tokens = {}
    for (const pair of list(env.UPREEL_BACKEND_TOKENS) ?? []) {
      const eq = pair.lastIndexOf('=')
      if (eq <= 0) throw new Error('config: UPREEL_BACKEND_TOKENS must be "token=user,…"')
      tokens[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  }
  const endpoint =
    env.S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? base.s3?.endpoint
  const pathStyle = env.S3_FORCE_PATH_STYLE
  return {
    ...base,
    host: env.UPREEL_BACKEND_HOST ?? base.host,
    port: int('UPREEL_BACKEND_PORT') ?? base.port,
    dataDir: env.UPREEL_BACKEND_DATA_DIR ?? base.dataDir,
    finishedRetentionDays: int('UPREEL_BACKEND_RETENTION_DAYS') ?? base.finishedRetentionDays,
    keyTemplate: env.UPREEL_BACKEND_KEY_TEMPLATE ?? base.keyTemplate,
    allowedContentTypes: list(env.UPREEL_BACKEND_CONTENT_TYPES) ?? base.allowedContentTypes,
    maxFileSize: int('UPREEL_BACKEND_MAX_FILE_SIZE') ?? base.maxFileSize,
    urlExpiresSeconds: int('UPREEL_BACKEND_URL_EXPIRES') ?? base.urlExpiresSeconds,
    corsOrigins: list(env.UPREEL_BACKEND_CORS_ORIGINS) ?? base.corsOrigins,
    tokens: tokens ?? {},
    s3: {
      ...base.s3,
      bucket: env.UPREEL_BACKEND_BUCKET ?? base.s3?.bucket ?? '',
      endpoint,
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? base.s3?.region,
      forcePathStyle:
        pathStyle !== undefined
          ? pathStyle === 'true' || pathStyle === '1'
          : base.s3?.forcePathStyle,
    },
  }
}
