/**
 * Pure helpers for the backend sign-in fields (unit-tested): the extra-headers text box, and
 * whether a saved credential applies to the address in the form. Main validates again.
 */
import { originOf } from '../../preload/origin'

export interface HeaderLine {
  name: string
  value: string
}

/** "Name: value" per line (blank lines ignored) → headers, or the first line that is not one. */
export function parseHeaderLines(text: string): { headers: HeaderLine[]; error?: string } {
  const headers: HeaderLine[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0) {
      return { headers, error: `Extra headers, line ${i + 1}: write it as "Name: value".` }
    }
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() })
  }
  return { headers }
}

// Main binds credentials to origins with the same function.
export { originOf }

/**
 * What a saved backend credential means for the address in the form: 'here' (it is sent there),
 * 'elsewhere' (it was typed for another address: type it again), or 'none' (nothing saved).
 */
export function savedFor(
  saved: boolean,
  origins: readonly string[] | undefined,
  url: string,
): 'here' | 'elsewhere' | 'none' {
  if (!saved) return 'none'
  const origin = originOf(url)
  return origin && origins?.includes(origin) ? 'here' : 'elsewhere'
}
