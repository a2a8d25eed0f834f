/**
 * Fault injection on loopback, for the fault and bad-input suites (test/integration/faults*,
 * bad-inputs*) and `npm run soak`. Plain Node, no vitest, so scripts can use it too.
 *
 * - `FaultProxy`: an HTTP proxy between the engine and S3 (or the backend). It forwards requests
 *   unchanged (the Host header included, so SigV4 signatures made for the proxy's address stay
 *   valid), records every request, counts how often each part was sent, and injects faults at
 *   configured rates: connection resets (before or in the middle of the request body), 500 and
 *   503 SlowDown answers, stalls, slow bodies and truncated or lost answers.
 * - `NetworkLink`: a TCP pass-through that can take "the network" away: refuse (nothing listens,
 *   connections reset) or blackhole (connections hang, data waits until the link is back).
 *
 * Faults are drawn from a seeded generator keyed by what the request is (operation, object key
 * without the bucket and with any UUID masked, part number, and how many times that same request
 * was seen before), not by arrival order, so a run with the same seed injects the same faults
 * into the same requests whatever the interleaving of parallel parts and the bucket's name.
 * (Mostly: which of two parallel requests of one kind counts as "seen before" can still vary, and
 * `ensureEachKind` forces its faults on whichever requests come first.)
 */
import { createHash } from 'node:crypto'
import {
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http'
import { Readable } from 'node:stream'
import {
  connect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net'

export const FAULT_KINDS = [
  'reset',
  'status500',
  'slowdown503',
  'stall',
  'slowBody',
  'truncate',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultRequest {
  method: string
  url: string
  /** S3 operation (or backend route) guessed from method, path and query. */
  op: string
  /** Object key (S3 path, or the backend's `key` query parameter). */
  object: string
  partNumber?: number
  uploadId?: string
  /** How many identical requests (same op, object, part) came before this one. */
  nth: number
  /** 'answer': a scripted answer (status and body) was given instead of forwarding. */
  fault: FaultKind | 'pass' | 'answer'
  /** Status the client was given (upstream's or injected); undefined when the connection died. */
  status?: number
  at: number
  /** Milliseconds until the client's connection for this request finished or closed. */
  ms?: number
}

export interface FaultConfig {
  /** Same seed + same object keys → the same faults on the same requests. */
  seed: number
  /** Probability per request of each fault; their sum must be ≤ 1. */
  rates: Partial<Record<FaultKind, number>>
  /** Stall before forwarding (default 1500 ms: well under the engine's 60 s idle timeout). */
  stallMs?: number
  /** Bytes per second of a slow body, both directions (default 2 MiB/s). */
  slowBytesPerSec?: number
  /**
   * Share of resets that hit in the middle of the request body, after half of it was forwarded
   * (default 0.5); the others hit before any byte is forwarded. Requests without a body are always
   * reset before anything is forwarded.
   */
  resetMidBody?: number
  /** Whether a drawn fault may hit this request (default: yes). */
  applies?: (
    r: Pick<FaultRequest, 'method' | 'op' | 'object' | 'partNumber'>,
    kind: FaultKind,
  ) => boolean
  /** Body of injected error answers: S3's XML, or a backend's JSON. */
  errorBody?: 'xml' | 'json'
  /**
   * Requests that take each fault kind not injected yet, in turn, before the random draw decides:
   * a short run then still meets every kind at least once (a suite that met no 503 proves
   * nothing about 503s).
   */
  ensureEachKind?: (r: Pick<FaultRequest, 'method' | 'op' | 'object' | 'partNumber'>) => boolean
  /**
   * Targeted faults: a kind, 'pass', or a whole answer here overrides the draw for that request.
   * `body` is there for small request bodies when `peekBody` is on (a backend's JSON).
   */
  script?: (
    r: Pick<FaultRequest, 'method' | 'op' | 'object' | 'partNumber' | 'nth'> & { body?: string },
  ) => FaultKind | 'pass' | ScriptedAnswer | undefined
  /** Read request bodies up to 64 KiB before deciding, so `script` can look at them. */
  peekBody?: boolean
  /**
   * A server that stored something other than what was sent: the ETag of a forwarded answer
   * (its `ETag` header, and `<ETag>` in an XML body such as CompleteMultipartUpload's) becomes
   * what this returns for it (unquoted); undefined leaves it alone.
   */
  rewriteEtag?: (
    r: Pick<FaultRequest, 'op' | 'partNumber' | 'nth'>,
    etag: string,
  ) => string | undefined
}

/** An answer the proxy gives itself (a gateway's HTML page, a backend's 401). */
export interface ScriptedAnswer {
  status: number
  body: string
  contentType?: string
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi

/** Largest request body `peekBody` reads before deciding (backend JSON, not part bytes). */
const PEEK_LIMIT = 64 * 1024

/** An order-independent seeded draw: sha256(seed, signature) → [0, 1). */
function draw(seed: number, signature: string): number {
  const h = createHash('sha256').update(`${seed}\n${signature}`).digest()
  return h.readUInt32BE(0) / 2 ** 32
}

/** The S3 operation of a request (path-style), or the backend route for /s3/multipart… paths. */
export function operationOf(method: string, url: URL): string {
  const q = url.searchParams
  if (url.pathname.startsWith('/s3/multipart')) {
    const rest = url.pathname.slice('/s3/multipart'.length).split('/').filter(Boolean)
    if (rest.length === 0) return 'backend:create'
    if (rest[1] === 'batch') return 'backend:batch'
    if (rest[1] === 'complete') return 'backend:complete'
    if (rest[1]) return 'backend:sign'
    return method === 'DELETE' ? 'backend:abort' : 'backend:list'
  }
  if (url.pathname.startsWith('/s3/') || url.pathname === '/health') return `backend:${method}`
  if (method === 'PUT' && q.has('partNumber')) return 'UploadPart'
  if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload'
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload'
  if (method === 'GET' && q.has('uploadId')) return 'ListParts'
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload'
  if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads'
  if (method === 'PUT') return 'PutObject'
  if (method === 'HEAD') return 'HeadObject'
  if (method === 'GET') return 'GetObject'
  return method
}

export class FaultProxy {
  readonly requests: FaultRequest[] = []
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly seen = new Map<string, number>()
  private readonly forced = new Set<string>()
  private config: FaultConfig
  private readonly target: URL

  constructor(target: string, config: Partial<FaultConfig> = {}) {
    this.target = new URL(target)
    this.config = { seed: 1, rates: {}, ...config }
  }

  /** Change rates (or anything else) between phases of a test. */
  configure(patch: Partial<FaultConfig>): void {
    this.config = { ...this.config, ...patch }
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res))
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }

  /** Forgets what was seen (requests, counts per request): the next test starts afresh. */
  reset(): void {
    this.requests.length = 0
    this.seen.clear()
    this.forced.clear()
  }

  /**
   * How many times each part reached the proxy, keyed `uploadId#partNumber`; a file sent as one
   * PutObject is one part too, keyed `PutObject /bucket/key`. With `reachedServer`, only the sends
   * the server behind answered (not those the proxy could not deliver because the server was down).
   */
  partSends(opts: { reachedServer?: boolean } = {}): Map<string, number> {
    const m = new Map<string, number>()
    for (const r of this.requests) {
      const part = r.op === 'UploadPart' && r.partNumber !== undefined
      if (!part && r.op !== 'PutObject') continue
      if (opts.reachedServer && r.fault === 'pass' && r.status === undefined) continue
      const k = part ? `${r.uploadId}#${r.partNumber}` : `PutObject ${r.object}`
      m.set(k, (m.get(k) ?? 0) + 1)
    }
    return m
  }

  maxPartSends(opts: { reachedServer?: boolean } = {}): number {
    return Math.max(0, ...this.partSends(opts).values())
  }

  /** Faults injected so far, by kind. */
  injected(): Record<FaultKind, number> {
    const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
    for (const r of this.requests) if (r.fault !== 'pass' && r.fault !== 'answer') out[r.fault]++
    return out
  }

  private pick(
    info: Omit<FaultRequest, 'fault' | 'at' | 'nth'>,
    body: string | undefined,
  ): {
    fault: FaultKind | 'pass' | ScriptedAnswer
    nth: number
    /** A second draw for the fault's details (where a reset hits). */
    detail: number
  } {
    // Keys a backend made unique with a UUID, and the per-run test bucket (the first segment of a
    // path-style S3 URL), would make every run draw differently; a backend's "create" has no key
    // in its URL, its JSON body names the file.
    let object = info.object.replace(UUID, '{uuid}')
    if (!info.op.startsWith('backend:')) object = object.replace(/^\/[^/]*/, '')
    const filename = body && /"filename"\s*:\s*"([^"]*)"/.exec(body)?.[1]
    if (filename) object += `#${filename}`
    const sig = `${info.method} ${info.op} ${object} ${info.partNumber ?? ''}`
    const nth = this.seen.get(sig) ?? 0
    this.seen.set(sig, nth + 1)
    const { seed, rates, applies, ensureEachKind, script } = this.config
    const roll = draw(seed, `${sig} #${nth}`)
    const detail = draw(seed, `${sig} #${nth} detail`)
    const scripted = script?.({ ...info, nth, body })
    if (scripted) return { fault: scripted, nth, detail }
    const allowed = (k: FaultKind) => !applies || applies(info, k)
    // A request that took a forced fault gets through on its next try: forced faults only make
    // sure each kind happens, they must not stack on one part.
    if (this.forced.has(sig)) return { fault: 'pass', nth, detail }
    if (nth === 0 && ensureEachKind?.(info)) {
      const done = this.injected()
      const missing = FAULT_KINDS.find((k) => (rates[k] ?? 0) > 0 && done[k] === 0 && allowed(k))
      if (missing) {
        this.forced.add(sig)
        return { fault: missing, nth, detail }
      }
    }
    let acc = 0
    for (const kind of FAULT_KINDS) {
      acc += rates[kind] ?? 0
      if (roll < acc) return { fault: allowed(kind) ? kind : 'pass', nth, detail }
    }
    return { fault: 'pass', nth, detail }
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    const op = operationOf(method, url)
    const base = {
      method,
      url: req.url ?? '/',
      op,
      object: url.searchParams.get('key') ?? decodeURIComponent(url.pathname),
      partNumber: url.searchParams.has('partNumber')
        ? Number(url.searchParams.get('partNumber'))
        : undefined,
      uploadId: url.searchParams.get('uploadId') ?? undefined,
    }
    const length = Number(req.headers['content-length'] ?? 0)
    if (this.config.peekBody && length > 0 && length <= PEEK_LIMIT) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.decide(req, res, base, Buffer.concat(chunks)))
      return
    }
    this.decide(req, res, base, undefined)
  }

  private decide(
    req: IncomingMessage,
    res: ServerResponse,
    base: Omit<FaultRequest, 'fault' | 'at' | 'nth'>,
    body: Buffer | undefined,
  ) {
    const picked = this.pick(base, body?.toString('utf8'))
    const { nth, detail } = picked
    const fault = typeof picked.fault === 'object' ? 'answer' : picked.fault
    const rec: FaultRequest = { ...base, nth, fault, at: Date.now() }
    this.requests.push(rec)
    res.on('close', () => (rec.ms = Date.now() - rec.at))
    const cfg = this.config
    const source: Readable = body ? Readable.from([body]) : req

    if (typeof picked.fault === 'object') {
      const answer = picked.fault
      void (body ? Promise.resolve() : drain(req)).then(() => {
        rec.status = answer.status
        res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/html' })
        res.end(answer.body)
      })
      return
    }

    if (fault === 'reset') {
      // Some resets hit before any byte is forwarded, the others in the middle of the body (the
      // server sees a client that vanished mid-request).
      const length = Number(req.headers['content-length'] ?? 0)
      if (detail < 1 - (cfg.resetMidBody ?? 0.5) || length < 2) {
        req.socket.resetAndDestroy()
        return
      }
      this.forward(req, source, res, rec, { resetAfter: Math.floor(length / 2) })
      return
    }
    if (fault === 'status500' || fault === 'slowdown503') {
      void (body ? Promise.resolve() : drain(req)).then(() => {
        const status = fault === 'status500' ? 500 : 503
        const code = fault === 'status500' ? 'InternalError' : 'SlowDown'
        rec.status = status
        if (cfg.errorBody === 'json') {
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ message: `injected ${code}` }))
        } else {
          res.writeHead(status, { 'content-type': 'application/xml' })
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message><RequestId>fault-proxy</RequestId></Error>`,
          )
        }
      })
      return
    }
    if (fault === 'stall') {
      setTimeout(() => this.forward(req, source, res, rec, {}), cfg.stallMs ?? 1500)
      return
    }
    this.forward(req, source, res, rec, {
      slow: fault === 'slowBody' ? (cfg.slowBytesPerSec ?? 2 * 1024 * 1024) : undefined,
      truncate: fault === 'truncate',
    })
  }

  private forward(
    req: IncomingMessage,
    source: Readable,
    res: ServerResponse,
    rec: FaultRequest,
    o: { slow?: number; truncate?: boolean; resetAfter?: number },
  ) {
    const up = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        if (o.truncate) {
          // The server did the work; the answer is lost: half of a body, or nothing at all when
          // there is no body (UploadPart's 200), so the client cannot mistake it for success.
          const length = Number(upRes.headers['content-length'] ?? 0)
          if (length <= 1) {
            upRes.resume()
            upRes.on('end', () => res.socket?.resetAndDestroy())
            return
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers as OutgoingHttpHeaders)
          let sent = 0
          upRes.on('data', (c: Buffer) => {
            const room = Math.floor(length / 2) - sent
            if (room > 0) res.write(c.subarray(0, room))
            sent += c.length
            if (sent >= length / 2) {
              upRes.destroy()
              // Let the half body reach the client before the connection dies.
              setTimeout(() => res.socket?.destroy(), 20)
            }
          })
          return
        }
        rec.status = upRes.statusCode
        const rewrite = this.config.rewriteEtag
        if (rewrite) return void rewriteEtags(upRes, res, (etag) => rewrite(rec, etag))
        res.writeHead(upRes.statusCode ?? 502, upRes.headers as OutgoingHttpHeaders)
        if (o.slow) void pump(upRes, res, o.slow)
        else upRes.pipe(res)
      },
    )
    up.on('error', () => res.socket?.destroy())
    res.on('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    if (o.resetAfter !== undefined) {
      let seen = 0
      const limit = o.resetAfter
      source.on('data', (c: Buffer) => {
        if (seen >= limit) return
        const room = limit - seen
        seen += c.length
        if (seen < limit) {
          up.write(c)
          return
        }
        // Only once the half body is on its way: destroyed at once, a request still connecting
        // would never reach the server, and the "mid-body" reset would be one before the body.
        up.write(c.subarray(0, room), () => {
          up.destroy()
          req.socket.resetAndDestroy()
        })
      })
      return
    }
    if (o.slow) void pump(source, up, o.slow)
    else source.pipe(up)
  }
}

/** Forwards an answer with its ETags (header and XML `<ETag>`) passed through `to`. */
async function rewriteEtags(
  upRes: IncomingMessage,
  res: ServerResponse,
  to: (etag: string) => string | undefined,
): Promise<void> {
  const chunks: Buffer[] = []
  try {
    for await (const c of upRes) chunks.push(c as Buffer)
  } catch {
    res.socket?.destroy()
    return
  }
  const headers = { ...upRes.headers } as OutgoingHttpHeaders
  const header = typeof headers.etag === 'string' ? headers.etag.replace(/"/g, '') : undefined
  const fromHeader = header && to(header)
  if (fromHeader) headers.etag = `"${fromHeader}"`
  let body = Buffer.concat(chunks)
  // XML answers only: an object's bytes pass untouched.
  if (/xml/i.test(String(headers['content-type'] ?? ''))) {
    const xml = body
      .toString('utf8')
      .replace(
        /<ETag>(&quot;|")?([0-9a-fA-F-]+)(&quot;|")?<\/ETag>/,
        (all, q1: string | undefined, etag: string, q2: string | undefined) => {
          const next = to(etag)
          return next ? `<ETag>${q1 ?? ''}${next}${q2 ?? ''}</ETag>` : all
        },
      )
    body = Buffer.from(xml)
  }
  delete headers['transfer-encoding']
  headers['content-length'] = String(body.length)
  res.writeHead(upRes.statusCode ?? 502, headers)
  res.end(body)
}

/** Copies a stream at `rate` bytes per second (16 KiB slices), ending the destination. */
async function pump(
  from: NodeJS.ReadableStream,
  to: NodeJS.WritableStream & { destroyed?: boolean },
  rate: number,
): Promise<void> {
  const slice = 16 * 1024
  const started = Date.now()
  let moved = 0
  try {
    for await (const chunk of from as AsyncIterable<Buffer>) {
      for (let off = 0; off < chunk.length; off += slice) {
        if (to.destroyed) return
        const piece = chunk.subarray(off, off + slice)
        moved += piece.length
        const due = started + (moved / rate) * 1000
        const wait = due - Date.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        if (!to.write(piece)) await new Promise((r) => to.once('drain', r))
      }
    }
    to.end()
  } catch {
    ;(to as unknown as { destroy?: () => void }).destroy?.()
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((r) => {
    req.on('data', () => undefined)
    req.on('end', r)
    req.on('error', () => r())
    req.on('close', r)
  })
}

export type LinkState = 'up' | 'refuse' | 'blackhole'

interface Pair {
  client: Socket
  upstream?: Socket
  /** One side closed while the link was blackholed: the other learns it when the link is up. */
  closed?: boolean
}

/**
 * "The network" between a client and a server, as a TCP pass-through on loopback.
 * - `down('refuse')`: nothing listens on the port any more and every open connection is reset:
 *   what a client sees when the server's host is gone or the interface is down.
 * - `down('blackhole')`: connections stay open but nothing moves, new ones hang unanswered: a
 *   cable pulled, Wi-Fi gone. `up()` lets the held data flow again, as TCP does when the network
 *   comes back within its retransmission time.
 */
export class NetworkLink {
  private server: NetServer | undefined
  private port = 0
  private readonly pairs = new Set<Pair>()
  private state: LinkState = 'up'
  /** Connections accepted (attempts while refusing never get here). */
  connections = 0
  private readonly target: URL

  constructor(target: string) {
    this.target = new URL(target)
  }

  get current(): LinkState {
    return this.state
  }

  async start(port = 0): Promise<string> {
    this.server = createNetServer((client) => this.accept(client))
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r))
    this.port = (this.server.address() as AddressInfo).port
    return `http://127.0.0.1:${this.port}`
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async down(mode: 'refuse' | 'blackhole'): Promise<void> {
    if (this.state !== 'up') await this.up()
    this.state = mode
    if (mode === 'refuse') {
      const closed = new Promise<void>((r) => this.server!.close(() => r()))
      for (const p of this.pairs) {
        p.client.resetAndDestroy()
        p.upstream?.destroy()
      }
      this.pairs.clear()
      await closed
      return
    }
    for (const p of this.pairs) hold(p)
  }

  async up(): Promise<void> {
    const was = this.state
    this.state = 'up'
    if (was === 'refuse') {
      await new Promise<void>((r, j) => {
        this.server!.once('error', j)
        this.server!.listen(this.port, '127.0.0.1', () => {
          this.server!.off('error', j)
          r()
        })
      })
    } else if (was === 'blackhole') {
      for (const p of this.pairs) {
        if (p.closed) this.drop(p)
        else if (p.upstream) flow(p)
        else this.connectUpstream(p)
      }
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream?.destroy()
    }
    this.pairs.clear()
    if (this.state !== 'refuse') await new Promise<void>((r) => this.server?.close(() => r()))
  }

  private accept(client: Socket) {
    this.connections++
    const pair: Pair = { client }
    this.pairs.add(pair)
    const closed = () => this.sideClosed(pair)
    client.on('error', closed)
    client.on('close', closed)
    if (this.state === 'blackhole') {
      client.pause()
      return
    }
    this.connectUpstream(pair)
  }

  private connectUpstream(pair: Pair) {
    const upstream = connect(Number(this.target.port), this.target.hostname)
    pair.upstream = upstream
    const closed = () => this.sideClosed(pair)
    upstream.on('error', closed)
    upstream.on('close', closed)
    flow(pair)
  }

  /** A close (a server's keep-alive timeout, say) crosses a blackholed link only once it is up. */
  private sideClosed(pair: Pair) {
    if (this.state === 'blackhole') pair.closed = true
    else this.drop(pair)
  }

  private drop(pair: Pair) {
    pair.client.destroy()
    pair.upstream?.destroy()
    this.pairs.delete(pair)
  }
}

function hold(p: Pair) {
  if (p.upstream) {
    p.client.unpipe(p.upstream)
    p.upstream.unpipe(p.client)
    p.upstream.pause()
  }
  p.client.pause()
}

function flow(p: Pair) {
  p.client.pipe(p.upstream!)
  p.upstream!.pipe(p.client)
  p.client.resume()
  p.upstream!.resume()
}
