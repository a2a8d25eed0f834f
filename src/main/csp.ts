/**
 * The page's Content Security Policy. Sent as a response header by the app protocol (and by the
 * session for the dev server) and repeated in src/renderer/index.html (a unit test keeps the two
 * equal). Nothing inline, no network: the page talks to main only through the preload, and
 * thumbnails come from our own origin (`/thumb/<id>`), so `img-src 'self'` is enough.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'none'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
