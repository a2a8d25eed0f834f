import { open, stat } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import type { Clock, FileSource } from './ports'

/** Local files through positional reads: a part is read straight from its offset, never a whole file. */
export const nodeFileSource: FileSource = {
  async stat(path) {
    const s = await stat(path)
    return { size: s.size, mtimeMs: Math.trunc(s.mtimeMs), isFile: s.isFile() }
  },
  async open(path) {
    const fh = await open(path, 'r')
    return {
      read: async (buffer, offset, length, position) =>
        (await fh.read(buffer, offset, length, position)).bytesRead,
      close: () => fh.close(),
    }
  },
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
}
