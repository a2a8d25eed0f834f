/**
 * The crash loop (issue 6, part 3), shared by the CI-sized test (test/integration/crash-loop.test.ts)
 * and the full run in `npm run soak` (1 GiB, 20 kills). Plain Node, no vitest.
 *
 * The CLI uploads one file and is SIGKILLed at random instants, then resumed, again and again; the
 * last resume runs to the end. Instants: sorted uniform random fractions of the first 90% of the
 * file (the CLI runs with a rate limit so a kill cannot overshoot the end); a run is
 * killed once the journal holds that fraction, plus a random 0–400 ms (so kills land inside part
 * transfers, journal appends and completion, not only on part boundaries). A target the journal
 * already passed means a kill at a random moment of start-up (0–1.5 s, and before the run's
 * first new part is journaled: loading, ListParts, reconcile). After every kill it checks what a crash must never break: the journal loads, every
 * part it records is on the server with that ETag, at most one multipart upload is open, and no
 * part the journal held at a kill is ever sent again.
 */
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseLog } from '../../src/main/core/journal/file-journal'
import type { FaultProxy } from './fault-proxy'

const root = resolve(__dirname, '../..')
/** Kill targets are uniform over [0, 90%] of the file, so the last kill lands before the end. */
const MAX_TARGET = 0.9

export interface CrashLoopOptions {
  file: string
  size: number
  kills: number
  seed: number
  bucket: string
  stateDir: string
  /** Endpoint the CLI uses: a counting FaultProxy in front of S3 (part sends are checked). */
  endpoint: string
  proxy: FaultProxy
  /** Direct client to the server (ListParts, ListMultipartUploads, GetObject). */
  client: S3Client
  credentials: { accessKeyId: string; secretAccessKey: string; region: string }
  /** Extra CLI flags (part size, concurrency). */
  flags?: string[]
  log?: (line: string) => void
}

export interface KillRecord {
  n: number
  /** Target fraction of the file journaled before the kill (or 'start-up'). */
  target: number | 'start-up'
  /** Bytes journaled when the kill happened. */
  journaledBytes: number
  /** Milliseconds from spawn to kill. */
  afterMs: number
  /** The run finished by itself before the kill landed (its upload completed). */
  exitedFirst: boolean
  /** Upload id at the kill (changes only if an upload had to start over). */
  uploadId?: string
  openUploads: number
}

export interface CrashLoopResult {
  kills: KillRecord[]
  journalLoads: number
  journalChecks: number
  /** Parts the journal held at some kill that were PUT again afterwards (must be 0). */
  resentJournaled: number
  finalKey: string
  finalExit: number | null
  sha256Local: string
  sha256Remote: string
  openUploadsAfter: number
  leftoverRecords: number
  maxPartSends: number
  seconds: number
}

/** A seeded generator (mulberry32): the same seed kills at the same fractions. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface JournalState {
  records: number
  loaded: number
  uploadId?: string
  key?: string
  parts: Map<number, string>
  bytes: number
}

async function readJournal(stateDir: string): Promise<JournalState> {
  const dir = join(stateDir, 'uploads')
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl'))
  const out: JournalState = { records: names.length, loaded: 0, parts: new Map(), bytes: 0 }
  for (const name of names) {
    let text: string
    try {
      text = await readFile(join(dir, name), 'utf8')
    } catch {
      continue // removed between readdir and read: the upload just completed
    }
    const parsed = parseLog(text)
    if (!parsed) continue
    out.loaded++
    out.uploadId = parsed.record.uploadId
    out.key = parsed.record.key
    for (const p of parsed.record.parts) {
      out.parts.set(p.n, p.etag)
      out.bytes += p.size
    }
  }
  return out
}

function spawnCli(args: string[], opts: CrashLoopOptions) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'src/main/core/cli/main.ts'), ...args],
    {
      cwd: root,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
        AWS_REGION: opts.credentials.region,
        AWS_S3_BUCKET: '',
        S3_BUCKET_NAME: '',
        UPREEL_BUCKET: '',
        AWS_ENDPOINT_URL_S3: '',
        AWS_ENDPOINT_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  )
  return { child, exited, output: () => ({ stdout, stderr }) }
}

async function sha256File(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs')
  const h = createHash('sha256')
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return h.digest('hex')
}

async function sha256Object(client: S3Client, bucket: string, key: string): Promise<string> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3')
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const h = createHash('sha256')
  for await (const c of res.Body as AsyncIterable<Buffer>) h.update(c)
  return h.digest('hex')
}

async function openUploadCount(client: S3Client, bucket: string): Promise<number> {
  const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3')
  const res = await client.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 1000 }),
  )
  return res.Uploads?.length ?? 0
}

/** Every part the journal records must be on the server with the same ETag. */
async function checkJournalAgainstServer(o: CrashLoopOptions, j: JournalState): Promise<void> {
  if (!j.uploadId || !j.key || j.parts.size === 0) return
  const server = new Map<number, string>()
  let marker: string | undefined
  for (;;) {
    const res = await o.client
      .send(
        new ListPartsCommand({
          Bucket: o.bucket,
          Key: j.key,
          UploadId: j.uploadId,
          PartNumberMarker: marker,
        }),
      )
      .catch((e: { name?: string }) => {
        // Completed (the kill landed after Complete): the object is checked at the end.
        if (e.name === 'NoSuchUpload') return undefined
        throw e
      })
    if (!res) return
    for (const p of res.Parts ?? []) server.set(p.PartNumber!, (p.ETag ?? '').replace(/"/g, ''))
    if (!res.IsTruncated) break
    marker = String(res.NextPartNumberMarker)
  }
  for (const [n, etag] of j.parts) {
    if (server.get(n) !== etag) {
      throw new Error(
        `journal records part ${n} (${etag}) but the server has ${server.get(n) ?? 'nothing'}`,
      )
    }
  }
}

export async function crashLoop(o: CrashLoopOptions): Promise<CrashLoopResult> {
  const log = o.log ?? (() => undefined)
  const random = seeded(o.seed)
  // Up to 90% of the file: every kill must land before the upload can finish on its own.
  const targets = Array.from({ length: o.kills }, () => random() * MAX_TARGET).sort((a, b) => a - b)
  const common = [
    '--endpoint',
    o.endpoint,
    '--bucket',
    o.bucket,
    '--state-dir',
    o.stateDir,
    '--json',
    '--no-media',
    ...(o.flags ?? []),
  ]
  const t0 = performance.now()
  const kills: KillRecord[] = []
  const marks: { at: number; uploadId: string; parts: Set<number> }[] = []
  let journalLoads = 0
  let journalChecks = 0
  let started = false
  for (let i = 0; i < o.kills; i++) {
    const run = spawnCli(started ? ['resume', ...common] : ['upload', o.file, ...common], o)
    started = true
    const spawnedAt = performance.now()
    const before = await readJournal(o.stateDir)
    const target = targets[i]!
    const byJournal = target * o.size > before.bytes
    let ended = false
    void run.exited.then(() => (ended = true))
    if (byJournal) {
      // Poll the journal (bounded) until it holds the target fraction, or the run ends.
      const deadline = Date.now() + 300_000
      for (;;) {
        if (ended) break
        const j = await readJournal(o.stateDir)
        if (j.bytes >= target * o.size) break
        if (Date.now() > deadline) throw new Error(`kill ${i + 1}: journal stuck at ${j.bytes}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)))
    } else {
      // A random moment of start-up, which ends when the run journals its first part: near the
      // end of the file the run could otherwise finish before the kill.
      const until = Date.now() + Math.floor(random() * 1500)
      while (Date.now() < until && !ended) {
        if ((await readJournal(o.stateDir)).bytes > before.bytes) break
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const afterMs = performance.now() - spawnedAt
    if (!ended) run.child.kill('SIGKILL')
    const res = await run.exited
    const exitedFirst = res.signal !== 'SIGKILL'
    if (exitedFirst && res.code !== 0) {
      throw new Error(`run ${i + 1} failed by itself (exit ${res.code}): ${run.output().stderr}`)
    }
    const j = await readJournal(o.stateDir)
    journalChecks++
    if (j.loaded !== j.records) {
      throw new Error(`kill ${i + 1}: ${j.records - j.loaded} journal record(s) do not load`)
    }
    journalLoads++
    await checkJournalAgainstServer(o, j)
    const open = await openUploadCount(o.client, o.bucket)
    if (open > 1) throw new Error(`kill ${i + 1}: ${open} multipart uploads open`)
    if (j.uploadId) {
      marks.push({
        at: o.proxy.requests.length,
        uploadId: j.uploadId,
        parts: new Set(j.parts.keys()),
      })
    }
    const rec: KillRecord = {
      n: i + 1,
      target: byJournal ? target : 'start-up',
      journaledBytes: j.bytes,
      afterMs: Math.round(afterMs),
      exitedFirst,
      uploadId: j.uploadId,
      openUploads: open,
    }
    kills.push(rec)
    log(
      `kill ${rec.n}/${o.kills}: ${byJournal ? `at ${(target * 100).toFixed(1)}%` : 'during start-up'}, ${afterMs.toFixed(0)} ms after spawn, journal ${(j.bytes / 2 ** 20).toFixed(0)} MiB${exitedFirst ? ' (it had finished first)' : ''}`,
    )
    if (exitedFirst && res.code === 0) break // nothing left to resume
  }
  const last = spawnCli(['resume', ...common], o)
  const final = await last.exited
  const out = last.output()
  const completed = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type?: string; key?: string })
    .find((l) => l.type === 'completed')
  // A kill may have landed after the upload completed: then history holds the key.
  let key = completed?.key
  if (!key) {
    const history = await readFile(join(o.stateDir, 'history.jsonl'), 'utf8').catch(() => '')
    const lines = history.split('\n').filter(Boolean)
    key = lines.length ? (JSON.parse(lines.at(-1)!) as { key: string }).key : undefined
  }
  if (!key) throw new Error(`final resume completed nothing: ${out.stderr}`)
  let resent = 0
  for (const m of marks) {
    resent += o.proxy.requests
      .slice(m.at)
      .filter(
        (r) => r.op === 'UploadPart' && r.uploadId === m.uploadId && m.parts.has(r.partNumber!),
      ).length
  }
  const leftover = (await readdir(join(o.stateDir, 'uploads')).catch(() => [] as string[])).filter(
    (n) => n.endsWith('.jsonl'),
  ).length
  return {
    kills,
    journalLoads,
    journalChecks,
    resentJournaled: resent,
    finalKey: key,
    finalExit: final.code,
    sha256Local: await sha256File(o.file),
    sha256Remote: await sha256Object(o.client, o.bucket, key),
    openUploadsAfter: await openUploadCount(o.client, o.bucket),
    leftoverRecords: leftover,
    maxPartSends: o.proxy.maxPartSends(),
    seconds: (performance.now() - t0) / 1000,
  }
}
