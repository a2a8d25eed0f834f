import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { KeyValueStore, SafeStorageLike } from '../../src/main/services/ports'
import { SecretBox } from '../../src/main/services/secrets'
import { SettingsService } from '../../src/main/services/settings'
import { resolveDestination, type Destination } from '../../src/main/services/destination-config'
import { EditableSettings } from '../../src/preload/contract'

class MemoryStore implements KeyValueStore {
  data: Record<string, unknown> = {}
  get(k: string) {
    return structuredClone(this.data[k])
  }
  set(k: string, v: unknown) {
    this.data[k] = structuredClone(v)
  }
  delete(k: string) {
    delete this.data[k]
  }
}

/** AES-GCM with a per-test key stands in for the OS keychain. */
function testCipher(backend = 'gnome_libsecret', available = true): SafeStorageLike {
  const key = randomBytes(32)
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString(text) {
      const iv = randomBytes(12)
      const c = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([c.update(text, 'utf8'), c.final()])
      return Buffer.concat([iv, c.getAuthTag(), body])
    },
    decryptString(buf) {
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12))
      d.setAuthTag(buf.subarray(12, 28))
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8')
    },
  }
}

function service(env: Destination | null = null, safe = testCipher()) {
  const store = new MemoryStore()
  const secrets = new SecretBox(store, safe)
  return { store, secrets, settings: new SettingsService(store, secrets, () => env) }
}

describe('SettingsService', () => {
  it('starts from schema defaults', () => {
    const { settings } = service()
    expect(settings.get()).toEqual(EditableSettings.parse({}))
    expect(settings.get().concurrency).toBe(8)
    expect(settings.view().destination).toBeNull()
  })

  it('keeps valid fields of a damaged file and resets only the broken ones', () => {
    const { store, settings } = service()
    store.set('settings', { concurrency: 'lots', keyTemplate: 'clips/{filename}', partSizeMiB: 3 })
    const s = settings.get()
    expect(s.keyTemplate).toBe('clips/{filename}')
    expect(s.concurrency).toBe(8)
    expect(s.partSizeMiB).toBe(16)
  })

  it('saves and notifies with previous and next', () => {
    const { settings } = service()
    const seen: [number, number][] = []
    settings.onChange((next, prev) => seen.push([prev.concurrency, next.concurrency]))
    settings.save({ ...settings.get(), concurrency: 3 })
    expect(settings.get().concurrency).toBe(3)
    expect(seen).toEqual([[8, 3]])
  })

  it('watch folders: add once, remove only what is listed', () => {
    const { settings } = service()
    settings.addWatchFolder('/a')
    settings.addWatchFolder('/a')
    expect(settings.watchFolders()).toEqual(['/a'])
    expect(settings.removeWatchFolder('/nope')).toBe(false)
    expect(settings.removeWatchFolder('/a')).toBe(true)
    expect(settings.watchFolders()).toEqual([])
  })
})

describe('secrets', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

  it('are stored encrypted and shown only as set / not set', () => {
    const { store, secrets, settings } = service()
    settings.save({
      ...settings.get(),
      s3: { ...settings.get().s3, bucket: 'b', accessKeyId: 'AKIA1' },
    })
    secrets.set('secretAccessKey', SECRET)
    expect(JSON.stringify(store.data)).not.toContain(SECRET)
    const view = settings.view()
    expect(view.secrets).toEqual({ secretAccessKey: true, backendToken: false })
    expect(JSON.stringify(view)).not.toContain(SECRET)
    // main still gets the real value for the engine
    const { destination } = settings.destination()
    expect(destination).toMatchObject({
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: SECRET },
    })
    secrets.clear('secretAccessKey')
    expect(settings.view().secrets.secretAccessKey).toBe(false)
  })

  it('refuse to store when the OS offers no encryption', () => {
    const { secrets } = service(null, testCipher('basic_text', false))
    expect(secrets.level()).toBe('unavailable')
    expect(() => secrets.set('backendToken', 't')).toThrow(/no secure storage/)
  })

  it('say so when Linux has no keyring (basic_text)', () => {
    const { secrets } = service(null, testCipher('basic_text'))
    expect(secrets.level()).toBe('weak')
  })

  it('an undecryptable secret reads as unset instead of crashing', () => {
    const { store, secrets } = service()
    store.set('secrets', { backendToken: Buffer.from('garbage').toString('base64') })
    expect(secrets.get('backendToken')).toBeUndefined()
  })
})

describe('resolveDestination', () => {
  const base = EditableSettings.parse({})
  const env: Destination = {
    mode: 's3',
    bucket: 'env-bucket',
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
  }

  it('nothing configured → null (setup screen)', () => {
    expect(resolveDestination(base, {}, null).destination).toBeNull()
  })

  it('the environment fills an empty form', () => {
    expect(resolveDestination(base, {}, env)).toEqual({ destination: env, fromEnv: true })
  })

  it('settings win; env endpoint fills a blank endpoint; no key pair → default chain', () => {
    const s = { ...base, s3: { ...base.s3, bucket: 'mine', region: 'us-east-2' } }
    const { destination, fromEnv } = resolveDestination(s, {}, env)
    expect(fromEnv).toBe(false)
    expect(destination).toEqual({
      mode: 's3',
      bucket: 'mine',
      region: 'us-east-2',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: undefined,
    })
  })

  it('backend mode sends the token as a bearer header and the hook', () => {
    const s = {
      ...base,
      mode: 'backend' as const,
      backend: { url: 'https://up.example', hookUrl: 'https://hook.example/p' },
    }
    expect(resolveDestination(s, { backendToken: 'tok' }, null).destination).toEqual({
      mode: 'backend',
      url: 'https://up.example',
      headers: { Authorization: 'Bearer tok' },
      hookUrl: 'https://hook.example/p',
    })
  })
})
