/**
 * Secrets (S3 secret key, backend token, extra backend headers) encrypted with Electron's
 * safeStorage (Keychain, DPAPI, libsecret/kwallet) and kept as base64 ciphertext in the settings
 * store. They never leave main: the renderer learns only whether each one is set. A secret can be
 * bound to the origins it was typed for (./settings.ts sends it nowhere else).
 *
 * Each secret is one entry `{ cipher, origins }`, and every change is one `store.set`: a crash can
 * never leave a new token beside the previous token's origins. Encryption happens before anything
 * is written (`seal`, then `commit`), so a secret that cannot be encrypted changes nothing.
 */
import type { SecretName } from '../../preload/contract'
import type { KeyValueStore, SafeStorageLike } from './ports'

const STORE_KEY = 'secrets'
/**
 * Where Upreel kept origins before they moved into the entries: `{ name: origins }` beside
 * `secrets: { name: cipher }`. Read (migrated) until the next write, then deleted.
 */
const LEGACY_ORIGINS_KEY = 'secretOrigins'
const NAMES: SecretName[] = ['secretAccessKey', 'backendToken', 'backendHeaders']

export type SecretStorageLevel = 'encrypted' | 'weak' | 'unavailable'

/** One stored secret. Origins are not secret (the page shows them): plain text beside it. */
interface SecretEntry {
  /** base64 of safeStorage's ciphertext. */
  cipher: string
  /** Bound to these origins; absent = not bound. */
  origins?: string[]
}

/** A secret already encrypted, ready to be written with others in one step (`commit`). */
export interface SealedSecret {
  readonly name: SecretName
  readonly entry: SecretEntry
}

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

  /** Every stored entry, the older two-key layout read as if it were the new one. */
  private entries(): Partial<Record<SecretName, SecretEntry>> {
    const raw = this.store.get(STORE_KEY)
    if (!raw || typeof raw !== 'object') return {}
    const legacy = this.store.get(LEGACY_ORIGINS_KEY)
    const out: Partial<Record<SecretName, SecretEntry>> = {}
    for (const name of NAMES) {
      const v = (raw as Record<string, unknown>)[name]
      if (typeof v === 'string') {
        // The older layout: ciphertext here, origins under LEGACY_ORIGINS_KEY.
        if (v === '') continue
        const origins = originList((legacy as Record<string, unknown> | undefined)?.[name])
        out[name] = origins ? { cipher: v, origins } : { cipher: v }
      } else if (v && typeof v === 'object') {
        const e = v as { cipher?: unknown; origins?: unknown }
        if (typeof e.cipher !== 'string' || e.cipher === '') continue
        const origins = originList(e.origins)
        out[name] = origins ? { cipher: e.cipher, origins } : { cipher: e.cipher }
      }
    }
    return out
  }

  /** One write of the whole map (and the older layout's origins gone with it). */
  private write(next: Partial<Record<SecretName, SecretEntry>>): void {
    this.store.set(STORE_KEY, next)
    // Only tidying: once every entry carries its own origins, the old key is never read again.
    if (this.store.get(LEGACY_ORIGINS_KEY) !== undefined) this.store.delete(LEGACY_ORIGINS_KEY)
  }

  /** Throws (plain words) when secrets cannot be stored on this computer. */
  assertCanStore(): void {
    if (this.level() === 'unavailable') {
      throw new Error(
        'This computer offers no secure storage for secrets. Use environment variables or an AWS profile instead.',
      )
    }
  }

  /**
   * Encrypts a secret without storing it; with `origins`, bound to them (replacing any earlier
   * binding). Throws before anything is written when it cannot be encrypted.
   */
  seal(name: SecretName, value: string, origins?: string[]): SealedSecret {
    this.assertCanStore()
    const cipher = this.safeStorage.encryptString(value).toString('base64')
    return { name, entry: origins ? { cipher, origins: [...new Set(origins)] } : { cipher } }
  }

  /** Stores sealed secrets, all in one write. */
  commit(sealed: readonly SealedSecret[]): void {
    if (sealed.length === 0) return
    const next = this.entries()
    for (const s of sealed) next[s.name] = s.entry
    this.write(next)
  }

  /** Stores a secret; with `origins`, bound to them (replacing any earlier binding). */
  set(name: SecretName, value: string, origins?: string[]): void {
    this.commit([this.seal(name, value, origins)])
  }

  /** The origins a secret was bound to when stored; undefined = not bound (or not set). */
  origins(name: SecretName): string[] | undefined {
    return this.entries()[name]?.origins
  }

  clear(name: SecretName): void {
    const next = this.entries()
    delete next[name]
    this.write(next)
  }

  /** Main-only: the decrypted value, or undefined when unset or undecryptable. */
  get(name: SecretName): string | undefined {
    const cipher = this.entries()[name]?.cipher
    if (!cipher || !this.safeStorage.isEncryptionAvailable()) return undefined
    try {
      return this.safeStorage.decryptString(Buffer.from(cipher, 'base64'))
    } catch {
      // A keyring change makes old ciphertext unreadable: treat as unset rather than crash.
      return undefined
    }
  }

  status(): Record<SecretName, boolean> {
    const all = this.entries()
    return {
      secretAccessKey: !!all.secretAccessKey,
      backendToken: !!all.backendToken,
      backendHeaders: !!all.backendHeaders,
    }
  }
}

function originList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string') : undefined
}
