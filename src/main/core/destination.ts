import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { isUploadError } from './errors'
import type { HeadersSource } from './backend/companion-store'
import type { DestinationConnection } from './journal/types'
import type { ObjectStore } from './ports'
import { DirectS3Store, toUploadError } from './s3/direct-store'

export interface S3Destination {
  mode: 's3'
  bucket: string
  region: string
  endpoint?: string
  forcePathStyle?: boolean
  /** Omitted: the AWS default chain (env, AWS_PROFILE, shared config/credentials files, SSO). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

export interface BackendDestination {
  mode: 'backend'
  /** Base URL of a Companion-compatible backend (routes under {url}/s3/…). */
  url: string
  headers?: Record<string, string>
  /** Optional processing hook POSTed after each completed upload. */
  hookUrl?: string
}

export type Destination = S3Destination | BackendDestination

/**
 * Where uploads go, built from the destination settings. The store carries the destination's
 * connection settings (no secrets), which the engine journals with each upload.
 */
export async function createObjectStore(
  dest: Destination,
  opts: {
    /** Backend mode: headers asked for on each request instead of `dest.headers` (the app's session cookies). */
    backendHeaders?: HeadersSource
  } = {},
): Promise<ObjectStore> {
  let store: ObjectStore
  if (dest.mode === 's3') {
    store = new DirectS3Store({
      bucket: dest.bucket,
      region: dest.region,
      endpoint: dest.endpoint,
      forcePathStyle: dest.forcePathStyle,
      credentials: dest.credentials,
    })
  } else {
    const { createCompanionStore } = await import('./backend/companion-store')
    store = createCompanionStore({
      baseUrl: dest.url,
      headers: opts.backendHeaders ?? dest.headers,
    })
  }
  ;(store as { connection?: DestinationConnection }).connection = connectionOf(dest)
  return store
}

/** What the journal keeps of a destination: where it is, never how to sign in to it. */
export function connectionOf(dest: Destination): DestinationConnection {
  if (dest.mode === 'backend') {
    return {
      mode: 'backend',
      url: dest.url,
      hookUrl: dest.hookUrl && withoutUserInfo(dest.hookUrl),
    }
  }
  return {
    mode: 's3',
    bucket: dest.bucket,
    region: dest.region,
    endpoint: dest.endpoint && withoutUserInfo(dest.endpoint),
    forcePathStyle: dest.forcePathStyle,
  }
}

/** `https://user:pass@host/x` → `https://host/x`: a password in a URL is still a password. */
function withoutUserInfo(url: string): string {
  try {
    const u = new URL(url)
    if (!u.username && !u.password) return url
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

function truthy(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined
  return /^(1|true|yes|on)$/i.test(v)
}

/**
 * The S3 connection settings the environment gives, whether or not it also names a bucket: a
 * bucket from a flag or from Settings still goes through AWS_ENDPOINT_URL_S3 (the SDK would read
 * it anyway, but with virtual-host addressing that S3-compatible servers mostly refuse).
 * `forcePathStyle` is the explicit variable, or on when an endpoint is set.
 */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  endpoint?: string
  region?: string
  forcePathStyle: boolean
} {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || env.S3_ENDPOINT || undefined
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    // S3-compatible servers (MinIO, Swift, Ceph) mostly need path-style; AWS prefers virtual-host.
    forcePathStyle: truthy(env.AWS_S3_FORCE_PATH_STYLE || env.S3_FORCE_PATH_STYLE) ?? !!endpoint,
  }
}

/**
 * A destination from the environment: the standard AWS variables plus the names the seed platforms
 * use. UPREEL_BACKEND_URL selects backend mode.
 */
export function destinationFromEnv(env: NodeJS.ProcessEnv = process.env): Destination | undefined {
  if (env.UPREEL_BACKEND_URL) {
    const headers: Record<string, string> = {}
    if (env.UPREEL_BACKEND_TOKEN) headers.Authorization = `Bearer ${env.UPREEL_BACKEND_TOKEN}`
    return {
      mode: 'backend',
      url: env.UPREEL_BACKEND_URL,
      headers,
      hookUrl: env.UPREEL_HOOK_URL || undefined,
    }
  }
  const bucket = env.UPREEL_BUCKET || env.AWS_S3_BUCKET || env.S3_BUCKET_NAME || env.S3_BUCKET
  if (!bucket) return undefined
  const s3 = s3SettingsFromEnv(env)
  return {
    mode: 's3',
    bucket,
    region: s3.region ?? 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
  }
}

export interface ConnectionCheck {
  ok: boolean
  message: string
  advice: string[]
}

/**
 * "Test connection": can we reach the destination and is it set up well? Failures in plain words;
 * advice for what works but could be better (no lifecycle rule for incomplete uploads).
 */
export async function testConnection(dest: Destination): Promise<ConnectionCheck> {
  if (dest.mode === 'backend') return testBackend(dest)
  const store = new DirectS3Store({
    bucket: dest.bucket,
    region: dest.region,
    endpoint: dest.endpoint,
    forcePathStyle: dest.forcePathStyle,
    credentials: dest.credentials,
  })
  try {
    try {
      await store.client.send(new HeadBucketCommand({ Bucket: dest.bucket }))
    } catch (e) {
      let err = toUploadError(e, 'HeadBucket')
      // HEAD answers carry no error body: a bare 403 could be a wrong key, a wrong secret or a
      // missing permission. A one-key listing answers with S3's own error code, which can tell.
      if (isUploadError(err) && (err.status === 403 || err.status === 400)) {
        try {
          await store.client.send(new ListObjectsV2Command({ Bucket: dest.bucket, MaxKeys: 1 }))
        } catch (e2) {
          const detailed = toUploadError(e2, 'ListObjectsV2')
          if (isUploadError(detailed)) err = detailed
        }
      }
      return {
        ok: false,
        message: isUploadError(err) ? err.message : String(err),
        advice: [],
      }
    }
    const advice: string[] = []
    try {
      const lc = await store.client.send(
        new GetBucketLifecycleConfigurationCommand({ Bucket: dest.bucket }),
      )
      const has = (lc.Rules ?? []).some(
        (r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
      )
      if (!has) advice.push(lifecycleAdvice)
    } catch (e) {
      const name = (e as { name?: string }).name
      if (name === 'NoSuchLifecycleConfiguration') advice.push(lifecycleAdvice)
      else
        advice.push(
          'Upreel could not read the bucket lifecycle rules (not allowed, or not supported by this server). ' +
            lifecycleAdvice,
        )
    }
    return { ok: true, message: `Connected to ${store.label}.`, advice }
  } finally {
    store.destroy()
  }
}

const lifecycleAdvice =
  'Add a lifecycle rule "AbortIncompleteMultipartUpload after 7 days" to the bucket, so uploads abandoned on other machines never keep costing storage.'

async function testBackend(dest: BackendDestination): Promise<ConnectionCheck> {
  const base = dest.url.replace(/\/+$/, '')
  const signInRefused: ConnectionCheck = {
    ok: false,
    message: 'The upload server did not accept your sign-in (token missing or wrong).',
    advice: [],
  }
  try {
    const health = await fetch(`${base}/health`, {
      headers: dest.headers,
      signal: AbortSignal.timeout(10_000),
    })
    if (health.status === 401 || health.status === 403) return signInRefused
    if (!health.ok && health.status !== 404) {
      return {
        ok: false,
        message: `The upload server answered HTTP ${health.status}. Check the URL in Settings.`,
        advice: [],
      }
    }
    // /health needs no sign-in (and Companion has none): an empty create proves both that this
    // is a Companion-style backend and that it accepts the token. A signed-in caller gets 400 for
    // the missing filename; a refused one 401/403; anything else is not such a backend.
    const probe = await fetch(`${base}/s3/multipart`, {
      method: 'POST',
      headers: { ...dest.headers, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    })
    if (probe.status === 401 || probe.status === 403) return signInRefused
    if (probe.status === 400) {
      return { ok: true, message: `Connected to the upload server at ${base}.`, advice: [] }
    }
    return {
      ok: false,
      message: `${base} does not answer like an upload server (HTTP ${probe.status} to the S3 multipart route). Check the URL in Settings.`,
      advice: [],
    }
  } catch (e) {
    return {
      ok: false,
      message: `The upload server at ${base} cannot be reached (${(e as Error).message}). Check the URL and your network.`,
      advice: [],
    }
  }
}

/** A time-limited download link for a finished upload (direct mode: SigV4 allows up to 7 days). */
export async function presignGetUrl(
  dest: Destination,
  key: string,
  hours: number,
): Promise<string> {
  if (dest.mode !== 's3') {
    throw new Error(
      'Download links need direct S3 access; ask the upload server for a link instead.',
    )
  }
  const store = new DirectS3Store({ ...dest })
  try {
    const seconds = Math.max(60, Math.min(7 * 24 * 3600, Math.round(hours * 3600)))
    return await getSignedUrl(
      store.client,
      new GetObjectCommand({ Bucket: dest.bucket, Key: key }),
      {
        expiresIn: seconds,
      },
    )
  } finally {
    store.destroy()
  }
}
