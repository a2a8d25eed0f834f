/**
 * Secrets (S3 secret key, backend token, extra backend headers) encrypted with Electron's
 * safeStorage (Keychain, DPAPI, libsecret/kwallet) and kept as base64 ciphertext in the settings
 * store. They never leave main: the renderer learns only whether each one is set. A secret can be
 * bound to the origins it was typed for (./settings.ts sends it nowhere else).
 */
import type { SecretName } from '../../preload/contract'
import type { KeyValueStore, SafeStorageLike } from './ports'

const STORE_KEY = 'secrets'
/** Plain text beside the ciphertext: origins are not secret (the page shows them). */
const ORIGINS_KEY = 'secretOrigins'
const NAMES: SecretName[] = ['secretAccessKey', 'backendToken', 'backendHeaders']

export type SecretStorageLevel = 'encrypted' | 'weak' | 'unavailable'

export class SecretBox {
  constructor(
    private readonly store: KeyValueStore,
    private readonly safeStorage: SafeStorageLike,
  ) {}

  level(): SecretStorageLevel {
    if (!this.safeStorage.isEncryptionAvailable()) return 'unavailable'
    // On Linux without a keyring Chromium falls back to a hard-coded key: say so instead of
    // pretending the secret is protected.
    return this.safeStorage.getSelectedStorageBackend?.() === 'basic_text' ? 'weak' : 'encrypted'
  }

  private all(): Partial<Record<SecretName, string>> {
    const raw = this.store.get(STORE_KEY)
    if (!raw || typeof raw !== 'object') return {}
    const out: Partial<Record<SecretName, string>> = {}
    for (const name of NAMES) {
      const v = (raw as Record<string, unknown>)[name]
      if (typeof v === 'string' && v !== '') out[name] = v
    }
    return out
  }

  private allOrigins(): Partial<Record<SecretName, string[]>> {
    const raw = this.store.get(ORIGINS_KEY)
    if (!raw || typeof raw !== 'object') return {}
    const out: Partial<Record<SecretName, string[]>> = {}
    for (const name of NAMES) {
      const v = (raw as Record<string, unknown>)[name]
      if (Array.isArray(v)) out[name] = v.filter((o): o is string => typeof o === 'string')
    }
    return out
  }

  /** Throws (plain words) when secrets cannot be stored on this computer. */
  assertCanStore(): void {
    if (this.level() === 'unavailable') {
      throw new Error(
        'This computer offers no secure storage for secrets. Use environment variables or an AWS profile instead.',
      )
    }
  }

  /** Stores a secret; with `origins`, bound to them (replacing any earlier binding). */
  set(name: SecretName, value: string, origins?: string[]): void {
    this.assertCanStore()
    const cipher = this.safeStorage.encryptString(value).toString('base64')
    this.store.set(STORE_KEY, { ...this.all(), [name]: cipher })
    const bound = this.allOrigins()
    if (origins) bound[name] = [...new Set(origins)]
    else delete bound[name]
    this.store.set(ORIGINS_KEY, bound)
  }

  /** The origins a secret was bound to when stored; undefined = not bound (or not set). */
  origins(name: SecretName): string[] | undefined {
    return this.all()[name] ? this.allOrigins()[name] : undefined
  }

  clear(name: SecretName): void {
    const next = this.all()
    delete next[name]
    this.store.set(STORE_KEY, next)
    const bound = this.allOrigins()
    delete bound[name]
    this.store.set(ORIGINS_KEY, bound)
  }

  /** Main-only: the decrypted value, or undefined when unset or undecryptable. */
  get(name: SecretName): string | undefined {
    const cipher = this.all()[name]
    if (!cipher || !this.safeStorage.isEncryptionAvailable()) return undefined
    try {
      return this.safeStorage.decryptString(Buffer.from(cipher, 'base64'))
    } catch {
      // A keyring change makes old ciphertext unreadable: treat as unset rather than crash.
      return undefined
    }
  }

  status(): Record<SecretName, boolean> {
    const all = this.all()
    return {
      secretAccessKey: !!all.secretAccessKey,
      backendToken: !!all.backendToken,
      backendHeaders: !!all.backendHeaders,
    }
  }
}
