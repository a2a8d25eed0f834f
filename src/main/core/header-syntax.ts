/**
 * What an HTTP header may hold, for the extra headers sent to an upload backend and its hook
 * (`--header`, Settings, the token): one check for the CLI, the Settings form and the store.
 * Node-free: the Settings schema runs in the sandboxed preload too.
 */

/** RFC 9110 field-name: one or more token characters. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Why a header value cannot be sent, or undefined. HTTP carries values as Latin-1 bytes on one
 * line; fetch refuses anything else with a TypeError that looks like a network failure.
 */
export function headerValueProblem(value: string): string | undefined {
  if (/[\r\n\0]/.test(value)) return 'contains a line break (or NUL), which a header cannot carry'
  if (/[\u0100-\uffff]/.test(value)) {
    return 'has characters outside Latin-1 (such as an emoji, a curly quote or €), which a header cannot carry'
  }
  return undefined
}
