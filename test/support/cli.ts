import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { testServer } from './s3'

const root = resolve(__dirname, '../..')

/** The CLI as one node process (no wrapper), so a SIGKILL kills exactly the uploader. */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess & {
  output: Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
  }>
} {
  const s = testServer()
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'src/main/core/cli/main.ts'), ...args],
    {
      cwd: root,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: s.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
        AWS_REGION: s.region,
        // The test runner's own settings must not leak into the CLI's destination.
        AWS_S3_BUCKET: '',
        S3_BUCKET_NAME: '',
        UPREEL_BUCKET: '',
        AWS_ENDPOINT_URL_S3: '',
        AWS_ENDPOINT_URL: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const output = new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
  }>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })))
  return Object.assign(child, { output })
}

export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}
