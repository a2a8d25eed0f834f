/**
 * `npm run bench`: the engine against @aws-sdk/lib-storage on the same 1 GiB file, the same local S3
 * server, in the same run; then a 4 GiB engine row (RSS must not grow with file size) and the
 * thumbnail time of a 2-hour 1080p video. Ratios are computed within the run: absolute MiB/s drift
 * between machines, ratios much less. Writes docs/benchmarks.md and docs/benchmarks.json.
 */
import { execFile } from 'node:child_process'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { existsSync, statSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { createS3Client } from '../src/main/core/s3/client'
import { startS3, stopS3 } from '../test/support/s3-server'
import type { S3TestServer } from '../test/support/s3-env'

const run = promisify(execFile)
const root = resolve(__dirname, '..')
const work = resolve(root, 'bench/.work')
const MiB = 1024 * 1024
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

interface Measure {
  seconds: number
  cpuSeconds: number
  peakRssMiB: number
  idleRssMiB: number
  bytes: number
}

async function makeFile(path: string, size: number) {
  if (existsSync(path) && statSync(path).size === size) return
  // Random bytes (incompressible), written by dd from urandom in 16 MiB blocks.
  await run('dd', [
    'if=/dev/urandom',
    `of=${path}`,
    'bs=16M',
    `count=${size / (16 * MiB)}`,
    'status=none',
  ])
}

async function measure(
  mode: string,
  file: string,
  bucket: string,
  s3: S3TestServer,
): Promise<Measure> {
  const stateDir = resolve(work, `state-${mode}-${Date.now()}`)
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'bench/worker.ts'), mode, file, bucket, stateDir],
    {
      cwd: root,
      env: {
        ...process.env,
        S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_REGION: s3.region,
      },
      maxBuffer: 1 << 20,
    },
  )
  await rm(stateDir, { recursive: true, force: true })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measure
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

interface Row {
  name: string
  mibPerSec: number
  ratio: number
  cpuPerGiB: number
  peakRssMiB: number
  idleRssMiB: number
  runs: number
}

function row(name: string, ms: Measure[], baseline?: number): Row {
  const rates = ms.map((m) => m.bytes / MiB / m.seconds)
  const mibPerSec = median(rates)
  return {
    name,
    mibPerSec,
    ratio: baseline ? mibPerSec / baseline : 1,
    cpuPerGiB: median(ms.map((m) => m.cpuSeconds / (m.bytes / (1024 * MiB)))),
    peakRssMiB: Math.max(...ms.map((m) => m.peakRssMiB)),
    idleRssMiB: median(ms.map((m) => m.idleRssMiB)),
    runs: ms.length,
  }
}

async function main() {
  await mkdir(work, { recursive: true })
  const s3: S3TestServer | undefined = await startS3()
  try {
    const client = createS3Client({
      endpoint: s3!.endpoint,
      region: s3!.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey },
    })
    const bucket = `bench-${Date.now()}`
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    const oneGiB = resolve(work, '1GiB.bin')
    await makeFile(oneGiB, 1024 * MiB)

    const lib: Measure[] = []
    const eng: Measure[] = []
    // Interleaved, so a slow moment of the shared 2-core machine hits both sides alike.
    for (let i = 0; i < RUNS; i++) {
      lib.push(await measure('lib-storage', oneGiB, bucket, s3!))
      eng.push(await measure('engine', oneGiB, bucket, s3!))
      process.stderr.write(`run ${i + 1}/${RUNS} done\n`)
    }
    const base = row('lib-storage 8 x 16 MiB (baseline)', lib)
    const rows: Row[] = [
      base,
      row('Upreel engine, 8 slots x 16 MiB, MD5 checks on', eng, base.mibPerSec),
    ]

    if (process.env.BENCH_SKIP_4GIB !== '1') {
      const fourGiB = resolve(work, '4GiB.bin')
      await makeFile(fourGiB, 4096 * MiB)
      rows.push(
        row(
          'Upreel engine, 4 GiB file (RSS vs file size)',
          [await measure('engine', fourGiB, bucket, s3!)],
          base.mibPerSec,
        ),
      )
      await rm(fourGiB, { force: true })
    }

    let thumb: { name: string; seconds: number; note: string } | undefined
    try {
      const { benchThumbnail } = await import('./thumbnail')
      thumb = await benchThumbnail(work)
    } catch (e) {
      process.stderr.write(`thumbnail row skipped: ${(e as Error).message}\n`)
    }
    client.destroy()

    const table = [
      '| upload of random bytes to local Swift s3api | MiB/s (median) | ratio to lib-storage | client CPU-s per GiB | peak RSS MiB | RSS before upload MiB |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.name} (${r.runs} run${r.runs > 1 ? 's' : ''}) | ${r.mibPerSec.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.cpuPerGiB.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.idleRssMiB.toFixed(0)} |`,
      ),
    ].join('\n')
    const thumbLine = thumb
      ? `\n\n${thumb.name}: **${thumb.seconds.toFixed(2)} s** (${thumb.note})`
      : ''
    const text = `${table}${thumbLine}\n`
    process.stdout.write('\n' + text)
    const doc = `# Benchmarks\n\nRegenerate with \`npm run bench\` (about 2 minutes; the S3 test server is started for it).\nMeasured ${new Date().toISOString().slice(0, 10)} on ${process.platform} ${process.arch}, Node ${process.version}, client and server sharing the machine's cores over loopback.\nTargets: ratio >= 1.0 with integrity on; <= 3 CPU-s per GiB; peak RSS <= 80 MiB + slots x part size (208 MiB).\n\n${text}`
    await mkdir(resolve(root, 'docs'), { recursive: true })
    await writeFile(resolve(root, 'docs/benchmarks.md'), doc)
    await writeFile(
      resolve(root, 'docs/benchmarks.json'),
      JSON.stringify({ date: new Date().toISOString(), rows, thumbnail: thumb }, null, 2) + '\n',
    )
  } finally {
    await stopS3()
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
