/**
 * The peers of `npm run bench` (issue 6): the same file to the same local server with
 * - aws-cli (Debian's /usr/bin/aws, its defaults: 8 MiB parts, 10 requests at once),
 * - rclone (Debian's, its defaults: 5 MiB chunks, 4 at once, MD5 of the file first),
 * - the Upreel CLI as a whole process (built bundle, `node out/main/cli.js upload`),
 * - the server's raw ceiling: 8 parallel presigned part PUTs by one curl process of a file split
 *   beforehand (no hashing, no reading beyond the kernel's), then CompleteMultipartUpload,
 * each measured as a child process tree with /usr/bin/time: wall seconds, user + system
 * CPU seconds of that tree only (not the server's), and its largest process's peak RSS.
 * The in-process rows (engine, lib-storage) are in worker.ts / peers-worker.ts.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { S3TestServer } from '../test/support/s3-env'

const run = promisify(execFile)
const root = resolve(__dirname, '..')
const MiB = 1024 * 1024
const TIME = '/usr/bin/time'

export interface Measure {
  seconds: number
  cpuSeconds: number
  peakRssMiB: number
  idleRssMiB?: number
  bytes: number
  /** The object stored (checked with HeadObject after the run). */
  key?: string
}

/** Peer tools present (installed now when missing and we are root), or why a row is skipped. */
export async function ensurePeers(): Promise<
  Record<'aws' | 'rclone' | 'curl' | 'time' | 'openssl', string | undefined>
> {
  const need: Record<string, string> = {
    aws: '/usr/bin/aws',
    rclone: '/usr/bin/rclone',
    curl: '/usr/bin/curl',
    time: TIME,
    openssl: '/usr/bin/openssl',
  }
  const packages: Record<string, string> = {
    aws: 'awscli',
    rclone: 'rclone',
    curl: 'curl',
    time: 'time',
    openssl: 'openssl',
  }
  const missing = Object.keys(need).filter((k) => !existsSync(need[k]!))
  if (missing.length && process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    // A fresh image has no package lists: install alone would find nothing.
    process.stderr.write('apt-get update…\n')
    await run('apt-get', ['update'], { env, maxBuffer: 16 << 20 }).catch((e: unknown) =>
      process.stderr.write(`apt-get update failed (installing anyway): ${String(e)}\n`),
    )
    process.stderr.write(`installing ${missing.map((m) => packages[m]).join(' ')} with apt-get…\n`)
    await run('apt-get', ['install', '-y', ...missing.map((m) => packages[m]!)], {
      env,
      maxBuffer: 16 << 20,
    }).catch((e: unknown) => process.stderr.write(`apt-get failed: ${String(e)}\n`))
  }
  const why = (k: string) =>
    existsSync(need[k]!)
      ? undefined
      : `${need[k]} missing (install Debian's ${packages[k]}${process.getuid?.() === 0 ? '; apt-get failed' : ' as root'})`
  return {
    aws: why('aws'),
    rclone: why('rclone'),
    curl: why('curl'),
    time: why('time'),
    openssl: why('openssl'),
  }
}

/** The peers' versions as they report them (`aws --version`, `rclone --version`). */
export async function peerVersions(): Promise<{ aws?: string; rclone?: string }> {
  const version = async (cmd: string, pattern: RegExp) => {
    if (!existsSync(cmd)) return undefined
    const { stdout, stderr } = await run(cmd, ['--version']).catch(() => ({
      stdout: '',
      stderr: '',
    }))
    return pattern.exec(`${stdout}\n${stderr}`)?.[1]
  }
  return {
    // "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off"
    aws: await version('/usr/bin/aws', /aws-cli\/(\S+)/),
    // "rclone v1.60.1-DEV"
    rclone: await version('/usr/bin/rclone', /rclone v?(\S+)/),
  }
}

/** Runs a command under /usr/bin/time; the numbers cover it and every child it waited for. */
export async function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  bytes: number,
): Promise<Measure & { stdout: string }> {
  const out = join(root, 'bench/.work', `time-${process.pid}-${Date.now()}.txt`)
  // An `undefined` in `env` removes that variable.
  const merged = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined),
  )
  const { stdout } = await run(TIME, ['-f', '%e %U %S %M', '-o', out, cmd, ...args], {
    cwd: root,
    env: merged,
    maxBuffer: 64 << 20,
  })
  const [e, u, s, m] = (await readFile(out, 'utf8'))
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number)
  await rm(out, { force: true })
  // %M is the largest resident set of the processes waited for, in KiB.
  return { seconds: e!, cpuSeconds: u! + s!, peakRssMiB: m! / 1024, bytes, stdout }
}

function s3Env(s3: S3TestServer): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_DEFAULT_REGION: s3.region,
  }
}

/**
 * aws-cli (Debian's 2.9): path-style from a config file, the endpoint by flag (no env var yet).
 * `tls`: through the TLS terminator instead of plain http.
 */
export async function awsCli(
  file: string,
  size: number,
  bucket: string,
  s3: S3TestServer,
  tls?: Pick<TlsTerminator, 'endpoint' | 'caFile'>,
) {
  const config = join(root, 'bench/.work/aws-config')
  // Checksum settings (request_checksum_calculation) only exist from aws-cli 2.23; 2.9 sends no
  // flexible checksums but a Content-MD5 with every part. Over plain http it also signs every
  // part with SHA-256 (botocore's S3SigV4Auth does whenever the URL is not https); over https with
  // a Content-MD5 it signs UNSIGNED-PAYLOAD (both seen with `aws --debug`).
  await writeFile(config, '[default]\ns3 =\n    addressing_style = path\n')
  const key = `bench/aws-cli${tls ? '-https' : ''}/${Date.now()}.bin`
  const m = await timed(
    '/usr/bin/aws',
    [
      '--endpoint-url',
      tls?.endpoint ?? s3.endpoint,
      's3',
      'cp',
      file,
      `s3://${bucket}/${key}`,
      '--no-progress',
    ],
    {
      ...s3Env(s3),
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      // The terminator's self-signed certificate; the machine's bundle otherwise.
      ...(tls ? { AWS_CA_BUNDLE: tls.caFile } : {}),
    },
    size,
  )
  return { ...m, key }
}

/** rclone (Debian's 1.60), configured from the environment as remote "bench". */
export async function rclone(file: string, size: number, bucket: string, s3: S3TestServer) {
  const key = `bench/rclone/${Date.now()}.bin`
  const m = await timed(
    '/usr/bin/rclone',
    ['copyto', file, `bench:${bucket}/${key}`, '--s3-no-check-bucket'],
    {
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_BENCH_ENV_AUTH: 'false',
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: s3.accessKeyId,
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: s3.secretAccessKey,
      RCLONE_CONFIG_BENCH_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_BENCH_REGION: s3.region,
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
      // rclone's SDK refuses a CA bundle with its own transport ("LoadCustomCABundleError"); the
      // endpoint is plain http anyway.
      AWS_CA_BUNDLE: undefined,
    },
    size,
  )
  return { ...m, key }
}

/** The Upreel CLI bundle as a user runs it (`npm run build` makes out/main/cli.js). */
export async function upreelCli(
  file: string,
  size: number,
  bucket: string,
  s3: S3TestServer,
  stateDir: string,
  tls?: Pick<TlsTerminator, 'endpoint' | 'caFile'>,
) {
  // A folder per run and the file's own name: the CLI refuses a template without a per-file part.
  const dir = `bench/upreel-cli${tls ? '-https' : ''}/${Date.now()}`
  const key = `${dir}/${basename(file)}`
  const m = await timed(
    process.execPath,
    [
      join(root, 'bin/upreel.js'),
      'upload',
      file,
      '--bucket',
      bucket,
      '--endpoint',
      tls?.endpoint ?? s3.endpoint,
      '--state-dir',
      stateDir,
      '--key-template',
      `${dir}/{filename}`,
      '--all-files',
      '--no-media',
      '--json',
    ],
    {
      ...s3Env(s3),
      AWS_S3_BUCKET: '',
      AWS_ENDPOINT_URL_S3: '',
      AWS_ENDPOINT_URL: '',
      ...(tls ? { NODE_EXTRA_CA_CERTS: tls.caFile } : {}),
    },
    size,
  )
  await rm(stateDir, { recursive: true, force: true })
  return { ...m, key }
}

export interface TlsTerminator {
  /** https://127.0.0.1:<port>, forwarding to the S3 server. */
  endpoint: string
  /** The self-signed certificate clients must trust. */
  caFile: string
  /** CPU seconds (user + system) the terminator has used so far. */
  cpuSeconds(): Promise<number>
  stop(): Promise<void>
}

/**
 * The HTTPS rows' front: a self-signed certificate for 127.0.0.1 (openssl, EC P-256) and
 * tls-terminator.ts in its own process in front of the S3 server.
 */
export async function startTlsTerminator(s3: S3TestServer, dir: string): Promise<TlsTerminator> {
  await mkdir(dir, { recursive: true })
  const keyFile = join(dir, 'tls-key.pem')
  const caFile = join(dir, 'tls-cert.pem')
  await run('/usr/bin/openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ])
  const target = new URL(s3.endpoint)
  const child: ChildProcess = fork(
    join(root, 'bench/tls-terminator.ts'),
    [keyFile, caFile, `${target.hostname}:${target.port}`],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  const port = await new Promise<number>((resolveStart, reject) => {
    child.once('message', (m) => resolveStart((m as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`the TLS terminator exited (${code})`)))
  })
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caFile,
    cpuSeconds: () =>
      new Promise((resolveCpu) => {
        child.once('message', (m) => {
          const { cpu } = m as { cpu: { user: number; system: number } }
          resolveCpu((cpu.user + cpu.system) / 1e6)
        })
        child.send('cpu')
      }),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r))
      child.disconnect()
      await exited
    },
  }
}

/**
 * The ceiling: the file split into 16 MiB pieces and their URLs presigned beforehand (not timed),
 * then one curl process PUTs them 8 at a time; then CompleteMultipartUpload (timed, in this
 * process, so its CPU is not counted: it is one small request).
 */
export async function ceiling(
  file: string,
  size: number,
  bucket: string,
  client: S3Client,
  parallel = 8,
): Promise<Measure & { key: string }> {
  const partSize = 16 * MiB
  const dir = join(root, `bench/.work/split-${basename(file)}`)
  if (!existsSync(join(dir, 'done'))) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    await run('split', ['-b', String(partSize), '-d', '-a', '4', file, join(dir, 'part-')])
    await writeFile(join(dir, 'done'), '')
  }
  const pieces = (await readdir(dir)).filter((n) => n.startsWith('part-')).sort()
  const key = `bench/ceiling/${Date.now()}.bin`
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  const uploadId = created.UploadId!
  try {
    const entries: string[] = []
    for (const [i, piece] of pieces.entries()) {
      const url = await getSignedUrl(
        client,
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1 }),
        { expiresIn: 3600 },
      )
      // Each "next" starts a transfer with fresh options, so every entry carries its own.
      entries.push(
        [
          `url = "${url}"`,
          `upload-file = "${join(dir, piece)}"`,
          'output = /dev/null',
          'silent',
          'show-error',
          'fail',
          // curl waits for "100 Continue" before bodies over 1 MiB; Node's http does not.
          'header = "Expect:"',
          'write-out = "%{url} %header{etag}\\n"',
        ].join('\n'),
      )
    }
    const config = join(root, 'bench/.work/curl-config')
    // "next" separates transfers; a trailing one would start an empty transfer that fails all.
    await writeFile(config, entries.join('\nnext\n') + '\n')
    const t0 = performance.now()
    const m = await timed(
      '/usr/bin/curl',
      ['--parallel', '--parallel-max', String(parallel), '--config', config],
      {},
      size,
    )
    const etags = new Map<number, string>()
    for (const l of m.stdout.split('\n').filter(Boolean)) {
      const [url, etag] = l.split(' ')
      etags.set(Number(new URL(url!).searchParams.get('partNumber')), etag!)
    }
    if (etags.size !== pieces.length)
      throw new Error(`curl stored ${etags.size}/${pieces.length} parts`)
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [...etags]
            .sort((a, b) => a[0] - b[0])
            .map(([n, e]) => ({ PartNumber: n, ETag: e })),
        },
      }),
    )
    const seconds = (performance.now() - t0) / 1000
    return { ...m, seconds, key }
  } catch (e) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined)
    throw e
  }
}

/** What every row stored: the right number of bytes (a wrong ETag fails the engine itself). */
export async function checkStored(client: S3Client, bucket: string, key: string, size: number) {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  if (head.ContentLength !== size) {
    throw new Error(`${key}: stored ${head.ContentLength} bytes, expected ${size}`)
  }
}

/** The reference backend as its own process (its CPU is the server side's, not the client's). */
export async function startBackendProcess(
  s3: S3TestServer,
  bucket: string,
): Promise<{ url: string; token: string; stop: () => Promise<void> }> {
  const token = `bench-${Date.now()}-0123456789abcdef`
  const dataDir = join(root, `bench/.work/backend-${Date.now()}`)
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/backend/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      ...s3Env(s3),
      UPREEL_BACKEND_PORT: String(port),
      UPREEL_BACKEND_HOST: '127.0.0.1',
      UPREEL_BACKEND_BUCKET: bucket,
      UPREEL_BACKEND_TOKENS: `${token}=bench`,
      UPREEL_BACKEND_DATA_DIR: dataDir,
      UPREEL_BACKEND_CONTENT_TYPES: 'video/*,application/octet-stream',
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (d: Buffer) => (log += d.toString()))
  child.stderr.on('data', (d: Buffer) => (log += d.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill()
      throw new Error(`the reference backend did not start: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    token,
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
