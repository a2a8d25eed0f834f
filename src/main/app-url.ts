/**
 * The page is served from a custom scheme (`upreel://app/…`) rather than file://, so that the
 * response carries our CSP header, the origin is stable and file:// gets no special powers.
 * Electron's security checklist: "Avoid usage of the file:// protocol and prefer usage of custom
 * protocols".
 */
export const APP_SCHEME = 'upreel'
export const APP_HOST = 'app'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`

/** "scheme://host" of a URL, comparable for custom schemes too (URL.origin is 'null' for them). */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return null
  }
}

/** A predicate for "this URL is our page": the app origin plus, in development, the dev server. */
export function appUrlCheck(allowedOrigins: string[]): (url: string) => boolean {
  const allowed = new Set(allowedOrigins.map((o) => originOf(o)).filter((o) => o !== null))
  return (url) => {
    const origin = originOf(url)
    return origin !== null && allowed.has(origin)
  }
}

/** Thumbnail URL for a row; `v` changes when the poster does, so the page's cache stays right. */
export function thumbnailUrl(origin: string, id: string, version: number): string {
  return `${origin}/thumb/${encodeURIComponent(id)}?v=${version}`
}
