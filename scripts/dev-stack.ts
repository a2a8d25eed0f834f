/**
 * `npm run dev:stack`: everything needed to try Upreel end to end on one machine.
 * 1. the local S3 server (test/s3-server: OpenStack Swift + s3api) on its own ports and data dir,
 *    with a bucket "upreel-dev";
 * 2. the reference backend (src/backend) on http://127.0.0.1:3020, token "upreel-dev-token-0001";
 * 3. the app (built, Electron fetched if needed) with a throwaway profile in .dev-stack/app,
 *    pointed at the bucket through the AWS_* variables, or at the backend with `-- --backend`.
 * Ctrl-C (or quitting the app) stops all three. `-- --no-app` starts only the servers.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { startBackend, type RunningBackend } from '../src/backend/server'
import { createS3Client } from '../src/main/core/s3/client'
import { startSwift, stopSwift } from '../test/support/s3-server'

const root = resolve(__dirname, '..')
const work = resolve(root, '.dev-stack')
const s3Dir = resolve(work, 's3')
/** Ports apart from the tests' (18080…) so both can run at once. */
const ports = {
  SWIFT_S3_PORT: process.env.SWIFT_S3_PORT ?? '18480',
  SWIFT_S3_BACKEND_PORT: process.env.SWIFT_S3_BACKEND_PORT ?? '16600',
  SWIFT_S3_MEMCACHED_PORT: process.env.SWIFT_S3_MEMCACHED_PORT ?? '11712',
}
const BUCKET = 'upreel-dev'
const BACKEND_PORT = Number(process.env.UPREEL_DEV_BACKEND_PORT ?? 3020)
const TOKEN = 'upreel-dev-token-0001'

const args = new Set(process.argv.slice(2))
let backend: RunningBackend | undefined
let stopping = false

async function startS3() {
  console.log('dev-stack: starting the S3 server (Swift + s3api)…')
  return startSwift(s3Dir, ports)
}

async function stop(code: number) {
  if (stopping) return
  stopping = true
  console.log('dev-stack: stopping…')
  await backend?.close().catch(() => undefined)
  await stopSwift(s3Dir, ports).catch((e: unknown) => console.error(e))
  process.exit(code)
}

async function main() {
  await mkdir(work, { recursive: true })
  const s3 = await startS3()
  const client = createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  })
  await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: { name?: string }) => {
    if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e
  })
  client.destroy()

  backend = await startBackend({
    host: '127.0.0.1',
    port: BACKEND_PORT,
    dataDir: resolve(work, 'backend'),
    tokens: { [TOKEN]: 'dev' },
    s3: {
      bucket: BUCKET,
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    },
  })

  console.log(
    [
      '',
      `dev-stack: S3       ${s3.endpoint}  bucket ${BUCKET}  key ${s3.accessKeyId}  secret ${s3.secretAccessKey}`,
      `dev-stack: backend  ${backend.url}  token ${TOKEN}`,
      '',
    ].join('\n'),
  )
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  if (args.has('--no-app')) {
    console.log('dev-stack: servers only (--no-app). Ctrl-C stops them.')
    return
  }

  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    UPREEL_USER_DATA_DIR: resolve(work, 'app'),
    AWS_S3_BUCKET: BUCKET,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_S3_FORCE_PATH_STYLE: 'true',
  }
  if (args.has('--backend')) {
    appEnv.UPREEL_BACKEND_URL = backend.url
    appEnv.UPREEL_BACKEND_TOKEN = TOKEN
  }
  const step = (cmd: string, argv: string[]) =>
    new Promise<number>((res) => {
      spawn(cmd, argv, { cwd: root, stdio: 'inherit', env: appEnv }).on('exit', (c) => res(c ?? 1))
    })
  if (
    (await step(process.execPath, [
      resolve(root, 'node_modules/electron-vite/bin/electron-vite.js'),
      'build',
    ])) !== 0
  ) {
    return stop(1)
  }
  if ((await step(process.execPath, [resolve(root, 'scripts/ensure-electron.mjs')])) !== 0) {
    console.log('dev-stack: the servers stay up for the CLI and the tests; Ctrl-C stops them.')
    return
  }
  console.log(
    `dev-stack: launching Upreel (${args.has('--backend') ? 'backend' : 'direct S3'} mode)…`,
  )
  const code = await step(process.execPath, [resolve(root, 'node_modules/electron/cli.js'), '.'])
  await stop(code)
}

main().catch((e: unknown) => {
  console.error(`dev-stack: ${e instanceof Error ? e.message : String(e)}`)
  void stop(1)
})
