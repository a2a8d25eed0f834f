/**
 * The reference backend started in-process on an ephemeral port, against the test S3 server, with
 * a throwaway data dir. Tests get its URL, two users' tokens and a way to restart it on the same
 * data dir and port (ownership must survive that).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BackendConfigInput, LogEntry } from '../../src/backend/config'
import { startBackend, type RunningBackend } from '../../src/backend/server'
import { testServer } from './s3'

export const ALICE_TOKEN = 'alice-token-0123456789abcdef'
export const BOB_TOKEN = 'bob-token-0123456789abcdef'

export interface TestBackend {
  url: string
  dataDir: string
  logs: LogEntry[]
  /** Requests the backend is handling right now. */
  inFlight(): number
  /** Headers that sign in as alice (the default user) or bob. */
  auth(user?: 'alice' | 'bob'): Record<string, string>
  /** Stops and starts again on the same port and data dir. */
  restart(): Promise<void>
  /** Stops (graceful): requests get "connection refused" until start(). */
  stop(): Promise<void>
  /** Starts again after stop(), same port and data dir. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function startTestBackend(
  opts: {
    bucket: string
    /** S3 endpoint the backend signs for (e.g. an S3Proxy that counts the PUTs). */
    s3Endpoint?: string
  } & Partial<Omit<BackendConfigInput, 's3' | 'tokens'>>,
): Promise<TestBackend> {
  const server = testServer()
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'upreel-backend-')))
  const logs: LogEntry[] = []
  const { bucket, s3Endpoint, ...rest } = opts
  const config = (port: number): BackendConfigInput => ({
    ...rest,
    host: '127.0.0.1',
    port,
    dataDir,
    tokens: { [ALICE_TOKEN]: 'alice', [BOB_TOKEN]: 'bob' },
    s3: {
      bucket,
      endpoint: s3Endpoint ?? server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    },
    // Tests run several backends one after another: keep the lines for assertions, not stdout.
    log: (e) => void logs.push(e),
  })
  let running: RunningBackend | undefined = await startBackend(config(0))
  const port = running.port
  return {
    url: running.url,
    dataDir,
    logs,
    inFlight: () => running?.inFlight ?? 0,
    auth: (user = 'alice') => ({
      Authorization: `Bearer ${user === 'alice' ? ALICE_TOKEN : BOB_TOKEN}`,
    }),
    async restart() {
      await running?.close()
      running = await startBackend(config(port))
    },
    async stop() {
      await running?.close()
      running = undefined
    },
    async start() {
      running ??= await startBackend(config(port))
    },
    async close() {
      await running?.close()
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

interface Gate {
  match: (method: string, url: URL) => boolean
  reached: () => void
  released: Promise<void>
}

/**
 * A loopback proxy between the backend and S3 that forwards everything unchanged (Host header
 * included, so signatures stay valid) but can hold back one request until the test releases it:
 * a step of the test then happens between two of the backend's S3 calls, in order, no sleeps.
 */
export class GateProxy {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly gates: Gate[] = []

  constructor(private readonly target: string) {}

  /**
   * The next request matching `match` waits for release(); `reached` settles when it arrives.
   * release() before any such request came takes the gate away.
   */
  hold(match: (method: string, url: URL) => boolean): {
    reached: Promise<void>
    release: () => void
  } {
    let reached!: () => void
    let open!: () => void
    const reachedP = new Promise<void>((r) => (reached = r))
    const released = new Promise<void>((r) => (open = r))
    const gate: Gate = { match, reached, released }
    this.gates.push(gate)
    const release = () => {
      const i = this.gates.indexOf(gate)
      if (i >= 0) this.gates.splice(i, 1)
      open()
    }
    return { reached: reachedP, release }
  }

  async start(): Promise<string> {
    const target = new URL(this.target)
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const i = this.gates.findIndex((g) => g.match(req.method ?? 'GET', url))
      const gate = i >= 0 ? this.gates.splice(i, 1)[0] : undefined
      gate?.reached()
      void (gate?.released ?? Promise.resolve()).then(() => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers)
            upRes.pipe(res)
          },
        )
        up.on('error', () => res.socket?.destroy())
        req.pipe(up)
      })
    })
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }
}
