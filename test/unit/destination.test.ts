import { describe, expect, it } from 'vitest'
import { destinationFromEnv } from '../../src/main/core/destination'
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
