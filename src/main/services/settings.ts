/**
 * Settings persisted in electron-store, validated with the contract's zod schema on every read
 * (a hand-edited or older file falls back to defaults field by field, never crashes the app).
 * Secrets live in ./secrets.ts; watch folders are only added through the native dialog.
 */
import { EditableSettings, type SettingsView } from '../../preload/contract'
import {
  resolveDestination,
  summarize,
  type Destination,
  type DestinationSecrets,
} from './destination-config'
import type { KeyValueStore } from './ports'
import type { SecretBox } from './secrets'

const SETTINGS_KEY = 'settings'
const WATCH_KEY = 'watchFolders'

export type SettingsListener = (next: EditableSettings, prev: EditableSettings) => void

export class SettingsService {
  private readonly listeners = new Set<SettingsListener>()

  constructor(
    private readonly store: KeyValueStore,
    private readonly secrets: SecretBox,
    /** What the environment alone configures (destinationFromEnv), or null. */
    private readonly envDestination: () => Destination | null,
  ) {}

  get(): EditableSettings {
    const raw = this.store.get(SETTINGS_KEY)
    const whole = EditableSettings.safeParse(raw ?? {})
    if (whole.success) return whole.data
    // Keep every field that is still valid; reset only the broken ones.
    const base = EditableSettings.parse({}) as Record<string, unknown>
    const rawObj = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
    for (const [key, schema] of Object.entries(EditableSettings.shape)) {
      const field = schema.safeParse(rawObj[key])
      if (field.success) base[key] = field.data
    }
    return EditableSettings.parse(base)
  }

  save(next: EditableSettings): EditableSettings {
    const prev = this.get()
    const parsed = EditableSettings.parse(next)
    this.store.set(SETTINGS_KEY, parsed)
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

  storedSecrets(): DestinationSecrets {
    return {
      secretAccessKey: this.secrets.get('secretAccessKey'),
      backendToken: this.secrets.get('backendToken'),
    }
  }

  /** The destination uploads go to now (settings over environment), or null: the setup screen. */
  destination(
    draft?: EditableSettings,
    draftSecrets?: DestinationSecrets,
  ): { destination: Destination | null; fromEnv: boolean } {
    const stored = this.storedSecrets()
    const secrets: DestinationSecrets = {
      secretAccessKey: draftSecrets?.secretAccessKey || stored.secretAccessKey,
      backendToken: draftSecrets?.backendToken || stored.backendToken,
    }
    return resolveDestination(draft ?? this.get(), secrets, this.envDestination())
  }

  view(): SettingsView {
    const { destination, fromEnv } = this.destination()
    return {
      settings: this.get(),
      secrets: this.secrets.status(),
      secretStorage: this.secrets.level(),
      watchFolders: this.watchFolders(),
      envDestination: summarize(this.envDestination(), true),
      destination: summarize(destination, fromEnv),
    }
  }
}
