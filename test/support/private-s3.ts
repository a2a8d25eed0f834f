/**
 * A second Swift s3api server owned by one test, for stopping and restarting it mid-upload. The
 * shared server (s3-server.ts) may be serving other test runs at the same moment: stopping it
 * would fail them. This one has its own data dir and ports, made with the same scripts.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface PrivateS3 {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
  /** Stops every process of this server (the data stays). */
  stop(): Promise<void>
  /** Starts it again on the same ports and data. */
  start(): Promise<void>
  /** Stops it and deletes its data. */
  destroy(): Promise<void>
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** A base port P with P, P+1, P+2 free (object, container, account servers), and two more. */
async function freePorts(): Promise<{ proxy: number; backend: number; memcached: number }> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 9_000) * 5
    const all = [base, base + 1, base + 2, base + 3, base + 4]
    if ((await Promise.all(all.map(portFree))).every(Boolean)) {
      return { backend: base, memcached: base + 3, proxy: base + 4 }
    }
  }
  throw new Error('no free ports for a private S3 server')
}

export async function startPrivateS3(scripts: {
  startScript: string
  stopScript: string
}): Promise<PrivateS3> {
  const dataDir = await mkdtemp(join(tmpdir(), 'upreel-private-s3-'))
  const ports = await freePorts()
  const env = {
    ...process.env,
    SWIFT_S3_PORT: String(ports.proxy),
    SWIFT_S3_BACKEND_PORT: String(ports.backend),
    SWIFT_S3_MEMCACHED_PORT: String(ports.memcached),
  }
  let info: Record<string, string> = {}
  const start = async () => {
    const { stdout } = await run('bash', [scripts.startScript, dataDir], { env, timeout: 120_000 })
    info = Object.fromEntries(
      stdout
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
  }
  const stop = async () => {
    await run('bash', [scripts.stopScript, dataDir], { env, timeout: 60_000 })
  }
  await start()
  return {
    endpoint: info.S3_ENDPOINT!,
    accessKeyId: info.AWS_ACCESS_KEY_ID!,
    secretAccessKey: info.AWS_SECRET_ACCESS_KEY!,
    region: info.AWS_REGION ?? 'us-east-1',
    stop,
    start,
    async destroy() {
      await stop().catch(() => undefined)
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
