/**
 * `npm run backend`: the reference upload backend, configured from UPREEL_BACKEND_CONFIG and
 * environment variables (see config.ts and the README's "Backend mode" section).
 */
import { configFromEnv } from './config'
import { startBackend } from './server'

async function main() {
  const backend = await startBackend(configFromEnv())
  let stopping = false
  const stop = (signal: string) => {
    // A second signal means "now": skip waiting for requests in flight.
    if (stopping) process.exit(1)
    stopping = true
    backend.config.log({ level: 'info', msg: 'signal', signal })
    backend.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((e: unknown) => {
  console.error(`upreel backend: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
