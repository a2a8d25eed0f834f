/**
 * One measured upload by the engine in backend mode, in its own process (like worker.ts), so CPU
 * time and peak RSS are this uploader's alone: the reference backend runs in another process.
 * Usage: node bench/.work/dist/peers-worker.cjs <file> <stateDir>   (UPREEL_BACKEND_URL,
 * UPREEL_BACKEND_TOKEN; bundled by build-workers.ts)
 * Prints one JSON line: { seconds, cpuSeconds, peakRssMiB, idleRssMiB, bytes, key }.
 */
import { statSync } from 'node:fs'
import { createCompanionStore } from '../src/main/core/backend/companion-store'
import { UploadEngine } from '../src/main/core/engine/upload-engine'

const MiB = 1024 * 1024

async function main() {
  const [file, stateDir] = process.argv.slice(2)
  const size = statSync(file!).size
  const idleRssMiB = process.memoryUsage().rss / MiB
  const store = createCompanionStore({
    baseUrl: process.env.UPREEL_BACKEND_URL!,
    headers: { Authorization: `Bearer ${process.env.UPREEL_BACKEND_TOKEN}` },
  })
  const engine = new UploadEngine({
    store,
    stateDir: stateDir!,
    concurrency: 8,
    preferredPartSize: 16 * MiB,
  })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const [s] = await engine.add([{ path: file! }])
  await engine.whenIdle()
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const snap = engine.get(s!.id)!
  if (snap.state !== 'done') throw new Error(`engine upload ${snap.state}: ${snap.error?.message}`)
  await engine.close()
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      idleRssMiB,
      bytes: size,
      key: snap.key,
    }) + '\n',
  )
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
