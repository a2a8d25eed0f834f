import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { FileSource } from '../ports'

/** Bytes hashed at each end of a file for its fingerprint (1 MiB). */
export const FINGERPRINT_SAMPLE = 1024 * 1024

/**
 * A cheap identity for a file's content: sha256 of its size, first MiB and last MiB. It catches a
 * re-export or rewrite that keeps size and mtime (and is what caches and the journal key on) without
 * reading hours of footage. Changes confined to the middle are caught by the per-part MD5s instead.
 */
export async function fingerprintWith(
  files: FileSource,
  path: string,
  size: number,
): Promise<string> {
  const hash = createHash('sha256').update(`size:${size}\n`)
  const file = await files.open(path)
  try {
    const headLen = Math.min(size, FINGERPRINT_SAMPLE)
    hash.update(await readExactly(file, headLen, 0))
    const tailStart = Math.max(headLen, size - FINGERPRINT_SAMPLE)
    if (tailStart < size) hash.update(await readExactly(file, size - tailStart, tailStart))
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

/** fingerprintWith on the local file system. */
export async function fingerprintFile(path: string, size: number): Promise<string> {
  return fingerprintWith(
    {
      stat: async () => {
        throw new Error('unused')
      },
      open: async (p) => {
        const fh = await open(p, 'r')
        return {
          read: async (buf, off, len, pos) => (await fh.read(buf, off, len, pos)).bytesRead,
          close: () => fh.close(),
        }
      },
    },
    path,
    size,
  )
}

async function readExactly(
  file: { read(b: Buffer, o: number, l: number, p: number): Promise<number> },
  length: number,
  position: number,
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let got = 0
  while (got < length) {
    const n = await file.read(buf, got, length - got, position + got)
    if (n === 0) break
    got += n
  }
  return buf.subarray(0, got)
}
