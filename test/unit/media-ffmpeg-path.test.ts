import { describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import {
  asarUnpacked,
  findOnPath,
  resolveMediaTools,
  type ResolveDeps,
} from '../../src/main/core/media/ffmpeg-path'

/** A fake machine: `files` are the executables that exist. */
function deps(
  files: string[],
  env: Record<string, string | undefined> = {},
  opts: { staticPath?: string; platform?: NodeJS.Platform } = {},
): ResolveDeps {
  const set = new Set(files)
  return {
    env,
    platform: opts.platform ?? 'linux',
    isExecutable: (p) => set.has(p),
    ffmpegStaticPath: () => opts.staticPath,
  }
}

const STATIC = '/app/node_modules/ffmpeg-static/ffmpeg'

describe('resolveMediaTools', () => {
  it('prefers FFMPEG_PATH over ffmpeg-static and PATH', () => {
    const tools = resolveMediaTools(
      deps(
        ['/opt/ff/ffmpeg', STATIC, '/usr/bin/ffmpeg'],
        { FFMPEG_PATH: '/opt/ff/ffmpeg', PATH: '/usr/bin' },
        { staticPath: STATIC },
      ),
    )
    expect(tools.ffmpeg).toBe('/opt/ff/ffmpeg')
    expect(tools.ffmpegSource).toBe('FFMPEG_PATH')
  })

  it('uses ffmpeg-static when its binary is on disk', () => {
    const tools = resolveMediaTools(
      deps([STATIC, '/usr/bin/ffmpeg'], { PATH: '/usr/bin' }, { staticPath: STATIC }),
    )
    expect(tools).toMatchObject({ ffmpeg: STATIC, ffmpegSource: 'ffmpeg-static' })
  })

  it('skips ffmpeg-static whose install script never downloaded the binary', () => {
    const tools = resolveMediaTools(
      deps(['/usr/bin/ffmpeg'], { PATH: '/bin:/usr/bin' }, { staticPath: STATIC }),
    )
    expect(tools).toMatchObject({ ffmpeg: '/usr/bin/ffmpeg', ffmpegSource: 'PATH' })
  })

  it('uses the asar-unpacked copy of ffmpeg-static inside a packaged app', () => {
    const packed =
      '/Applications/Upreel.app/Contents/Resources/app.asar/node_modules/ffmpeg-static/ffmpeg'
    const unpacked = packed.replace('app.asar', 'app.asar.unpacked')
    const tools = resolveMediaTools(deps([unpacked], {}, { staticPath: packed }))
    expect(tools.ffmpeg).toBe(unpacked)
  })

  it('fails loudly when FFMPEG_PATH points nowhere instead of silently using another ffmpeg', () => {
    const run = (): unknown =>
      resolveMediaTools(
        deps(['/usr/bin/ffmpeg'], { FFMPEG_PATH: '/typo/ffmpeg', PATH: '/usr/bin' }),
      )
    expect(run).toThrow(UploadError)
    expect(run).toThrow(/FFMPEG_PATH is set to "\/typo\/ffmpeg"/)
  })

  it('names all three places and what to install when nothing is found', () => {
    let error: UploadError | undefined
    try {
      resolveMediaTools(deps([], { PATH: '/usr/bin' }, { staticPath: STATIC }))
    } catch (e) {
      error = e as UploadError
    }
    expect(error?.code).toBe('MediaToolMissing')
    expect(error?.message).toMatch(/FFMPEG_PATH/)
    expect(error?.message).toMatch(/ffmpeg-static is installed but its binary is missing/)
    expect(error?.message).toMatch(/"ffmpeg" on the PATH/)
    expect(error?.message).toMatch(/Install ffmpeg/)
  })

  it('says ffmpeg-static is not installed when the package cannot be resolved', () => {
    expect(() => resolveMediaTools(deps([], {}))).toThrow(/ffmpeg-static package is not installed/)
  })

  it('takes ffprobe from FFPROBE_PATH, then beside ffmpeg, then PATH, else none', () => {
    expect(
      resolveMediaTools(
        deps(['/usr/bin/ffmpeg', '/x/ffprobe', '/usr/bin/ffprobe'], {
          PATH: '/usr/bin',
          FFPROBE_PATH: '/x/ffprobe',
        }),
      ).ffprobe,
    ).toBe('/x/ffprobe')
    expect(
      resolveMediaTools(
        deps(['/opt/ff/ffmpeg', '/opt/ff/ffprobe', '/usr/bin/ffprobe'], {
          FFMPEG_PATH: '/opt/ff/ffmpeg',
          PATH: '/usr/bin',
        }),
      ).ffprobe,
    ).toBe('/opt/ff/ffprobe')
    expect(
      resolveMediaTools(
        deps([STATIC, '/usr/bin/ffprobe'], { PATH: '/usr/bin' }, { staticPath: STATIC }),
      ).ffprobe,
    ).toBe('/usr/bin/ffprobe')
    // ffmpeg-static ships no ffprobe: probing then falls back to `ffmpeg -i`.
    expect(
      resolveMediaTools(deps([STATIC], { PATH: '/usr/bin' }, { staticPath: STATIC })).ffprobe,
    ).toBeUndefined()
  })

  it('rejects an FFPROBE_PATH that points nowhere', () => {
    expect(() =>
      resolveMediaTools(deps(['/usr/bin/ffmpeg'], { PATH: '/usr/bin', FFPROBE_PATH: '/nope' })),
    ).toThrow(/FFPROBE_PATH is set to "\/nope"/)
  })

  it('looks for ffmpeg.exe with Windows paths on win32', () => {
    const tools = resolveMediaTools(
      deps(
        ['C:\\ffmpeg\\bin\\ffmpeg.exe', 'C:\\ffmpeg\\bin\\ffprobe.exe'],
        { Path: 'C:\\Windows;"C:\\ffmpeg\\bin"' },
        { platform: 'win32' },
      ),
    )
    expect(tools).toMatchObject({
      ffmpeg: 'C:\\ffmpeg\\bin\\ffmpeg.exe',
      ffprobe: 'C:\\ffmpeg\\bin\\ffprobe.exe',
    })
  })
})

describe('findOnPath', () => {
  it('returns the first match in PATH order and skips empty entries', () => {
    const exists = (p: string): boolean => p === '/a/ffmpeg' || p === '/b/ffmpeg'
    expect(findOnPath('ffmpeg', { PATH: '::/b:/a' }, 'linux', exists)).toBe('/b/ffmpeg')
    expect(findOnPath('ffmpeg', {}, 'linux', exists)).toBeUndefined()
  })

  it("finds Homebrew's ffmpeg on macOS when launched from Finder (launchd's short PATH)", () => {
    const finderPath = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }
    for (const dir of ['/opt/homebrew/bin', '/usr/local/bin', '/opt/local/bin']) {
      const tools = resolveMediaTools(
        deps([`${dir}/ffmpeg`, `${dir}/ffprobe`], finderPath, { platform: 'darwin' }),
      )
      expect(tools).toMatchObject({
        ffmpeg: `${dir}/ffmpeg`,
        ffprobe: `${dir}/ffprobe`,
        ffmpegSource: 'PATH',
      })
    }
    // PATH first: a shell-launched app with its own PATH gets what the shell would run.
    const both = deps(['/usr/bin/ffmpeg', '/opt/homebrew/bin/ffmpeg'], finderPath, {
      platform: 'darwin',
    })
    expect(resolveMediaTools(both).ffmpeg).toBe('/usr/bin/ffmpeg')
    // Apple silicon's Homebrew before Intel's before MacPorts.
    const all = deps(
      ['/opt/local/bin/ffmpeg', '/usr/local/bin/ffmpeg', '/opt/homebrew/bin/ffmpeg'],
      {},
      { platform: 'darwin' },
    )
    expect(resolveMediaTools(all).ffmpeg).toBe('/opt/homebrew/bin/ffmpeg')
  })

  it('looks in the macOS folders only on macOS, and names them when nothing is found', () => {
    const brew = ['/opt/homebrew/bin/ffmpeg']
    expect(() => resolveMediaTools(deps(brew, { PATH: '/usr/bin' }))).toThrow(/on the PATH \(/)
    expect(() => resolveMediaTools(deps([], { PATH: '/usr/bin' }, { platform: 'darwin' }))).toThrow(
      /on the PATH and in \/opt\/homebrew\/bin, \/usr\/local\/bin, \/opt\/local\/bin \(not found\)/,
    )
  })
})

describe('asarUnpacked', () => {
  it('rewrites app.asar to app.asar.unpacked on both separators, and nothing else', () => {
    expect(asarUnpacked('/r/app.asar/node_modules/ffmpeg-static/ffmpeg')).toBe(
      '/r/app.asar.unpacked/node_modules/ffmpeg-static/ffmpeg',
    )
    expect(asarUnpacked('C:\\r\\app.asar\\n\\ffmpeg.exe')).toBe(
      'C:\\r\\app.asar.unpacked\\n\\ffmpeg.exe',
    )
    expect(asarUnpacked('/r/app.asar.unpacked/x/ffmpeg')).toBe('/r/app.asar.unpacked/x/ffmpeg')
    expect(asarUnpacked('/home/me/myapp.asarx/ffmpeg')).toBe('/home/me/myapp.asarx/ffmpeg')
  })
})
