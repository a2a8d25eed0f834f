/**
 * Starts and stops the project's own S3 server (OpenStack Swift + s3api, test/s3-server/), or
 * uses the one named by S3_TEST_ENDPOINT (e.g. MinIO on a laptop). Used by the integration tests'
 * globalSetup, the benchmark and `npm run dev:stack`; plain Node, no vitest.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import type { S3TestServer } from './s3-env'

export type { S3TestServer }

const run = promisify(execFile)
const root = resolve(__dirname, '../..')
const dataDir = resolve(root, '.s3-test-data')
const usersDir = resolve(dataDir, 'users')
const ports = {
  SWIFT_S3_PORT: process.env.SWIFT_S3_PORT ?? '18080',
  SWIFT_S3_BACKEND_PORT: process.env.SWIFT_S3_BACKEND_PORT ?? '16200',
  SWIFT_S3_MEMCACHED_PORT: process.env.SWIFT_S3_MEMCACHED_PORT ?? '11312',
}

let startedHere = false

/**
 * Several test runs (developers, agents) may share one server: each registers its pid under
 * users/, and the last one out stops the server.
 */
export async function stopS3(): Promise<void> {
  if (!startedHere) return
  await rm(resolve(usersDir, String(process.pid)), { force: true })
  const others = (await readdir(usersDir).catch(() => [] as string[])).filter((p) =>
    alive(Number(p)),
  )
  if (others.length === 0 && process.env.UPREEL_KEEP_S3 !== '1') await stopSwift(dataDir, ports)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function startS3(): Promise<S3TestServer> {
  if (process.env.S3_TEST_ENDPOINT) {
    return {
      endpoint: process.env.S3_TEST_ENDPOINT,
      accessKeyId: process.env.S3_TEST_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey:
        process.env.S3_TEST_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? '',
      region: process.env.S3_TEST_REGION ?? 'us-east-1',
      external: true,
    }
  }
  const server = await startSwift(dataDir, ports)
  await mkdir(usersDir, { recursive: true })
  await writeFile(resolve(usersDir, String(process.pid)), '')
  startedHere = true
  return server
}

/**
 * Starts (or reuses, when it is already healthy) the Swift S3 server in `dataDir` on `ports`.
 * Waits out another process that is starting the same server at the same moment.
 */
export async function startSwift(
  dataDir: string,
  ports: Record<string, string>,
): Promise<S3TestServer> {
  let stdout: string
  const script = resolve(root, 'test/s3-server/start-swift-s3.sh')
  for (let attempt = 0; ; attempt++) {
    try {
      ;({ stdout } = await run('bash', [script, dataDir], {
        env: { ...process.env, ...ports },
        timeout: 300_000,
      }))
      break
    } catch (e) {
      // Another run is starting the same server right now: wait until it is healthy, then reuse it.
      if (attempt < 30 && /already in use/.test(String((e as { stderr?: string }).stderr))) {
        await new Promise((r) => setTimeout(r, 1000))
        continue
      }
      throw e
    }
  }
  const info = Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
  return {
    endpoint: info.S3_ENDPOINT!,
    accessKeyId: info.AWS_ACCESS_KEY_ID!,
    secretAccessKey: info.AWS_SECRET_ACCESS_KEY!,
    region: info.AWS_REGION ?? 'us-east-1',
    external: false,
    dataDir,
    stopScript: resolve(root, 'test/s3-server/stop-swift-s3.sh'),
    startScript: script,
    ports,
  }
}

/** Stops the Swift S3 server of `dataDir` (exactly the processes its start script recorded). */
export async function stopSwift(dataDir: string, ports: Record<string, string>): Promise<void> {
  await run('bash', [resolve(root, 'test/s3-server/stop-swift-s3.sh'), dataDir], {
    env: { ...process.env, ...ports },
  })
}
