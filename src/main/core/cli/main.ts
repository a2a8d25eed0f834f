/**
 * `upreel`: the engine without Electron, for automation and checks.
 * Exit codes: 0 every file completed, 1 any failed (or interrupted), 2 usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'
import {
  connectionOf,
  createObjectStore,
  destinationFromEnv,
  s3SettingsFromEnv,
  type BackendDestination,
  type Destination,
} from '../destination'
import { staticPrefix, UploadEngine } from '../engine/upload-engine'
import type { UploadSnapshot } from '../engine/types'
import { isUploadError } from '../errors'
import { FileJournal } from '../journal/file-journal'
import { HEADER_NAME, headerValueProblem } from '../header-syntax'
import type { DestinationConnection, JournalRecord } from '../journal/types'
import { checkKeyTemplate, DEFAULT_KEY_TEMPLATE } from '../key-template'
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
  /** Raw stderr text, no newline added: the live progress redraw (terminal only). */
  write?: (text: string) => void
  /** The terminal's width, read at each redraw (it can be resized). */
  columns?: () => number | undefined
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

Destination (upload, cleanup; resume and abort use each upload's own unless one is given):
  --bucket B            S3 bucket (or AWS_S3_BUCKET / S3_BUCKET_NAME / UPREEL_BUCKET)
  --endpoint URL        S3-compatible endpoint (or AWS_ENDPOINT_URL_S3)
  --region R            (or AWS_REGION; default us-east-1)
  --path-style          path-style addressing (default on when an endpoint is set)
  --backend URL         sign through a Companion-compatible backend instead of S3 keys
  --header 'N: v'       extra header for the backend (repeatable), e.g. Authorization
                        (or UPREEL_BACKEND_TOKEN)
  --hook URL            POST a processing request after each completed upload (backend only);
                        it gets the backend's headers only when on the backend's origin
  --hook-header 'N: v'  header for the hook only (repeatable), e.g. its Authorization
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
  'hook-header': { type: 'string', multiple: true },
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

/** Flags that name a destination. Without any, resume and abort use each record's own. */
function destinationFlagged(values: Values): boolean {
  return [values.bucket, values.backend, values.endpoint, values.region, values['path-style']].some(
    (v) => v !== undefined,
  )
}

function destinationFrom(values: Values, env: NodeJS.ProcessEnv): Destination {
  if (values.backend && values.bucket) throw new UsageError('use either --bucket or --backend')
  const s3Flag = (['endpoint', 'region', 'path-style'] as const).find(
    (f) => values[f] !== undefined,
  )
  if (values.backend && s3Flag) {
    throw new UsageError(
      `--${s3Flag} is for --bucket (direct S3); with --backend the upload server decides where files go`,
    )
  }
  const fromEnv = destinationFromEnv(env)
  const backend = values.backend
    ? backendDestination(values.backend, values.hook, values, env)
    : !values.bucket && !s3Flag && fromEnv?.mode === 'backend'
      ? backendDestination(fromEnv.url, values.hook ?? fromEnv.hookUrl, values, env)
      : undefined
  if (backend) {
    if (values['hook-header'] && !backend.hookUrl) {
      throw new UsageError('--hook-header goes with --hook (or UPREEL_HOOK_URL): there is no hook')
    }
    return backend
  }
  const bucket = values.bucket ?? (fromEnv?.mode === 's3' ? fromEnv.bucket : undefined)
  if (!bucket) {
    throw new UsageError('no destination: pass --bucket B (or --backend URL), or set AWS_S3_BUCKET')
  }
  const backendOnly =
    values.hook !== undefined
      ? '--hook'
      : values.header
        ? '--header'
        : values['hook-header']
          ? '--hook-header'
          : undefined
  if (backendOnly) {
    throw new UsageError(
      `${backendOnly} goes with --backend: uploads to a bucket${values.bucket ? '' : ' (from the environment)'} are signed with your S3 keys, and there is no upload server to send it to`,
    )
  }
  // The endpoint and path-style variables apply to a bucket from --bucket too.
  const envS3 = s3SettingsFromEnv(env)
  const endpoint = values.endpoint ?? envS3.endpoint
  return {
    mode: 's3',
    bucket,
    endpoint,
    region: values.region ?? envS3.region ?? 'us-east-1',
    forcePathStyle: values['path-style'] || (values.endpoint ? true : envS3.forcePathStyle),
  }
}

function backendDestination(
  url: string,
  hookUrl: string | undefined,
  values: Values,
  env: NodeJS.ProcessEnv,
): BackendDestination {
  return { mode: 'backend', url, headers: backendHeaders(url, values, env), hookUrl }
}

/**
 * Headers for a backend: UPREEL_BACKEND_TOKEN as a bearer token, then each --header (a --header
 * with the same name wins). The token is sent only to UPREEL_BACKEND_URL when that is set, never
 * to another server a record or --backend names.
 */
function backendHeaders(url: string, values: Values, env: NodeJS.ProcessEnv) {
  const headers: Record<string, string> = {}
  const token = env.UPREEL_BACKEND_TOKEN
  if (token && (!env.UPREEL_BACKEND_URL || sameBase(env.UPREEL_BACKEND_URL, url))) {
    const bad = headerValueProblem(token)
    if (bad) throw new UsageError(`UPREEL_BACKEND_TOKEN ${bad}`)
    headers.Authorization = `Bearer ${token}`
  }
  return withHeaders(headers, parseHeaders(values, 'header'))
}

/**
 * Headers for the processing hook. The backend's (UPREEL_BACKEND_TOKEN, --header) go along only
 * when the hook is on the backend's origin: a hook URL can come from a journal record, the
 * desktop app's included, whose hook got only credentials typed for the hook's own origin. Then
 * each --hook-header (same name wins).
 */
function hookHeaders(dest: BackendDestination, values: Values): Record<string, string> {
  const own = dest.hookUrl && sameOrigin(dest.hookUrl, dest.url) ? { ...dest.headers } : {}
  return withHeaders(own, parseHeaders(values, 'hook-header'))
}

/** `headers` with each of `extra` set, replacing a header of the same name in any case. */
function withHeaders(headers: Record<string, string>, extra: [string, string][]) {
  for (const [name, value] of extra) {
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === name.toLowerCase()) delete headers[k]
    }
    headers[name] = value
  }
  return headers
}

/**
 * `--header 'Name: value'` (or --hook-header), checked here so a typo is a usage error, not a
 * failed request later.
 */
function parseHeaders(values: Values, flag: 'header' | 'hook-header'): [string, string][] {
  return (values[flag] ?? []).map((h) => {
    const i = h.indexOf(':')
    // The value is not echoed: it is usually a token.
    if (i <= 0) throw new UsageError(`--${flag} must look like 'Name: value' (no ':' found)`)
    const name = h.slice(0, i).trim()
    const value = h.slice(i + 1).trim()
    if (!HEADER_NAME.test(name)) {
      throw new UsageError(
        `--${flag} name "${name}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
      )
    }
    const bad = headerValueProblem(value)
    if (bad) throw new UsageError(`--${flag} ${name}: the value ${bad}`)
    return [name, value]
  })
}

/** Same scheme, host and port; an address that is not a URL matches nothing. */
function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a).origin
    return x !== 'null' && x === new URL(b).origin
  } catch {
    return false
  }
}

function sameBase(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const x = new URL(u)
      return `${x.origin}${x.pathname}`.replace(/\/+$/, '')
    } catch {
      return u.replace(/\/+$/, '')
    }
  }
  return norm(a) === norm(b)
}

/** The engine options the flags give, checked: a typo is a usage error before anything runs. */
function engineOptions(values: Values) {
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
  return {
    requireVideo: !values['all-files'],
    concurrency: num('concurrency', values.concurrency),
    preferredPartSize: size('part-size', values['part-size']),
    bandwidthLimit: size('limit-rate', values['limit-rate']),
    maxFileSize: size('max-file-size', values['max-file-size']),
    keyTemplate: template(values, 'key-template', 'video'),
    thumbnailKeyTemplate: template(values, 'thumbnail-key-template', 'thumbnail'),
    objectOptions: {
      acl: acl as 'private' | 'public-read' | undefined,
      sse: sse as 'AES256' | 'aws:kms' | undefined,
      kmsKeyId: values['kms-key-id'],
      storageClass: values['storage-class'],
    },
  }
}

/**
 * What a command prints beside the files' own lines: stderr lines through the live progress
 * display (which would otherwise draw over them), and the processing requests an earlier run left
 * owed that this one sent.
 */
interface RunOutput {
  printer: ProgressPrinter
  say: (line: string) => void
  leftoverHooks: { sent: number; failed: number }
}

function runOutput(values: Values, io: CliIo): RunOutput {
  const printer = new ProgressPrinter(io, !!values.json)
  return { printer, say: (line) => printer.note(line), leftoverHooks: { sent: 0, failed: 0 } }
}

async function makeEngine(
  values: Values,
  io: CliIo,
  store: ObjectStore,
  dest: Destination,
  out?: RunOutput,
) {
  const say = out?.say ?? io.err
  const options = engineOptions(values)
  const media = values['no-media'] ? undefined : await loadMedia(values, io.env, say)
  const hook =
    dest.mode === 'backend' && dest.hookUrl
      ? await hookRunner(dest.hookUrl, hookHeaders(dest, values))
      : undefined
  const engine: UploadEngine = new UploadEngine({
    ...options,
    store,
    stateDir: stateDir(values, io.env),
    media,
    afterComplete:
      hook &&
      (async (s) => {
        const r = await hook(s)
        // Not in this engine's queue: a request an earlier run owed (replayPendingHooks), whose
        // outcome would otherwise reach no one (its upload's row is long gone).
        if (out && !engine.get(s.id)) {
          if (r?.notice) {
            out.leftoverHooks.failed++
            say(`upreel: ${s.path} (completed by an earlier run): ${r.notice}`)
          } else out.leftoverHooks.sent++
          // Scripts read stdout: the hook of an upload no 'completed' line of this run names.
          if (values.json) {
            io.out(
              JSON.stringify({
                type: 'hook',
                id: s.id,
                path: s.path,
                bucket: s.bucket,
                key: s.key,
                ok: !r?.notice,
                notice: r?.notice,
              }),
            )
          }
        }
        return r
      }),
    log: io.env.UPREEL_DEBUG ? (m) => say(`debug: ${m}`) : undefined,
  })
  return engine
}

/** A key template flag, checked: a typo must not become part of every key, nor one key for all. */
function template(
  values: Values,
  name: 'key-template' | 'thumbnail-key-template',
  kind: 'video' | 'thumbnail',
): string | undefined {
  const t = values[name]
  const problem = t === undefined ? undefined : checkKeyTemplate(t, kind)
  if (problem) throw new UsageError(`--${name} "${t}": ${problem}`)
  return t
}

async function loadMedia(
  values: Values,
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<MediaPort | undefined> {
  try {
    const media = await import('../media/index')
    return media.createMediaPort({
      cacheDir: resolve(stateDir(values, env), 'media-cache'),
    })
  } catch (e) {
    say(`upreel: probing and thumbnails are off: ${(e as Error).message}`)
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

// ------------------------------------------------------------------ interrupted uploads

function stateDir(values: Values, env: NodeJS.ProcessEnv): string {
  return resolve(values['state-dir'] ?? defaultStateDir(env))
}

interface Target {
  dest: Destination
  store: ObjectStore
  ids: string[]
}

interface LeftOut {
  record: JournalRecord
  reason: string
}

/**
 * Which store reaches each interrupted record. With destination flags: that destination, and the
 * records started to another one are `elsewhere`. Without: the connection journaled with each
 * record (credentials still from the AWS chain, backend headers from --header and
 * UPREEL_BACKEND_TOKEN); a record journaled before connections were falls back to the
 * environment's destination, and is `unreachable` when that is not the one it was started to.
 */
async function groupByDestination(
  records: JournalRecord[],
  given: Destination | undefined,
  values: Values,
  io: CliIo,
): Promise<{ targets: Target[]; elsewhere: LeftOut[]; unreachable: LeftOut[] }> {
  const stores = new Map<string, { dest: Destination; store: ObjectStore }>()
  const targets = new Map<ObjectStore, Target>()
  const elsewhere: LeftOut[] = []
  const unreachable: LeftOut[] = []
  for (const record of records) {
    const dest = given ?? recordDestination(record, values, io.env)
    if (!dest) {
      unreachable.push({
        record,
        reason: `it was started to ${record.destination.label} by a version of Upreel that did not record how to reach it; pass that destination (--bucket, --endpoint, or --backend)`,
      })
      continue
    }
    const key = JSON.stringify(connectionOf(dest))
    let entry = stores.get(key)
    if (!entry) {
      entry = { dest, store: await createObjectStore(dest) }
      stores.set(key, entry)
    }
    if (entry.store.destinationId !== record.destination.id) {
      ;(given ? elsewhere : unreachable).push({
        record,
        reason: `it was started to ${record.destination.label}, not ${entry.store.label}`,
      })
      continue
    }
    const t = targets.get(entry.store) ?? { ...entry, ids: [] }
    t.ids.push(record.id)
    targets.set(entry.store, t)
  }
  for (const { store } of stores.values()) if (!targets.has(store)) store.destroy?.()
  return { targets: [...targets.values()], elsewhere, unreachable }
}

/** The destination resume and abort were given by flags, or undefined: each record's own. */
function givenDestination(values: Values, env: NodeJS.ProcessEnv): Destination | undefined {
  // Checked now, not when the first hook is sent, after the uploads.
  parseHeaders(values, 'hook-header')
  if (destinationFlagged(values)) return destinationFrom(values, env)
  if (values.hook !== undefined) {
    throw new UsageError(
      '--hook goes with --backend; without destination flags each upload keeps the hook it was started with',
    )
  }
  return undefined
}

/** The destination a record was started to, from its journaled connection (or the environment). */
function recordDestination(
  record: JournalRecord,
  values: Values,
  env: NodeJS.ProcessEnv,
): Destination | undefined {
  return connectionDestination(record.destination.connection, values, env)
}

/** A journaled connection as a destination (credentials from the environment and flags). */
function connectionDestination(
  c: DestinationConnection | undefined,
  values: Values,
  env: NodeJS.ProcessEnv,
): Destination | undefined {
  if (c?.mode === 's3') {
    return {
      mode: 's3',
      bucket: c.bucket,
      region: c.region,
      endpoint: c.endpoint,
      forcePathStyle: c.forcePathStyle,
    }
  }
  if (c?.mode === 'backend') return backendDestination(c.url, c.hookUrl, values, env)
  const fromEnv = destinationFromEnv(env)
  if (fromEnv?.mode === 'backend') {
    return backendDestination(fromEnv.url, fromEnv.hookUrl, values, env)
  }
  return fromEnv
}

// ------------------------------------------------------------------ commands

async function upload(paths: string[], values: Values, io: CliIo): Promise<number> {
  if (paths.length === 0) throw new UsageError('upload needs at least one file or folder')
  const dest = destinationFrom(values, io.env)
  const store = await createObjectStore(dest)
  const out = runOutput(values, io)
  // Options are checked before anything is scanned, so a typo is a usage error (exit 2).
  const engine = await makeEngine(values, io, store, dest, out)
  // Judged by probing through the engine's own media port: what is kept is not probed twice, and
  // a missing ffmpeg is reported once.
  const media = engine.options.media
  const scan = await scanInputs(paths, {
    allFileTypes: !!values['all-files'],
    probe: media && ((path, signal) => media.probe(path, signal)),
    allFilesHint: 'use --all-files to include it',
  })
  for (const s of scan.skipped) {
    if (values.json) io.out(JSON.stringify({ type: 'skipped', path: s.path, reason: s.reason }))
    else io.err(`skipped ${s.path}: ${s.reason}`)
  }
  for (const r of scan.refused) {
    if (values.json) io.out(JSON.stringify({ type: 'refused', path: r.path, reason: r.reason }))
    else io.err(`not uploading ${r.path}: ${r.reason}`)
  }
  if (scan.files.length === 0) {
    io.err('upreel: nothing to upload')
    await engine.close()
    store.destroy?.()
    return 1
  }
  const code = await drive(
    [{ dest, store, engine, begin: async (e) => (await e.add(scan.files)).length > 0 }],
    values,
    io,
    out,
  )
  return code ?? 1
}

async function resumeAll(values: Values, io: CliIo): Promise<number> {
  engineOptions(values)
  const given = givenDestination(values, io.env)
  const journal = new FileJournal(stateDir(values, io.env))
  const records: JournalRecord[] = []
  for (const r of await journal.list()) {
    const pid = await journal.lockedBy(r.id)
    if (pid)
      io.err(`not resuming ${r.source.path}: another Upreel process (pid ${pid}) is uploading it`)
    else records.push(r)
  }
  const { targets, elsewhere, unreachable } = await groupByDestination(records, given, values, io)
  targets.push(...(await owedHookTargets(journal, targets, given, values, io)))
  for (const x of elsewhere) io.err(`not resuming ${x.record.source.path}: ${x.reason}`)
  for (const x of unreachable) io.err(`upreel: cannot resume ${x.record.source.path}: ${x.reason}`)
  const out = runOutput(values, io)
  const code = await drive(
    targets.map((t) => ({
      ...t,
      begin: async (e: UploadEngine) => (await e.resumeInterrupted(t.ids)).length > 0,
    })),
    values,
    io,
    out,
  )
  const { sent, failed } = out.leftoverHooks
  if (code === undefined && sent + failed === 0) io.err('upreel: nothing to resume')
  // An upload left behind because its destination is unknown here is not a success.
  return unreachable.length ? Math.max(code ?? 0, 1) : (code ?? 0)
}

/**
 * Destinations that are owed a processing hook (a crash after an upload completed, before its
 * hook ran) but have no interrupted upload left: an engine for each, with nothing to queue,
 * sends what is owed when it starts (UploadEngine.resumeInterrupted).
 */
async function owedHookTargets(
  journal: FileJournal,
  targets: Target[],
  given: Destination | undefined,
  values: Values,
  io: CliIo,
): Promise<Target[]> {
  const covered = new Set(targets.map((t) => t.store.destinationId))
  const out: Target[] = []
  for (const hook of await journal.pendingHooks().catch(() => [])) {
    if (covered.has(hook.destinationId)) continue
    const dest = given ?? connectionDestination(hook.connection, values, io.env)
    if (!dest) continue
    const store = await createObjectStore(dest)
    if (store.destinationId !== hook.destinationId) {
      store.destroy?.()
      continue
    }
    covered.add(hook.destinationId)
    out.push({ dest, store, ids: [] })
  }
  return out
}

/** A word a POSIX shell reads back as itself. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** The uploads one engine drives: one destination's. */
interface Run {
  dest: Destination
  store: ObjectStore
  /** Made by the caller when its options had to be checked before anything else. */
  engine?: UploadEngine
  /** Queues the files on the engine; false when nothing was left to queue. */
  begin: (engine: UploadEngine) => Promise<boolean>
}

/**
 * Runs each destination's engine until idle, one after the other (so --concurrency and
 * --limit-rate hold for the whole run), printing progress; SIGINT pauses cleanly, a second one
 * exits. Undefined when nothing was queued.
 */
async function drive(
  runs: Run[],
  values: Values,
  io: CliIo,
  out: RunOutput,
): Promise<number | undefined> {
  const { printer, say } = out
  let interrupted = false
  let current: UploadEngine | undefined
  const onSigint = () => {
    if (interrupted) {
      printer.stop()
      io.err('upreel: exiting now')
      process.exit(130)
    }
    interrupted = true
    say(
      `upreel: pausing (journal flushed; run \`upreel resume${values['state-dir'] ? ` --state-dir ${shellQuote(values['state-dir'])}` : ''}\` to continue; Ctrl-C again to exit at once)`,
    )
    void current?.close()
  }
  process.on('SIGINT', onSigint)
  const all: UploadSnapshot[] = []
  try {
    for (const run of runs) {
      if (interrupted) break
      const engine = run.engine ?? (await makeEngine(values, io, run.store, run.dest, out))
      current = engine
      engine.on('changed', (s) => printer.changed(s))
      engine.on('completed', (s) => printer.completed(s))
      engine.on('failed', (s) => printer.failed(s))
      if (run.dest.mode === 'backend') signInNotes(run.dest, run.store, values, say)
      try {
        if (!interrupted && (await run.begin(engine))) await engine.whenIdle()
        await engine.close()
      } finally {
        all.push(...engine.list())
      }
    }
  } finally {
    process.off('SIGINT', onSigint)
    printer.stop()
    for (const run of runs) run.store.destroy?.()
  }
  const { sent } = out.leftoverHooks
  if (sent) {
    io.err(
      `upreel: sent ${sent} processing request${sent === 1 ? '' : 's'} left over from an earlier run`,
    )
  }
  if (all.length === 0 && !interrupted) return undefined
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

/** Says when a backend, or its hook, gets no sign-in: a refusal later is then no surprise. */
function signInNotes(
  dest: BackendDestination,
  store: ObjectStore,
  values: Values,
  say: (line: string) => void,
) {
  const signedIn = Object.keys(dest.headers ?? {}).length > 0
  if (!signedIn) {
    say(
      `upreel: no sign-in for ${store.label}; if it refuses, pass --header 'Authorization: Bearer …' or set UPREEL_BACKEND_TOKEN`,
    )
  } else if (dest.hookUrl && Object.keys(hookHeaders(dest, values)).length === 0) {
    say(
      `upreel: the processing hook ${hookOrigin(dest.hookUrl)} is not on the backend's server, so the backend's sign-in is not sent to it; if it needs one, pass --hook-header 'Authorization: …'`,
    )
  }
}

function hookOrigin(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

async function list(values: Values, io: CliIo): Promise<number> {
  // Listing needs no destination: records carry their own.
  const engine = new UploadEngine({
    store: { destinationId: '', label: '' } as ObjectStore,
    stateDir: stateDir(values, io.env),
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
  engineOptions(values)
  const given = givenDestination(values, io.env)
  const records = (await new FileJournal(stateDir(values, io.env)).list()).filter(
    (r) => values.all || ids.includes(r.id),
  )
  const missing = ids.filter((id) => !records.some((r) => r.id === id))
  for (const id of missing) io.err(`upreel: no interrupted upload ${id}`)
  const { targets, elsewhere, unreachable } = await groupByDestination(records, given, values, io)
  let failures = 0
  for (const x of [...elsewhere, ...unreachable]) {
    failures++
    io.err(`upreel: could not abort ${x.record.id}: ${x.reason}`)
  }
  try {
    for (const t of targets) {
      const engine = await makeEngine({ ...values, 'no-media': true }, io, t.store, t.dest)
      try {
        for (const id of t.ids) {
          const path = records.find((r) => r.id === id)!.source.path
          try {
            await engine.abortInterrupted(id)
            io.out(
              values.json ? JSON.stringify({ type: 'aborted', id, path }) : `aborted ${id} ${path}`,
            )
          } catch (e) {
            failures++
            io.err(`upreel: could not abort ${id}: ${(e as Error).message}`)
          }
        }
      } finally {
        await engine.close()
      }
    }
  } finally {
    for (const t of targets) t.store.destroy?.()
  }
  return failures || missing.length ? 1 : 0
}

async function cleanup(values: Values, io: CliIo): Promise<number> {
  const older = values['older-than']
  if (!older) throw new UsageError('cleanup needs --older-than (e.g. 7d, 12h)')
  const olderThanMs = parseDuration(older)
  const template = values['key-template'] ?? DEFAULT_KEY_TEMPLATE
  if (values.server && values.prefix === undefined && staticPrefix(template) === '') {
    // An empty prefix lists every multipart upload in the bucket: other tools' too, which no
    // record here knows, so all of them would be aborted.
    throw new UsageError(
      `cleanup --server needs --prefix: the key template "${template}" starts with a variable, so Upreel's uploads share no prefix and cannot be told from other tools' uploads in the bucket (--prefix "" if you do mean every upload in it)`,
    )
  }
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
    write: (t) => process.stderr.write(t),
    columns: () => process.stderr.columns,
    env: process.env,
  }).then((code) => {
    process.exitCode = code
  })
}

// `npm run cli` (tsx) runs this file directly; the bundled bin requires it and calls main().
if (typeof require !== 'undefined' && require.main === module) main()
