/**
 * From saved settings (+ secrets, + the environment) to the engine's Destination. Kept apart from
 * the settings store so "Test connection" can try a draft from the form without saving it.
 */
import type { DestinationSummary, EditableSettings } from '../../preload/contract'
import { originOf } from '../../preload/origin'

/** The engine's Destination (src/main/core/destination), restated structurally. */
export type Destination =
  | {
      mode: 's3'
      bucket: string
      region: string
      endpoint?: string
      forcePathStyle?: boolean
      credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
    }
  | {
      mode: 'backend'
      url: string
      /** Sign-in headers for the backend (token, extra headers): only those bound to its origin. */
      headers?: Record<string, string>
      hookUrl?: string
      /** Sign-in headers for the hook: only those bound to the hook's origin. */
      hookHeaders?: Record<string, string>
    }

/** What the environment says of S3 connections, bucket or not (core's s3SettingsFromEnv). */
export interface S3EnvSettings {
  endpoint?: string
  region?: string
  forcePathStyle?: boolean
}

/** What the saved (or typed) secrets contribute, already limited to where each may go. */
export interface DestinationSecrets {
  secretAccessKey?: string
  /** Headers the backend URL may receive. */
  backendHeaders?: Record<string, string>
  /** Headers the hook URL may receive. */
  hookHeaders?: Record<string, string>
}

/** Shared with the settings page, which must agree with main on origins. */
export { originOf }

/** `Authorization: Bearer <token>` plus the extra headers (an extra Authorization wins). */
export function signInHeaders(
  token: string | undefined,
  extra: readonly { name: string; value: string }[] | undefined,
): Record<string, string> | undefined {
  const out: Record<string, string> = {}
  if (token) out.Authorization = `Bearer ${token}`
  for (const h of extra ?? []) {
    // Header names are case-insensitive: one spelling per name.
    for (const k of Object.keys(out)) if (k.toLowerCase() === h.name.toLowerCase()) delete out[k]
    out[h.name] = h.value
  }
  return Object.keys(out).length > 0 ? out : undefined
}

export function summarize(dest: Destination | null, fromEnv: boolean): DestinationSummary | null {
  if (!dest) return null
  if (dest.mode === 'backend') return { mode: 'backend', label: dest.url, fromEnv }
  const host = dest.endpoint ? ` at ${safeHost(dest.endpoint)}` : ''
  return { mode: 's3', label: `s3://${dest.bucket}${host}`, fromEnv }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

/**
 * Settings win where they are filled in; the environment (AWS_*, S3_*, the seeds' bucket variables)
 * fills the gaps, so `AWS_S3_BUCKET=… npm start` works with no setup.
 */
export function resolveDestination(
  settings: EditableSettings,
  secrets: DestinationSecrets,
  env: Destination | null,
  /**
   * The S3 connection variables (AWS_ENDPOINT_URL_S3…) even when no bucket variable is set, so a
   * bucket typed in Settings still goes to the endpoint the environment names.
   */
  envS3?: S3EnvSettings,
): { destination: Destination | null; fromEnv: boolean } {
  if (settings.mode === 'backend') {
    if (!settings.backend.url) {
      // The environment is the user's own word: its token goes to its hook too, as in the CLI.
      return env?.mode === 'backend'
        ? { destination: { ...env, hookHeaders: env.hookHeaders ?? env.headers }, fromEnv: true }
        : none()
    }
    return {
      destination: {
        mode: 'backend',
        url: settings.backend.url,
        headers: secrets.backendHeaders,
        hookUrl: settings.backend.hookUrl || undefined,
        hookHeaders: settings.backend.hookUrl ? secrets.hookHeaders : undefined,
      },
      fromEnv: false,
    }
  }
  const s3 = settings.s3
  if (!s3.bucket) {
    return env?.mode === 's3' ? { destination: env, fromEnv: true } : none()
  }
  envS3 ??= env?.mode === 's3' ? env : undefined
  const credentials =
    s3.accessKeyId && secrets.secretAccessKey
      ? { accessKeyId: s3.accessKeyId, secretAccessKey: secrets.secretAccessKey }
      : undefined
  return {
    destination: {
      mode: 's3',
      bucket: s3.bucket,
      region: s3.region || envS3?.region || 'us-east-1',
      endpoint: s3.endpoint || envS3?.endpoint || undefined,
      forcePathStyle: s3.forcePathStyle || (!s3.endpoint && envS3?.forcePathStyle) || undefined,
      // No explicit pair → the AWS default chain (env, AWS_PROFILE, shared files, SSO).
      credentials,
    },
    fromEnv: false,
  }
}

function none(): { destination: null; fromEnv: false } {
  return { destination: null, fromEnv: false }
}
