/**
 * Secrets (S3 secret key, backend token) encrypted with Electron's safeStorage (Keychain, DPAPI,
 * libsecret/kwallet) and kept as base64 ciphertext in the settings store. They never leave main:
 * the renderer learns only whether each one is set.
 */
import type { SecretName } from '../../preload/contract'
import type { KeyValueStore, SafeStorageLike } from './ports'

const STORE_KEY = 'secrets'
const NAMES: SecretName[] = ['secretAccessKey', 'backendToken']

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

  set(name: SecretName, value: string): void {
    if (this.level() === 'unavailable') {
      throw new Error(
        'This computer offers no secure storage for secrets. Use environment variables or an AWS profile instead.',
      )
    }
    const cipher = this.safeStorage.encryptString(value).toString('base64')
    this.store.set(STORE_KEY, { ...this.all(), [name]: cipher })
  }

  clear(name: SecretName): void {
    const next = this.all()
    delete next[name]
    this.store.set(STORE_KEY, next)
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
    return { secretAccessKey: !!all.secretAccessKey, backendToken: !!all.backendToken }
  }
}
