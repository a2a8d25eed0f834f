/**
 * `upreel`: the engine without Electron, for automation and checks.
 * Exit codes: 0 every file completed, 1 any failed (or interrupted), 2 usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'
import { createObjectStore, destinationFromEnv, type Destination } from '../destination'
import { UploadEngine } from '../engine/upload-engine'
import type { UploadSnapshot } from '../engine/types'
import { isUploadError } from '../errors'
import { DEFAULT_KEY_TEMPLATE } from '../key-template'
import { formatBytes, parseSize } from '../part-plan'
import { defaultStateDir } from '../paths'
import type { MediaPort, ObjectStore } from '../ports'
import { scanInputs } from '../scan'
import { mediaMetadata } from '../media/metadata'
import { ProgressPrinter } from './progress'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  /** Live progress redraws only on a terminal. */
  isTTY: boolean
  env: NodeJS.ProcessEnv
}

class UsageError extends Error {}

const USAGE = `Usage:
  upreel upload <file-or-folder>... (--bucket B | --backend URL) [options]
  upreel resume [--state-dir DIR] [--json]
  upreel list [--state-dir DIR] [--json]
  upreel abort <id> | --all [--state-dir DIR]
  upreel cleanup --older-than 7d [--server] [--prefix P] [--state-dir DIR]
  upreel probe <file> [--json]
  upreel thumbnail <file> --out F [--at SECONDS]

Destination (upload, resume, abort, cleanup):
  --bucket B            S3 bucket (or AWS_S3_BUCKET / S3_BUCKET_NAME / UPREEL_BUCKET)
  --endpoint URL        S3-compatible endpoint (or AWS_ENDPOINT_URL_S3)
  --region R            (or AWS_REGION; default us-east-1)
  --path-style          path-style addressing (default on when an endpoint is set)
  --backend URL         sign through a Companion-compatible backend instead of S3 keys
  --header 'N: v'       extra header for the backend (repeatable), e.g. Authorization
  --hook URL            POST a processing request after each completed upload
Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the shared AWS files.

Upload options:
  --key-template T      default ${DEFAULT_KEY_TEMPLATE}; {uuid} {filename} {basename} {ext} {date} {relativeDir}
  --thumbnail-key-template T   default {dir}/thumbnail.jpg
  --part-size 16MiB     preferred part size (5 MiB to 5 GiB)
  --concurrency 8       parallel part uploads over all files
  --limit-rate 10MiB    bandwidth limit per second
  --max-file-size 20GiB refuse larger files (each gets its own message; the rest go on)
  --acl private|public-read   --sse AES256|aws:kms   --kms-key-id K   --storage-class C
  --all-files           upload non-video files too
  --no-media            skip probing and thumbnails
  --state-dir DIR       journal location (default: the desktop app's)
  --json                one JSON object per line
`

const options = {
  bucket: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  backend: { type: 'string' },
  header: { type: 'string', multiple: true },
  hook: { type: 'string' },
  'key-template': { type: 'string' },
  'thumbnail-key-template': { type: 'string' },
  'part-size': { type: 'string' },
  concurrency: { type: 'string' },
  'limit-rate': { type: 'string' },
  'max-file-size': { type: 'string' },
  acl: { type: 'string' },
  sse: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'storage-class': { type: 'string' },
  'all-files': { type: 'boolean' },
  'no-media': { type: 'boolean' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
  'older-than': { type: 'string' },
  server: { type: 'boolean' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options']

type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values']

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE)
      return command ? 0 : 2
    }
    if (command === 'probe' || command === 'thumbnail') {
      const media = await import('./media-commands')
      return command === 'probe' ? media.runProbe(rest, io) : media.runThumbnail(rest, io)
    }
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true })
    if (values.help) {
      io.out(USAGE)
      return 0
    }
    switch (command) {
      case 'upload':
        return await upload(positionals, values, io)
      case 'resume':
        return await resumeAll(values, io)
      case 'list':
        return await list(values, io)
      case 'abort':
        return await abort(positionals, values, io)
      case 'cleanup':
        return await cleanup(values, io)
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`upreel: ${(e as Error).message}\n\n${USAGE}`)
      return 2
    }
    io.err(`upreel: ${isUploadError(e) ? e.message : e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

// ------------------------------------------------------------------ destination

function destinationFrom(values: Values, env: NodeJS.ProcessEnv): Destination {
  if (values.backend && values.bucket) throw new UsageError('use either --bucket or --backend')
  if (values.backend) {
    const headers: Record<string, string> = {}
    for (const h of values.header ?? []) {
      const i = h.indexOf(':')
      if (i <= 0) throw new UsageError(`--header must look like 'Name: value', got '${h}'`)
      headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
    }
    return { mode: 'backend', url: values.backend, headers, hookUrl: values.hook }
  }
  const fromEnv = destinationFromEnv(env)
  const envS3 = fromEnv?.mode === 's3' ? fromEnv : undefined
  const bucket = values.bucket ?? envS3?.bucket
  if (!bucket) {
    if (fromEnv?.mode === 'backend') return fromEnv
    throw new UsageError('no destination: pass --bucket B (or --backend URL), or set AWS_S3_BUCKET')
  }
  const endpoint = values.endpoint ?? envS3?.endpoint
  return {
    mode: 's3',
    bucket,
    endpoint,
    region: values.region ?? envS3?.region ?? 'us-east-1',
    forcePathStyle: values['path-style'] ?? (values.endpoint ? true : envS3?.forcePathStyle),
  }
}

async function makeEngine(values: Values, io: CliIo, store: ObjectStore, dest: Destination) {
  const num = (name: 'concurrency', v: string | undefined) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--${name} must be 1 to 64`)
    return n
  }
  const size = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined
    try {
      return parseSize(v)
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`)
    }
  }
  const acl = values.acl
  if (acl && acl !== 'private' && acl !== 'public-read') {
    throw new UsageError('--acl must be private or public-read')
  }
  const sse = values.sse
  if (sse && sse !== 'AES256' && sse !== 'aws:kms')
    throw new UsageError('--sse must be AES256 or aws:kms')
  const media = values['no-media'] ? undefined : await loadMedia(values, io)
  const hookUrl = dest.mode === 'backend' ? dest.hookUrl : undefined
  return new UploadEngine({
    store,
    stateDir: resolve(values['state-dir'] ?? defaultStateDir(io.env)),
    media,
    requireVideo: !values['all-files'],
    concurrency: num('concurrency', values.concurrency),
    preferredPartSize: size('part-size', values['part-size']),
    bandwidthLimit: size('limit-rate', values['limit-rate']),
    maxFileSize: size('max-file-size', values['max-file-size']),
    keyTemplate: values['key-template'],
    thumbnailKeyTemplate: values['thumbnail-key-template'],
    objectOptions: {
      acl: acl as 'private' | 'public-read' | undefined,
      sse: sse as 'AES256' | 'aws:kms' | undefined,
      kmsKeyId: values['kms-key-id'],
      storageClass: values['storage-class'],
    },
    afterComplete:
      hookUrl && dest.mode === 'backend' ? await hookRunner(hookUrl, dest.headers) : undefined,
    log: io.env.UPREEL_DEBUG ? (m) => io.err(`debug: ${m}`) : undefined,
  })
}

async function loadMedia(values: Values, io: CliIo): Promise<MediaPort | undefined> {
  try {
    const media = await import('../media/index')
    return media.createMediaPort({
      cacheDir: resolve(values['state-dir'] ?? defaultStateDir(io.env), 'media-cache'),
    })
  } catch (e) {
    io.err(`upreel: probing and thumbnails are off: ${(e as Error).message}`)
    return undefined
  }
}

async function hookRunner(hookUrl: string, headers: Record<string, string> | undefined) {
  const { postProcessingHook } = await import('../backend/processing-hook')
  return async (s: UploadSnapshot) => {
    const r = await postProcessingHook(
      hookUrl,
      {
        key: s.key!,
        bucket: s.bucket!,
        size: s.size,
        etag: s.etag,
        metadata: { filename: s.name, ...(s.media ? mediaMetadata(s.media) : {}) },
        thumbnailKey: s.thumbnailKey,
      },
      { headers },
    )
    return r.ok ? undefined : { notice: `The processing request failed: ${r.message}` }
  }
}

// ------------------------------------------------------------------ commands

async function upload(paths: string[], values: Values, io: CliIo): Promise<number> {
  if (paths.length === 0) throw new UsageError('upload needs at least one file or folder')
  const dest = destinationFrom(values, io.env)
  const store = await createObjectStore(dest)
  // Options are checked before anything is scanned, so a typo is a usage error (exit 2).
  const engine = await makeEngine(values, io, store, dest)
  const scan = await scanInputs(paths, { allFileTypes: !!values['all-files'] })
  for (const s of scan.skipped) {
    if (values.json) io.out(JSON.stringify({ type: 'skipped', path: s.path, reason: s.reason }))
    else io.err(`skipped ${s.path}: ${s.reason}`)
  }
  if (scan.files.length === 0) {
    io.err('upreel: nothing to upload')
    await engine.close()
    store.destroy?.()
    return 1
  }
  await engine.add(scan.files)
  return drive(engine, store, values, io)
}

async function resumeAll(values: Values, io: CliIo): Promise<number> {
  const dest = destinationFrom(values, io.env)
  const store = await createObjectStore(dest)
  const engine = await makeEngine(values, io, store, dest)
  const pending = await engine.interrupted()
  const mine = pending.filter((p) => p.destinationLabel === store.label)
  for (const p of pending) {
    if (p.destinationLabel !== store.label) {
      io.err(`not resuming ${p.path}: it was started to ${p.destinationLabel}, not ${store.label}`)
    } else if (p.lockedBy) {
      io.err(`not resuming ${p.path}: another Upreel process (pid ${p.lockedBy}) is uploading it`)
    }
  }
  await engine.resumeInterrupted(mine.filter((p) => !p.lockedBy).map((p) => p.id))
  if (engine.list().length === 0) {
    io.err('upreel: nothing to resume')
    await engine.close()
    store.destroy?.()
    return 0
  }
  return drive(engine, store, values, io)
}

/** Runs the engine until idle, printing progress; SIGINT pauses cleanly, a second one exits. */
async function drive(
  engine: UploadEngine,
  store: ObjectStore,
  values: Values,
  io: CliIo,
): Promise<number> {
  const printer = new ProgressPrinter(io, !!values.json)
  engine.on('changed', (s) => printer.changed(s))
  engine.on('completed', (s) => printer.completed(s))
  engine.on('failed', (s) => printer.failed(s))
  let interrupted = false
  const onSigint = () => {
    if (interrupted) {
      io.err('upreel: exiting now')
      process.exit(130)
    }
    interrupted = true
    io.err(
      'upreel: pausing (journal flushed; run `upreel resume` to continue; Ctrl-C again to exit at once)',
    )
    void engine.close()
  }
  process.on('SIGINT', onSigint)
  try {
    await engine.whenIdle()
    await engine.close()
  } finally {
    process.off('SIGINT', onSigint)
    printer.stop()
    store.destroy?.()
  }
  const all = engine.list()
  const failed = all.filter((s) => s.state === 'failed')
  const done = all.filter((s) => s.state === 'done')
  if (values.json) {
    io.out(
      JSON.stringify({
        type: 'summary',
        completed: done.length,
        failed: failed.length,
        interrupted: all.length - done.length - failed.length,
      }),
    )
  } else {
    io.err(`${done.length} completed, ${failed.length} failed${interrupted ? ', interrupted' : ''}`)
  }
  if (interrupted) return 130
  return failed.length || done.length < all.length ? 1 : 0
}

async function list(values: Values, io: CliIo): Promise<number> {
  // Listing needs no destination: records carry their own.
  const engine = new UploadEngine({
    store: { destinationId: '', label: '' } as ObjectStore,
    stateDir: resolve(values['state-dir'] ?? defaultStateDir(io.env)),
  })
  const pending = await engine.interrupted()
  for (const p of pending) {
    if (values.json) io.out(JSON.stringify({ type: 'interrupted', ...p }))
    else {
      const pct = p.size ? Math.floor((p.bytesDone / p.size) * 100) : 0
      io.out(
        `${p.id}  ${pct}%  ${formatBytes(p.bytesDone)}/${formatBytes(p.size)}  ${p.path} → ${p.destinationLabel}/${p.key}${p.lockedBy ? `  (in use by pid ${p.lockedBy})` : ''}`,
      )
    }
  }
  if (!values.json && pending.length === 0) io.out('no interrupted uploads')
  await engine.close()
  return 0
}

async function abort(ids: string[], values: Values, io: CliIo): Promise<number> {
  if (!values.all && ids.length === 0) throw new UsageError('abort needs an id or --all')
  const dest = destinationFrom(values, io.env)
  const store = await createObjectStore(dest)
  const engine = await makeEngine({ ...values, 'no-media': true }, io, store, dest)
  try {
    const pending = await engine.interrupted()
    const chosen = values.all ? pending : pending.filter((p) => ids.includes(p.id))
    for (const id of ids) {
      if (!pending.some((p) => p.id === id)) io.err(`upreel: no interrupted upload ${id}`)
    }
    let failures = 0
    for (const p of chosen) {
      try {
        await engine.abortInterrupted(p.id)
        io.out(
          values.json
            ? JSON.stringify({ type: 'aborted', id: p.id, path: p.path })
            : `aborted ${p.id} ${p.path}`,
        )
      } catch (e) {
        failures++
        io.err(`upreel: could not abort ${p.id}: ${(e as Error).message}`)
      }
    }
    return failures || chosen.length < ids.length ? 1 : 0
  } finally {
    await engine.close()
    store.destroy?.()
  }
}

async function cleanup(values: Values, io: CliIo): Promise<number> {
  const older = values['older-than']
  if (!older) throw new UsageError('cleanup needs --older-than (e.g. 7d, 12h)')
  const olderThanMs = parseDuration(older)
  const dest = destinationFrom(values, io.env)
  const store = await createObjectStore(dest)
  const engine = await makeEngine({ ...values, 'no-media': true }, io, store, dest)
  try {
    const report = await engine.cleanup({
      olderThanMs,
      server: !!values.server,
      prefix: values.prefix,
    })
    for (const r of report.journalRecords) {
      io.out(
        values.json
          ? JSON.stringify({ type: 'cleaned', ...r })
          : `removed record ${r.id} (${r.path})${r.aborted ? ', upload aborted' : ''}`,
      )
    }
    for (const k of report.kept) {
      io.out(
        values.json
          ? JSON.stringify({ type: 'kept', ...k })
          : `kept record ${k.id} (${k.path}): ${k.reason}`,
      )
    }
    for (const u of report.serverUploads) {
      io.out(
        values.json
          ? JSON.stringify({ type: 'server-upload', ...u })
          : `${u.aborted ? 'aborted' : 'could not abort'} ${u.key} (${u.uploadId})${u.error ? `: ${u.error}` : ''}`,
      )
    }
    if (!values.json) {
      io.out(
        `${report.journalRecords.length} record(s) removed, ${report.serverUploads.filter((u) => u.aborted).length} server upload(s) aborted`,
      )
    }
    return report.serverUploads.some((u) => !u.aborted) || report.kept.length ? 1 : 0
  } finally {
    await engine.close()
    store.destroy?.()
  }
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i.exec(text.trim())
  if (!m) throw new UsageError(`not a duration: "${text}" (try 7d, 12h, 30m)`)
  const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[
    m[2]!.toLowerCase() as 's'
  ]
  return Number(m[1]) * unit
}

/** The process entry: bin/upreel.js and `npm run cli` call this. */
export function main(): void {
  void runCli(process.argv.slice(2), {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    isTTY: !!process.stderr.isTTY,
    env: process.env,
  }).then((code) => {
    process.exitCode = code
  })
}

// `npm run cli` (tsx) runs this file directly; the bundled bin requires it and calls main().
if (typeof require !== 'undefined' && require.main === module) main()
