/**
 * Extra headers for the upload backend and the processing hook (`--header`, a token, the app's
 * cookies), checked before they are used. fetch refuses a bad one with a TypeError that looks
 * like any other failed request; a file would then wait "for the network" forever.
 */
import { UploadError } from '../errors'
import { HEADER_NAME, headerValueProblem } from '../header-syntax'

/**
 * Throws an UploadError (final: sending it again cannot help) naming the first header that cannot
 * be sent. The value is never quoted: it is usually a secret.
 */
export function checkHeaders(headers: Record<string, string> | undefined, forWhat: string): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name)) {
      throw new UploadError({
        code: 'BadHeader',
        message: `The header name ${JSON.stringify(name)} given for ${forWhat} is not a valid HTTP header name (letters, digits and - only, no spaces or colons). Fix it in the settings (or --header 'Name: value').`,
      })
    }
    if (typeof value !== 'string' || headerValueProblem(value)) {
      throw new UploadError({
        code: 'BadHeader',
        message: `The value of the header "${name}" given for ${forWhat} cannot be sent: it contains a line break or a character outside Latin-1 (such as an emoji, a curly quote or €). Check that the token or value was copied whole and as plain text.`,
      })
    }
  }
}
