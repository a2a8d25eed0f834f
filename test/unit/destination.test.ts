import { describe, expect, it } from 'vitest'
import {
  connectionOf,
  createObjectStore,
  destinationFromEnv,
  s3SettingsFromEnv,
} from '../../src/main/core/destination'
import { appUserDataDir, defaultStateDir } from '../../src/main/core/paths'
import { parseDuration } from '../../src/main/core/cli/main'

describe('destinationFromEnv', () => {
  it('is undefined with no bucket and no backend', () => {
    expect(destinationFromEnv({})).toBeUndefined()
  })

  it("accepts the seeds' bucket variables and AWS_ENDPOINT_URL_S3, path-style by default with an endpoint", () => {
    expect(destinationFromEnv({ AWS_S3_BUCKET: 'a' })).toEqual({
      mode: 's3',
      bucket: 'a',
      region: 'us-east-1',
      endpoint: undefined,
      forcePathStyle: false,
    })
    expect(
      destinationFromEnv({
        S3_BUCKET_NAME: 'b',
        AWS_ENDPOINT_URL_S3: 'http://minio:9000',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({
      mode: 's3',
      bucket: 'b',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
    })
    expect(
      destinationFromEnv({
        UPREEL_BUCKET: 'c',
        AWS_ENDPOINT_URL: 'https://r2',
        AWS_S3_FORCE_PATH_STYLE: 'false',
      }),
    ).toMatchObject({ bucket: 'c', endpoint: 'https://r2', forcePathStyle: false })
    expect(
      destinationFromEnv({ AWS_S3_BUCKET: 'd', AWS_DEFAULT_REGION: 'ap-south-1' }),
    ).toMatchObject({ region: 'ap-south-1' })
  })

  it('reads the endpoint and path-style without a bucket variable (the bucket may come from a flag)', () => {
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://localhost:9000' })).toEqual({
      endpoint: 'http://localhost:9000',
      region: undefined,
      forcePathStyle: true,
    })
    expect(
      s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'https://r2', AWS_S3_FORCE_PATH_STYLE: 'false' }),
    ).toMatchObject({ endpoint: 'https://r2', forcePathStyle: false })
    expect(s3SettingsFromEnv({ S3_FORCE_PATH_STYLE: 'yes', AWS_REGION: 'eu-west-3' })).toEqual({
      endpoint: undefined,
      region: 'eu-west-3',
      forcePathStyle: true,
    })
    expect(s3SettingsFromEnv({})).toEqual({
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    })
  })

  it('selects backend mode with a bearer token and hook', () => {
    expect(
      destinationFromEnv({
        UPREEL_BACKEND_URL: 'https://api.example/upload',
        UPREEL_BACKEND_TOKEN: 't0k',
        UPREEL_HOOK_URL: 'https://api.example/process',
        AWS_S3_BUCKET: 'ignored',
      }),
    ).toEqual({
      mode: 'backend',
      url: 'https://api.example/upload',
      headers: { Authorization: 'Bearer t0k' },
      hookUrl: 'https://api.example/process',
    })
  })
})

describe('the connection journaled with each upload', () => {
  it('says where the destination is and never how to sign in to it', async () => {
    const s3 = {
      mode: 's3' as const,
      bucket: 'b',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDSECRETLESS', secretAccessKey: 'sekrit' },
    }
    expect(connectionOf(s3)).toEqual({
      mode: 's3',
      bucket: 'b',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
    })
    const backend = {
      mode: 'backend' as const,
      url: 'https://api.example/upload',
      headers: { Authorization: 'Bearer t0k', 'X-Api-Key': 'k3y' },
      hookUrl: 'https://ops:pw@api.example/process',
    }
    expect(connectionOf(backend)).toEqual({
      mode: 'backend',
      url: 'https://api.example/upload',
      hookUrl: 'https://api.example/process',
    })
    for (const dest of [s3, backend]) {
      const store = await createObjectStore(dest)
      try {
        expect(store.connection).toEqual(connectionOf(dest))
        expect(JSON.stringify(store.connection)).not.toMatch(/sekrit|AKID|t0k|k3y|pw@/)
      } finally {
        store.destroy?.()
      }
    }
  })
})

describe('state dir shared by the app and the CLI', () => {
  it("is the app's user data folder per platform, overridable", () => {
    expect(appUserDataDir({ HOME: '/h' }, 'linux')).toMatch(/\.config\/Upreel$/)
    expect(appUserDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Upreel')
    expect(appUserDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/Upreel$/)
    expect(appUserDataDir({ APPDATA: 'C:\\Users\\c\\AppData\\Roaming' }, 'win32')).toContain(
      'Upreel',
    )
    expect(defaultStateDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Upreel/state')
    expect(defaultStateDir({ UPREEL_STATE_DIR: '/s' }, 'linux')).toBe('/s')
  })
})

describe('cleanup durations', () => {
  it('parses 7d, 12h, 30m, 0s and refuses the rest', () => {
    expect(parseDuration('7d')).toBe(7 * 86400e3)
    expect(parseDuration('12h')).toBe(12 * 3600e3)
    expect(parseDuration('30m')).toBe(30 * 60e3)
    expect(parseDuration('0s')).toBe(0)
    expect(() => parseDuration('soon')).toThrow(/not a duration/)
  })
})
