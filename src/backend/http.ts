/** Small node:http helpers for the reference backend: JSON bodies and answers, CORS. */
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * An answer with a status and a message for the client, sent as `{error}`, plus a stable `code`
 * when a client may want to tell two answers with the same status apart.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/**
 * Largest JSON body accepted (1 MiB): a complete request for 10,000 parts with quoted ETags is
 * about 600 KB, everything else is tiny.
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_JSON_BODY_BYTES) throw new HttpError(413, 'The request body is too large.')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_JSON_BODY_BYTES) throw new HttpError(413, 'The request body is too large.')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text.trim()) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.')
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}

/** Headers a browser client (Uppy) may send; Authorization carries the bearer token. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Uppy-Versions, Uppy-Credentials'

/**
 * CORS without credentials: the token travels in the Authorization header, never in a cookie, so
 * even `*` does not let another site act with a user's ambient authority.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  origins: readonly string[],
): boolean {
  const origin = req.headers.origin
  if (!origin) return false
  const any = origins.includes('*')
  if (!any && !origins.includes(origin)) return false
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin)
  if (!any) res.setHeader('Vary', 'Origin')
  res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id')
  return true
}

export function answerPreflight(res: ServerResponse, allowed: boolean): void {
  if (allowed) {
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS')
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    // Browsers cap this (Chrome: 2 h); 10 min keeps config changes quick to take effect.
    res.setHeader('Access-Control-Max-Age', '600')
  }
  res.statusCode = 204
  res.end()
}
