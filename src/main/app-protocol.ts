/**
 * Serves the built renderer and engine-made thumbnails for the `upreel://app/` scheme. Plain
 * fetch-style (Request → Response) so Electron's `protocol.handle` and the e2e harness (Playwright
 * route) run the same code. It serves only: files inside the renderer build folder, and
 * `/thumb/<id>` for an id the engine knows and that has a poster. Nothing else on disk is reachable.
 */
import { readFile, realpath, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { CSP } from './csp'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

export interface AppProtocolOptions {
  /** Absolute path of the built renderer (out/renderer). */
  rendererDir: string
  /** The local poster path of an upload the engine knows, or undefined. */
  thumbnailPath(id: string): string | undefined
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } })
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
}

export function createAppProtocolHandler(opts: AppProtocolOptions) {
  const root = resolve(opts.rendererDir)
  let rootReal: string | undefined
  const realRoot = async () => (rootReal ??= await realpath(root).catch(() => root))
  const inside = (p: string, base: string) => p === base || p.startsWith(base + sep)

  async function file(path: string, type: string, cache: string): Promise<Response> {
    try {
      const s = await stat(path)
      if (!s.isFile()) return notFound()
      const body = await readFile(path)
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: { 'Content-Type': type, 'Cache-Control': cache, ...SECURITY_HEADERS },
      })
    } catch {
      return notFound()
    }
  }

  return async function handle(request: Request): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method not allowed', { status: 405 })
    }
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(request.url).pathname)
    } catch {
      return notFound()
    }
    if (pathname.includes('\0')) return notFound()

    const thumb = /^\/thumb\/([^/]+)$/.exec(pathname)
    if (thumb) {
      const path = opts.thumbnailPath(thumb[1]!)
      // Versioned URLs (?v=) make a long private cache safe.
      return path ? file(path, 'image/jpeg', 'private, max-age=86400') : notFound()
    }

    const relative = pathname === '/' ? 'index.html' : normalize(pathname).replace(/^[/\\]+/, '')
    const target = resolve(join(root, relative))
    if (!inside(target, root)) return notFound()
    // A symlink inside the build folder must not lead out of it either.
    let real: string
    try {
      real = await realpath(target)
    } catch {
      return notFound()
    }
    if (!inside(real, await realRoot())) return notFound()
    const type = MIME[extname(target).toLowerCase()] ?? 'application/octet-stream'
    return file(real, type, 'no-cache')
  }
}
