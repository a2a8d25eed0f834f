import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { serialize } from 'node:v8'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppProtocolHandler } from '../../src/main/app-protocol'
import { appUrlCheck, originOf } from '../../src/main/app-url'
import { decodeLaunch, encodeLaunch, fileArgs } from '../../src/main/argv'
import { CSP } from '../../src/main/csp'
import { isSafeExternalUrl, openExternalSafely } from '../../src/main/external'
import { WINDOW_BACKGROUND } from '../../src/main/window'

describe('CSP', () => {
  it('index.html carries exactly the CSP main sends as a header', () => {
    const html = readFileSync(resolve(__dirname, '../../src/renderer/index.html'), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)
    expect(meta?.[1]).toBe(CSP)
  })

  it('allows nothing inline, no network, no eval', () => {
    expect(CSP).toContain("default-src 'none'")
    expect(CSP).toContain("script-src 'self'")
    expect(CSP).toContain("connect-src 'none'")
    expect(CSP).not.toContain('unsafe-inline')
    expect(CSP).not.toContain('unsafe-eval')
    expect(CSP).not.toMatch(/data:|blob:|https?:/)
  })
})

describe('window background', () => {
  it("is the page's own --bg for light and dark (opaque: no see-through, no flash)", () => {
    const css = readFileSync(resolve(__dirname, '../../src/renderer/src/styles.css'), 'utf8')
    const dark = css.slice(css.indexOf('prefers-color-scheme: dark'))
    expect(/--bg: (#[0-9a-f]{6});/i.exec(css)?.[1]).toBe(WINDOW_BACKGROUND.light)
    expect(/--bg: (#[0-9a-f]{6});/i.exec(dark)?.[1]).toBe(WINDOW_BACKGROUND.dark)
  })
})

describe('external links', () => {
  it.each([
    ['https://docs.aws.amazon.com/x', true],
    ['http://example.com', false],
    ['file:///etc/passwd', false],
    ['smb://host/share', false],
    ['ms-msdt:/id PCWDiagnostic', false],
    ['javascript:alert(1)', false],
    ['https://user:pw@example.com', false],
    ['not a url', false],
  ])('%s → %s', async (url, ok) => {
    expect(isSafeExternalUrl(url)).toBe(ok)
    const opened: string[] = []
    const r = await openExternalSafely({ openExternal: async (u) => void opened.push(u) }, url)
    expect(r).toBe(ok)
    expect(opened).toEqual(ok ? [url] : [])
  })
})

describe('app URLs', () => {
  it('recognise our origin only', () => {
    const isApp = appUrlCheck(['upreel://app'])
    expect(isApp('upreel://app/index.html')).toBe(true)
    expect(isApp('upreel://app/')).toBe(true)
    expect(isApp('upreel://other/index.html')).toBe(false)
    expect(isApp('https://app/index.html')).toBe(false)
    expect(isApp('file:///index.html')).toBe(false)
    expect(originOf('%%%')).toBeNull()
  })
})

describe('app protocol handler', () => {
  const root = mkdtempSync(join(tmpdir(), 'upreel-proto-'))
  const rendererDir = join(root, 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>')
  writeFileSync(join(rendererDir, 'assets', 'a.js'), 'console.log(1)')
  writeFileSync(join(root, 'secret.json'), '{"key":"s3cr3t"}')
  symlinkSync(join(root, 'secret.json'), join(rendererDir, 'assets', 'link.json'))
  const thumb = join(root, 'poster.jpg')
  writeFileSync(thumb, Buffer.from([0xff, 0xd8, 0xff]))
  const handle = createAppProtocolHandler({
    rendererDir,
    thumbnailPath: (id) => (id === 'known' ? thumb : undefined),
  })
  const get = (path: string) => handle(new Request(`upreel://app${path}`))

  it('serves the page with the CSP header', async () => {
    const res = await get('/index.html')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toBe(CSP)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect((await get('/')).status).toBe(200)
    expect((await get('/assets/a.js')).headers.get('content-type')).toMatch(/javascript/)
  })

  it.each(['/../secret.json', '/%2e%2e/secret.json', '/assets/..%2f..%2fsecret.json', '/%00'])(
    'refuses to leave the renderer folder: %s',
    async (path) => {
      const res = await get(path)
      expect(res.status).toBe(404)
      expect(await res.text()).not.toContain('s3cr3t')
    },
  )

  it('serves thumbnails only for ids the engine knows', async () => {
    const ok = await get('/thumb/known?v=1')
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toBe('image/jpeg')
    expect((await get('/thumb/unknown')).status).toBe(404)
    expect((await get('/thumb/..%2f..%2fsecret.json')).status).toBe(404)
  })

  it('answers only GET/HEAD', async () => {
    const res = await handle(new Request('upreel://app/index.html', { method: 'POST', body: 'x' }))
    expect(res.status).toBe(405)
  })

  it('does not follow a symlink out of the renderer folder', async () => {
    const res = await get('/assets/link.json')
    expect(res.status).toBe(404)
    expect(await res.text()).not.toContain('s3cr3t')
  })
})

describe('launch arguments', () => {
  it('keeps files, drops the executable, the dev app path and flags', () => {
    expect(
      fileArgs(['/opt/Upreel/upreel', '--no-sandbox', 'a.mp4', '/abs/b.mov'], '/home/me', false),
    ).toEqual(['/home/me/a.mp4', '/abs/b.mov'])
    expect(fileArgs(['electron', '.', 'clip.mp4'], '/w', true)).toEqual(['/w/clip.mp4'])
  })

  it('turns file:// URLs (a .desktop entry with %U) into paths, and skips other hosts', () => {
    expect(
      fileArgs(
        ['/opt/Upreel/upreel', 'file:///home/me/My%20Clip.mp4', 'file://elsewhere/share/x.mp4'],
        '/home/me',
        false,
      ),
    ).toEqual(['/home/me/My Clip.mp4'])
  })
})

describe('second-instance arguments', () => {
  const fallback = { argv: ['upreel', '--original-process-start-time=1', 'b.mp4'], cwd: '/x' }
  const many = Array.from({ length: 20 }, (_, i) => `clip ${i}.mp4`)
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64')
  const names = ['撮影 1.mp4', 'Café – final.mov', '🎬.mkv', 'a"b\\c.mp4', ...many]

  it('sends resolved files and the cwd as two strings, and reads them back exactly', () => {
    const data = encodeLaunch(['/opt/Upreel/upreel', '--flag', ...names], '/home/me/Vidéos', false)
    expect(Object.values(data).every((v) => typeof v === 'string')).toBe(true)
    expect(decodeLaunch(data, fallback, false)).toEqual(names.map((n) => `/home/me/Vidéos/${n}`))
    expect(decodeLaunch(encodeLaunch(['upreel'], '/w', false), fallback, false)).toEqual([])
  })

  it('V8 serializes it without a NUL byte (the POSIX singleton splits its message on NUL)', () => {
    const data = encodeLaunch(['upreel', ...names], '/home/山田', false)
    expect(serialize(data).includes(0)).toBe(false)
    // What it replaces: an argv array (and raw non-Latin-1 text) does carry NUL bytes, and so
    // does ASCII-only JSON (\u escapes) made from a UTF-16 string: V8 keeps the string's width.
    expect(serialize({ argv: ['upreel', ...names], cwd: '/home/山田' }).includes(0)).toBe(true)
    const escaped = JSON.stringify(names).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    expect(serialize({ files: escaped, cwd: data.cwd }).includes(0)).toBe(true)
  })

  it('falls back to what Electron passed when additionalData is missing, old or malformed', () => {
    const fromElectron = ['/x/b.mp4']
    for (const bad of [
      undefined,
      null,
      'x',
      { argv: ['upreel', 'a.mp4'], cwd: '/home' }, // an older Upreel's shape
      { files: b64(['/a.mp4']) },
      { files: ['/a.mp4'], cwd: b64('/home') },
      { files: '["/a.mp4"]', cwd: b64('/home') }, // JSON, not base64
      { files: 'bm90IGpzb24=', cwd: b64('/home') }, // base64 of "not json"
      { files: b64({ 0: '/a.mp4' }), cwd: b64('/home') },
      { files: b64(['/a.mp4', 3]), cwd: b64('/home') },
      { files: b64(['']), cwd: b64('/home') },
      { files: b64(['/a.mp4']), cwd: b64('relative') },
      { files: b64(['/a.mp4']), cwd: b64(['/home']) },
      { files: b64([`/${'a'.repeat(40_000)}`]), cwd: b64('/home') },
      { files: b64(Array(10_001).fill('/a.mp4')), cwd: b64('/home') },
    ]) {
      expect(decodeLaunch(bad, fallback, false), String(JSON.stringify(bad)).slice(0, 80)).toEqual(
        fromElectron,
      )
    }
  })

  it('a relative file (a sender that did not resolve it) is resolved against its cwd', () => {
    expect(decodeLaunch({ files: b64(['a.mp4']), cwd: b64('/home/me') }, fallback, false)).toEqual([
      '/home/me/a.mp4',
    ])
  })
})
