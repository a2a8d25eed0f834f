/**
 * The origin a backend credential is bound to, beside the contract (which says credentials go only
 * to the origins they were typed for). Main binds and checks with it, and the settings page tells
 * "saved for this address" with it, so both compute it with this one function. Node-free and
 * dependency-free: the renderer bundles it.
 */

/** `https://host:port` of an http(s) URL, or null for '' and anything else. */
export function originOf(url: string | undefined): string | null {
  if (!url) return null
  try {
    const u = new URL(url)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null
  } catch {
    return null
  }
}
