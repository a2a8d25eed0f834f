/**
 * The reference backend started in-process on an ephemeral port, against the test S3 server, with
 * a throwaway data dir. Tests get its URL, two users' tokens and a way to restart it on the same
 * data dir and port (ownership must survive that).
 */
import { mkdtemp, rm } from 'node:fs/promises'
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
