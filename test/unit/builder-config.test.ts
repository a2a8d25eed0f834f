import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
// electron-builder's own validation, as `electron-builder` runs it before building.
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config'
import { DebugLogger } from 'builder-util'

const root = resolve(__dirname, '../..')
type Loaded = Record<string, unknown> & {
  mac: { entitlements: string; entitlementsInherit: string; icon: string; hardenedRuntime: boolean }
  win: { icon: string; target: { target: string }[] }
  linux: { icon: string; target: string[]; mimeTypes?: string[] }
  fileAssociations: { ext: string[] }[]
  asarUnpack: string[]
  files: { filter: string[] }[]
}

/** Loaded the way electron-builder loads it (electron-builder.yml + package.json "build"). */
let config: Loaded
beforeAll(async () => {
  config = (await getConfig(root, null, null)) as unknown as Loaded
})

describe('electron-builder.yml', () => {
  it("passes electron-builder's schema validation", async () => {
    await expect(
      validateConfiguration(config as never, new DebugLogger(false)),
    ).resolves.toBeUndefined()
  })

  it('the validator really rejects a broken config (so the test above can fail)', async () => {
    await expect(
      validateConfiguration(
        { ...config, mac: { ...config.mac, hardenedRuntme: true } } as never,
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/configuration.mac/)
  })

  it('names Upreel, the three platforms and their targets', () => {
    expect(config.productName).toBe('Upreel')
    expect(config.appId).toMatch(/^[a-z0-9.-]+$/)
    expect(config.linux.target).toEqual(['AppImage', 'deb'])
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis'])
    expect(config.mac.hardenedRuntime).toBe(true)
    expect(config.asarUnpack).toContain('node_modules/ffmpeg-static/**')
    expect(config.files[0]!.filter).toContain('out/**/*')
  })

  it('every file it points at exists, and the icons are real PNGs of the right sizes', () => {
    for (const f of [
      config.mac.entitlements,
      config.mac.entitlementsInherit,
      config.mac.icon,
      config.win.icon,
    ]) {
      expect(existsSync(resolve(root, f)), f).toBe(true)
    }
    const png = (path: string) => {
      const b = readFileSync(resolve(root, path))
      expect(b.subarray(1, 4).toString('ascii')).toBe('PNG')
      return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
    }
    // macOS needs 512 px or more, Windows 256; 1024 covers both.
    expect(png('build/icon.png')).toEqual({ width: 1024, height: 1024 })
    for (const n of [16, 32, 48, 64, 128, 256, 512]) {
      expect(png(`${config.linux.icon}/${n}x${n}.png`)).toEqual({ width: n, height: n })
    }
    const plist = readFileSync(resolve(root, config.mac.entitlements), 'utf8')
    expect(plist).toContain('com.apple.security.cs.allow-jit')
    expect(plist).not.toContain('disable-library-validation')
  })
})

describe('"Open with Upreel" on Linux', () => {
  const GLOBS = '/usr/share/mime/globs2'

  it('the .desktop MimeType and the associated extensions name the same system types', (ctx) => {
    if (!existsSync(GLOBS)) return ctx.skip(`no shared-mime-info database here (${GLOBS})`)
    // shared-mime-info's own glob table: "weight:type:*.ext".
    const typeOf = new Map<string, string>()
    for (const line of readFileSync(GLOBS, 'utf8').split('\n')) {
      const m = /^\d+:([^:]+):\*\.([a-z0-9]+)$/.exec(line)
      if (m && !typeOf.has(m[2]!)) typeOf.set(m[2]!, m[1]!)
    }
    const mimeTypes = config.linux.mimeTypes ?? []
    const exts = config.fileAssociations.flatMap((a) => a.ext)
    for (const ext of exts) {
      expect(typeOf.get(ext), `shared-mime-info knows .${ext}`).toBeDefined()
      expect(mimeTypes, `.${ext}`).toContain(typeOf.get(ext))
    }
    // And the other way: Linux offers Upreel for no type that macOS and Windows leave out.
    const associated = new Set(exts.map((e) => typeOf.get(e)))
    for (const type of mimeTypes) expect(associated, type).toContain(type)
  })
})
