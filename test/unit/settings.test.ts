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

  it('names each saved field that is not valid any more, with the default used instead, until saved', () => {
    const { store, settings } = service()
    expect(settings.problems()).toEqual([])
    store.set('settings', {
      keyTemplate: 'uploads/video.mp4',
      concurrency: 'lots',
      backend: { url: 'ftp://example.com', hookUrl: '' },
      partSizeMiB: 32,
    })
    expect(settings.problems()).toEqual([
      'Backend settings (url): Use a full address starting with http:// or https://. Using the default.',
      'Key template: it must contain {uuid} or {filename} or {basename}, or every file would get the same key and overwrite the one before. Using the default, videos/{uuid}/{filename}.',
      'Parallel parts: Invalid input: expected number, received string. Using the default.',
    ])
    expect(settings.view().problems).toEqual(settings.problems())
    expect(settings.get().keyTemplate).toBe('videos/{uuid}/{filename}')
    expect(settings.get().partSizeMiB).toBe(32)
    settings.save(settings.get())
    expect(settings.problems()).toEqual([])
    expect(settings.view().problems).toEqual([])
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
    expect(view.secrets).toEqual({
      secretAccessKey: true,
      backendToken: false,
      backendHeaders: false,
    })
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

  it('a bucket from Settings goes to the endpoint the environment names, with no bucket variable', () => {
    const s = { ...base, s3: { ...base.s3, bucket: 'mine' } }
    // AWS_ENDPOINT_URL_S3 alone: no env destination (no bucket variable), but its endpoint counts.
    const envS3 = { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', forcePathStyle: true }
    expect(resolveDestination(s, {}, null, envS3).destination).toMatchObject({
      bucket: 'mine',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    })
    // A typed endpoint wins, and then path-style is the form's choice.
    const typed = { ...s, s3: { ...s.s3, endpoint: 'https://s3.example', forcePathStyle: false } }
    expect(resolveDestination(typed, {}, null, envS3).destination).toMatchObject({
      endpoint: 'https://s3.example',
      forcePathStyle: undefined,
    })
  })

  it('backend mode: the headers each address may receive, and the hook', () => {
    const s = {
      ...base,
      mode: 'backend' as const,
      backend: { url: 'https://up.example', hookUrl: 'https://hook.example/p' },
    }
    const auth = { Authorization: 'Bearer tok' }
    expect(resolveDestination(s, { backendHeaders: auth }, null).destination).toEqual({
      mode: 'backend',
      url: 'https://up.example',
      headers: auth,
      hookUrl: 'https://hook.example/p',
      hookHeaders: undefined,
    })
  })
})

describe('backend credentials are bound to the origins they were typed for', () => {
  const TOKEN = 'tok-0123456789'
  const base = EditableSettings.parse({})
  const backend = (url: string, hookUrl = '') => ({
    ...base,
    mode: 'backend' as const,
    backend: { url, hookUrl },
  })
  const headersOf = (d: Destination | null) => (d?.mode === 'backend' ? d.headers : 'not backend')
  const hookHeadersOf = (d: Destination | null) =>
    d?.mode === 'backend' ? d.hookHeaders : 'not backend'

  function saved(url: string, hookUrl = '') {
    const svc = service()
    svc.settings.save(backend(url, hookUrl), {
      backendToken: TOKEN,
      backendHeaders: [{ name: 'X-Team', value: 'team-secret' }],
    })
    return svc
  }

  it('used for the address it was typed for (same origin, any path)', () => {
    const { settings } = saved('https://up.example/api')
    expect(headersOf(settings.destination().destination)).toEqual({
      Authorization: `Bearer ${TOKEN}`,
      'X-Team': 'team-secret',
    })
    const samePlace = backend('https://up.example/v2')
    expect(headersOf(settings.destination(samePlace).destination)).toMatchObject({
      Authorization: `Bearer ${TOKEN}`,
    })
  })

  it('a draft naming another origin (Test connection) gets no saved credential', () => {
    const { settings } = saved('https://up.example')
    for (const other of [
      'https://evil.example',
      'http://up.example', // another scheme is another origin
      'https://up.example:8443',
      'https://up.example.evil.example',
    ]) {
      expect(headersOf(settings.destination(backend(other)).destination), other).toBeUndefined()
    }
  })

  it('saving another address does not carry the token along; typing it again does', () => {
    const { settings } = saved('https://up.example')
    settings.save(backend('https://evil.example'))
    expect(headersOf(settings.destination().destination)).toBeUndefined()
    expect(settings.view().secretOrigins).toEqual({
      backendToken: ['https://up.example'],
      backendHeaders: ['https://up.example'],
    })
    settings.save(backend('https://new.example'), { backendToken: 'tok-new' })
    expect(headersOf(settings.destination().destination)).toEqual({
      Authorization: 'Bearer tok-new',
    }) // the extra headers were typed for up.example only
    expect(settings.view().secretOrigins.backendToken).toEqual(['https://new.example'])
  })

  it('a token typed in a draft goes to that draft address only (never stored)', () => {
    const { settings, store } = saved('https://up.example')
    const d = settings.destination(backend('https://other.example'), { backendToken: 'typed' })
    expect(headersOf(d.destination)).toEqual({ Authorization: 'Bearer typed' })
    expect(JSON.stringify(store.data)).not.toContain('typed')
  })

  it('the hook gets credentials only when it was named with them', () => {
    const withHook = saved('https://up.example', 'https://platform.example/hook')
    expect(hookHeadersOf(withHook.settings.destination().destination)).toMatchObject({
      Authorization: `Bearer ${TOKEN}`,
    })
    // The page points the hook elsewhere: the backend still gets the token, the new hook does not.
    const s = withHook.settings
    s.save(backend('https://up.example', 'https://evil.example/collect'))
    expect(headersOf(s.destination().destination)).toMatchObject({
      Authorization: `Bearer ${TOKEN}`,
    })
    expect(hookHeadersOf(s.destination().destination)).toBeUndefined()
    // A hook on the backend's own origin is the backend's: it gets them.
    s.save(backend('https://up.example', 'https://up.example/processed'))
    expect(hookHeadersOf(s.destination().destination)).toMatchObject({
      Authorization: `Bearer ${TOKEN}`,
    })
  })

  it('extra headers: values never reach the page, names do; an extra Authorization wins', () => {
    const { settings, store } = service()
    settings.save(backend('https://up.example'), {
      backendToken: TOKEN,
      backendHeaders: [
        { name: 'authorization', value: 'Token abc' },
        { name: 'X-Api-Key', value: 'key-secret' },
      ],
    })
    const view = settings.view()
    expect(view.backendHeaderNames).toEqual(['authorization', 'X-Api-Key'])
    expect(view.secrets.backendHeaders).toBe(true)
    expect(JSON.stringify(view)).not.toMatch(/key-secret|Token abc|tok-0123/)
    expect(JSON.stringify(store.data)).not.toMatch(/key-secret|Token abc|tok-0123/)
    expect(headersOf(settings.destination().destination)).toEqual({
      authorization: 'Token abc',
      'X-Api-Key': 'key-secret',
    })
  })

  it('nothing is written when the secrets cannot be stored', () => {
    const { settings, store } = service(null, testCipher('basic_text', false))
    expect(() => settings.save(backend('https://up.example'), { backendToken: TOKEN })).toThrow(
      /no secure storage/,
    )
    expect(store.data.settings).toBeUndefined()
  })

  it('a token saved by an older Upreel (unbound) is bound once to the address saved with it', () => {
    const store = new MemoryStore()
    const safe = testCipher()
    const old = new SecretBox(store, safe)
    store.set('settings', backend('https://up.example'))
    old.set('backendToken', TOKEN) // no origins: how it was stored before
    const settings = new SettingsService(store, new SecretBox(store, safe), () => null)
    expect(settings.view().secretOrigins.backendToken).toEqual(['https://up.example'])
    settings.save(backend('https://evil.example'))
    expect(headersOf(settings.destination().destination)).toBeUndefined()
  })
})

describe('secret storage: one entry per secret, one write per change', () => {
  const base = EditableSettings.parse({})
  const backend = (url: string) => ({
    ...base,
    mode: 'backend' as const,
    backend: { url, hookUrl: '' },
  })
  const tokenSentTo = (settings: SettingsService, url: string) => {
    const d = settings.destination(backend(url)).destination
    return d?.mode === 'backend' ? d.headers?.Authorization : undefined
  }

  /** A store that records its writes and can die (a crash) before a given write. */
  class CrashingStore extends MemoryStore {
    writes: string[] = []
    dieAtWrite = Infinity
    override set(k: string, v: unknown) {
      if (this.writes.length + 1 >= this.dieAtWrite) throw new Error('crashed')
      this.writes.push(k)
      super.set(k, v)
    }
  }

  it('a token and its origins are written together: a crash cannot pair a new token with old origins', () => {
    const store = new CrashingStore()
    const safe = testCipher()
    const box = new SecretBox(store, safe)
    box.set('backendToken', 'tok-old', ['https://old.example'])
    store.writes = []
    box.set('backendToken', 'tok-new', ['https://new.example'])
    expect(store.writes).toEqual(['secrets'])

    // The same change, the process dying at its second write (if it makes one).
    box.set('backendToken', 'tok-old', ['https://old.example'])
    store.writes = []
    store.dieAtWrite = 2
    box.set('backendToken', 'tok-new', ['https://new.example'])
    const after = new SettingsService(store, new SecretBox(store, safe), () => null)
    expect(tokenSentTo(after, 'https://old.example')).toBeUndefined()
    expect(tokenSentTo(after, 'https://new.example')).toBe('Bearer tok-new')
  })

  it('a secret that cannot be encrypted leaves settings and secrets as they were', () => {
    const safe = testCipher()
    const store = new MemoryStore()
    const settings = new SettingsService(store, new SecretBox(store, safe), () => null)
    settings.save(backend('https://up.example'), { backendToken: 'tok-1' })
    const before = structuredClone(store.data)
    const seen: unknown[] = []
    settings.onChange((next) => seen.push(next))

    safe.encryptString = () => {
      throw new Error('The keychain refused')
    }
    expect(() =>
      settings.save(backend('https://other.example'), {
        secretAccessKey: 'fine-on-its-own',
        backendToken: 'tok-2',
      }),
    ).toThrow(/keychain refused/)
    expect(store.data).toEqual(before)
    expect(settings.get().backend.url).toBe('https://up.example')
    expect(seen).toEqual([]) // the engine is not told to rebuild for settings that were not saved
  })

  it('the layout of an older Upreel (ciphertext and origins under two keys) is read, then migrated by the next write', () => {
    const safe = testCipher()
    const store = new MemoryStore()
    const cipher = (v: string) => safe.encryptString(v).toString('base64')
    store.set('settings', backend('https://up.example'))
    store.set('secrets', {
      backendToken: cipher('tok-legacy'),
      secretAccessKey: cipher('s3-legacy'),
    })
    store.set('secretOrigins', { backendToken: ['https://up.example'] })

    const secrets = new SecretBox(store, safe)
    const settings = new SettingsService(store, secrets, () => null)
    expect(secrets.get('backendToken')).toBe('tok-legacy')
    expect(secrets.origins('backendToken')).toEqual(['https://up.example'])
    expect(secrets.origins('secretAccessKey')).toBeUndefined()
    expect(tokenSentTo(settings, 'https://up.example')).toBe('Bearer tok-legacy')

    secrets.set('backendHeaders', '[]', ['https://up.example'])
    expect(store.data.secretOrigins).toBeUndefined()
    const raw = store.data.secrets as Record<string, { cipher: string; origins?: string[] }>
    expect(raw.backendToken).toEqual({
      cipher: expect.any(String),
      origins: ['https://up.example'],
    })
    expect(raw.secretAccessKey).toEqual({ cipher: expect.any(String) })
    expect(secrets.get('backendToken')).toBe('tok-legacy')
    expect(secrets.get('secretAccessKey')).toBe('s3-legacy')
  })
})
