/**
 * One measured upload in its own process, so CPU time and peak RSS belong to that uploader alone.
 * Usage: node bench/.work/dist/worker.cjs <engine|lib-storage> <file> <bucket> [stateDir]
 * (the bench bundles it first: build-workers.ts; `tsx bench/worker.ts …` works too, with tsx's
 * memory on top). Prints one JSON line: { seconds, cpuSeconds, peakRssMiB, idleRssMiB, bytes, key }.
 */
import { Upload } from '@aws-sdk/lib-storage'
import { createReadStream, statSync } from 'node:fs'
import { basename } from 'node:path'
import { UploadEngine } from '../src/main/core/engine/upload-engine'
import { createS3Client } from '../src/main/core/s3/client'
import { DirectS3Store } from '../src/main/core/s3/direct-store'

const MiB = 1024 * 1024

async function main() {
  const [mode, file, bucket, stateDir] = process.argv.slice(2)
  const conn = {
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID!,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
    },
  }
  const size = statSync(file!).size
  // What the process holds before the upload starts (Node and the SDK, loaded): the upload's
  // own memory is the peak minus this.
  const idleRssMiB = process.memoryUsage().rss / MiB
  const key = `bench/${mode}/${Date.now()}-${basename(file!)}`
  let stored = key
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (mode === 'lib-storage') {
    // The baseline the issue names: lib-storage, queue 8 x 16 MiB, WHEN_REQUIRED checksums.
    const client = createS3Client(conn)
    await new Upload({
      client,
      queueSize: 8,
      partSize: 16 * MiB,
      params: { Bucket: bucket, Key: key, Body: createReadStream(file!), ContentType: 'video/mp4' },
    }).done()
    client.destroy()
  } else if (mode === 'engine') {
    const engine = new UploadEngine({
      store: new DirectS3Store({ ...conn, bucket: bucket! }),
      stateDir: stateDir!,
      concurrency: 8,
      preferredPartSize: 16 * MiB,
      keyTemplate: key,
    })
    const [s] = await engine.add([{ path: file! }])
    await engine.whenIdle()
    const snap = engine.get(s!.id)!
    if (snap.state !== 'done')
      throw new Error(`engine upload ${snap.state}: ${snap.error?.message}`)
    stored = snap.key!
    await engine.close()
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      // ru_maxrss is in KiB on Linux
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      idleRssMiB,
      bytes: size,
      key: stored,
    }) + '\n',
  )
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
