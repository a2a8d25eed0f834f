import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface ProxyRequestInfo {
  method: string
  url: string
  partNumber?: number
  uploadId?: string
  /** Settles once S3 has answered the forwarded request (or it failed); undefined when not forwarded. */
  upstream?: Promise<void>
}

/** What the proxy does with one request: pass it on, or inject a fault. */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'reset' }
  | { kind: 'status'; status: number; code: string; message?: string }
  | { kind: 'stall'; ms: number }
  /** Forward, then cut the connection after the response headers. */
  | { kind: 'truncate' }

/**
 * A real HTTP proxy on loopback between the engine and S3. It forwards requests unchanged (the
 * Host header included, so SigV4 signatures made for the proxy's address stay valid), counts
 * them, and can inject faults. Tests point the store's endpoint at it.
 */
export class S3Proxy {
  readonly requests: ProxyRequestInfo[] = []
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  decide: (info: ProxyRequestInfo) => Fault = () => ({ kind: 'pass' })

  constructor(private readonly target: string) {}

  async start(port = 0): Promise<string> {
    const target = new URL(this.target)
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const info: ProxyRequestInfo = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        partNumber: url.searchParams.has('partNumber')
          ? Number(url.searchParams.get('partNumber'))
          : undefined,
        uploadId: url.searchParams.get('uploadId') ?? undefined,
      }
      this.requests.push(info)
      const fault = this.decide(info)
      if (fault.kind === 'reset') {
        req.socket.destroy()
        return
      }
      if (fault.kind === 'status') {
        drain(req).then(() => {
          res.writeHead(fault.status, { 'content-type': 'application/xml' })
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>${fault.message ?? 'injected'}</Message><RequestId>proxy</RequestId></Error>`,
          )
        })
        return
      }
      let upstreamDone!: () => void
      info.upstream = new Promise<void>((r) => (upstreamDone = r))
      const forward = () => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (upRes) => {
            upRes.on('end', upstreamDone)
            upRes.on('close', upstreamDone)
            res.writeHead(upRes.statusCode ?? 502, upRes.headers)
            if (fault.kind === 'truncate') {
              res.flushHeaders()
              upRes.destroy()
              setImmediate(() => res.socket?.destroy())
              return
            }
            upRes.pipe(res)
          },
        )
        up.on('error', () => {
          upstreamDone()
          res.socket?.destroy()
        })
        return up
      }
      if (fault.kind === 'stall') {
        // The request has reached "the network": it arrives at S3 after the delay even if the
        // client has given up on it meanwhile, as a real slow link would deliver it.
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => setTimeout(() => forward().end(Buffer.concat(chunks)), fault.ms))
      } else {
        req.pipe(forward())
      }
    })
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** UploadPart requests seen, per part number (what the engine actually sent). */
  partPuts(uploadId?: string): number[] {
    return this.requests
      .filter(
        (r) =>
          r.method === 'PUT' &&
          r.partNumber !== undefined &&
          (!uploadId || r.uploadId === uploadId),
      )
      .map((r) => r.partNumber!)
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((r) => {
    req.on('data', () => undefined)
    req.on('end', r)
    req.on('error', () => r())
  })
}
