/**
 * Settings persisted in electron-store, validated with the contract's zod schema on every read
 * (a hand-edited or older file falls back to defaults field by field, never crashes the app).
 * Secrets live in ./secrets.ts; watch folders are only added through the native dialog.
 *
 * Backend credentials (token, extra headers) are bound to the origins they were typed for: the
 * backend's and the hook's as the settings named them then. The page can change the addresses
 * (it is the settings screen), but a saved credential never follows it to a new origin: sending
 * it there needs it typed again. The S3 secret is not bound: SigV4 never sends it, only
 * signatures that are valid for the host they were made for (see the README).
 */
import {
  EditableSettings,
  type ExtraHeader,
  type SecretsInput,
  type SettingsView,
} from '../../preload/contract'
import {
  originOf,
  resolveDestination,
  signInHeaders,
  summarize,
  type Destination,
  type DestinationSecrets,
  type S3EnvSettings,
} from './destination-config'
import type { KeyValueStore } from './ports'
import type { SealedSecret, SecretBox } from './secrets'

const SETTINGS_KEY = 'settings'
/** What `problems()` needs of a zod issue. */
type FieldIssue = { path: PropertyKey[]; message: string }
const WATCH_KEY = 'watchFolders'

export type SettingsListener = (next: EditableSettings, prev: EditableSettings) => void

export class SettingsService {
  private readonly listeners = new Set<SettingsListener>()

  constructor(
    private readonly store: KeyValueStore,
    private readonly secrets: SecretBox,
    /** What the environment alone configures (destinationFromEnv), or null. */
    private readonly envDestination: () => Destination | null,
    /** The environment's S3 endpoint, region and path-style, bucket or not. */
    private readonly envS3: () => S3EnvSettings | undefined = () => undefined,
  ) {
    this.bindUnboundSecrets()
  }

  /**
   * A token saved before credentials were bound (an older Upreel) is bound once to the addresses
   * the settings name now, the ones it has been sent to all along.
   */
  private bindUnboundSecrets(): void {
    const origins = credentialOrigins(this.get())
    for (const name of ['backendToken', 'backendHeaders'] as const) {
      const value = this.secrets.status()[name] ? this.secrets.get(name) : undefined
      if (value === undefined || this.secrets.origins(name) !== undefined) continue
      if (origins.length === 0) this.secrets.clear(name)
      else this.secrets.set(name, value, origins)
    }
  }

  get(): EditableSettings {
    const whole = EditableSettings.safeParse(this.store.get(SETTINGS_KEY) ?? {})
    if (whole.success) return whole.data
    // Keep every field that is still valid; the broken ones get their defaults.
    return EditableSettings.parse(this.storedFields().valid)
  }

  /** The saved settings field by field: the valid ones, and each broken one with its first issue. */
  private storedFields(): {
    valid: Record<string, unknown>
    broken: { key: keyof EditableSettings; issue: FieldIssue | undefined }[]
  } {
    const raw = this.store.get(SETTINGS_KEY)
    const rawObj = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
    const valid: Record<string, unknown> = {}
    const broken: { key: keyof EditableSettings; issue: FieldIssue | undefined }[] = []
    for (const [key, schema] of Object.entries(EditableSettings.shape)) {
      if (rawObj[key] === undefined) continue
      const field = schema.safeParse(rawObj[key])
      if (field.success) valid[key] = field.data
      else broken.push({ key: key as keyof EditableSettings, issue: field.error.issues[0] })
    }
    return { valid, broken }
  }

  /**
   * Saved fields that are not valid any more, in words: `get()` uses their defaults instead. A
   * hand-edited file, or a check an older Upreel did not make (a key template with no per-file
   * part), must not quietly send uploads to a different key: the page says which and why until
   * the settings are saved again.
   */
  problems(): string[] {
    const defaults = EditableSettings.parse({}) as Record<string, unknown>
    return this.storedFields().broken.map(({ key, issue }) => {
      const label = FIELD_LABELS[key]
      const where = issue?.path.length ? ` (${issue.path.map(String).join('.')})` : ''
      const reason = issue?.message ?? 'not valid'
      const said = reason.startsWith(`${label}:`) ? reason : `${label}${where}: ${reason}`
      const fallback = defaults[key]
      const used = typeof fallback === 'string' && fallback !== '' ? `, ${fallback}` : ''
      return `${said.replace(/\.?$/, '.')} Using the default${used}.`
    })
  }

  /**
   * Saves the settings and, with them, the secrets typed in the same form: backend credentials
   * are bound to the origins these settings name. The secrets are encrypted before anything is
   * written, so one that cannot be stored (no secure storage, the keychain refusing) leaves the
   * settings and the secrets as they were; then all the typed secrets go in one write.
   */
  save(next: EditableSettings, typed?: SecretsInput): EditableSettings {
    const prev = this.get()
    const parsed = EditableSettings.parse(next)
    const origins = credentialOrigins(parsed)
    const sealed: SealedSecret[] = []
    if (typed?.secretAccessKey) {
      sealed.push(this.secrets.seal('secretAccessKey', typed.secretAccessKey))
    }
    if (typed?.backendToken) {
      sealed.push(this.secrets.seal('backendToken', typed.backendToken, origins))
    }
    if (typed?.backendHeaders) {
      sealed.push(
        this.secrets.seal('backendHeaders', JSON.stringify(typed.backendHeaders), origins),
      )
    }
    // A crash between the two writes is safe: each secret carries the origins it was typed for,
    // so a new address never gets an old token (and an old address never gets a new one).
    this.store.set(SETTINGS_KEY, parsed)
    this.secrets.commit(sealed)
    for (const l of this.listeners) l(parsed, prev)
    return parsed
  }

  onChange(listener: SettingsListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  watchFolders(): string[] {
    const raw = this.store.get(WATCH_KEY)
    return Array.isArray(raw) ? raw.filter((p): p is string => typeof p === 'string') : []
  }

  addWatchFolder(path: string): void {
    const list = this.watchFolders()
    if (!list.includes(path)) this.store.set(WATCH_KEY, [...list, path])
  }

  removeWatchFolder(path: string): boolean {
    const list = this.watchFolders()
    if (!list.includes(path)) return false
    this.store.set(
      WATCH_KEY,
      list.filter((p) => p !== path),
    )
    return true
  }

  private storedHeaders(): ExtraHeader[] | undefined {
    const raw = this.secrets.get('backendHeaders')
    if (!raw) return undefined
    try {
      const list: unknown = JSON.parse(raw)
      return Array.isArray(list)
        ? list.filter(
            (h): h is ExtraHeader =>
              !!h && typeof h.name === 'string' && typeof h.value === 'string',
          )
        : undefined
    } catch {
      return undefined
    }
  }

  /**
   * The sign-in headers `url` may receive: typed secrets (they go to the addresses the form
   * names now) over saved ones, and a saved one only where it was bound.
   */
  private headersFor(
    url: string | undefined,
    s: EditableSettings,
    typed: SecretsInput | undefined,
  ): Record<string, string> | undefined {
    const origin = originOf(url)
    if (!origin) return undefined
    const typedHere = credentialOrigins(s).includes(origin)
    const savedHere = (name: 'backendToken' | 'backendHeaders') =>
      this.secrets.origins(name)?.includes(origin) ?? false
    const token =
      (typedHere ? typed?.backendToken : undefined) ??
      (savedHere('backendToken') ? this.secrets.get('backendToken') : undefined)
    const extra =
      (typedHere ? typed?.backendHeaders : undefined) ??
      (savedHere('backendHeaders') ? this.storedHeaders() : undefined)
    return signInHeaders(token, extra)
  }

  /**
   * The destination uploads go to now (settings over environment), or null: the setup screen.
   * With a draft (Test connection, or checking a save before doing it) and the secrets typed
   * with it.
   */
  destination(
    draft?: EditableSettings,
    typed?: SecretsInput,
  ): { destination: Destination | null; fromEnv: boolean } {
    const s = draft ?? this.get()
    const secrets: DestinationSecrets = {
      secretAccessKey: typed?.secretAccessKey || this.secrets.get('secretAccessKey'),
      backendHeaders: this.headersFor(s.backend.url, s, typed),
      hookHeaders: this.headersFor(s.backend.hookUrl, s, typed),
    }
    return resolveDestination(s, secrets, this.envDestination(), this.envS3())
  }

  view(): SettingsView {
    const { destination, fromEnv } = this.destination()
    const secretOrigins: SettingsView['secretOrigins'] = {}
    for (const name of ['backendToken', 'backendHeaders'] as const) {
      const origins = this.secrets.origins(name)
      if (origins) secretOrigins[name] = origins
    }
    return {
      settings: this.get(),
      secrets: this.secrets.status(),
      secretOrigins,
      backendHeaderNames: (this.storedHeaders() ?? []).map((h) => h.name),
      problems: this.problems(),
      secretStorage: this.secrets.level(),
      watchFolders: this.watchFolders(),
      envDestination: summarize(this.envDestination(), true),
      destination: summarize(destination, fromEnv),
    }
  }
}

/** What the settings screen calls each saved field, for `problems()`. */
const FIELD_LABELS: Record<keyof EditableSettings, string> = {
  mode: 'Destination type',
  s3: 'S3 settings',
  backend: 'Backend settings',
  keyTemplate: 'Key template',
  thumbnailKeyTemplate: 'Thumbnail key template',
  partSizeMiB: 'Part size',
  concurrency: 'Parallel parts',
  bandwidthLimitMbps: 'Bandwidth limit',
  thumbnails: 'Thumbnails',
  objectOptions: 'Stored objects',
  notifications: 'Notifications',
  autoResume: 'Resume on launch',
  allFileTypes: 'Upload all file types',
  shareLinkHours: 'Share links valid (hours)',
}

/** The origins backend credentials typed with these settings are bound to: backend and hook. */
export function credentialOrigins(s: EditableSettings): string[] {
  const out: string[] = []
  for (const url of [s.backend.url, s.backend.hookUrl]) {
    const origin = originOf(url)
    if (origin && !out.includes(origin)) out.push(origin)
  }
  return out
}
