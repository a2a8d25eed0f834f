/**
 * Preloaded into a CLI process (NODE_OPTIONS=--import …): its first journal record write (the
 * temp file of `<id>.jsonl`) waits UPREEL_TEST_RECORD_WRITE_DELAY_MS first, as on a slow disk.
 * Two processes started together then both get past `add` before either has a record the other
 * could see: the race the per-file lock exists for, made to happen every time.
 */
import fsp from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'

const delayMs = Number(process.env.UPREEL_TEST_RECORD_WRITE_DELAY_MS ?? 0)
const realOpen = fsp.open
let delayed = false

fsp.open = async function open(path, ...rest) {
  if (!delayed && /\.jsonl\.[0-9a-f]+\.tmp$/.test(String(path))) {
    delayed = true
    await new Promise((r) => setTimeout(r, delayMs))
  }
  return realOpen.call(this, path, ...rest)
}
syncBuiltinESMExports()
