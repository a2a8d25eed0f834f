import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { UploadSnapshot } from '../../src/main/core/engine/types'
import { UploadEngine, type EngineOptions } from '../../src/main/core/engine/upload-engine'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'
import { testServer } from './s3'

export async function tempDir(
  prefix = 'upreel-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** A file of `size` random bytes, written in 8 MiB chunks (never the whole file in memory). */
export async function randomFile(path: string, size: number): Promise<string> {
  const fh = await open(path, 'w')
  try {
    const chunk = 8 * 1024 * 1024
    for (let off = 0; off < size; off += chunk) {
      await fh.write(randomBytes(Math.min(chunk, size - off)))
    }
  } finally {
    await fh.close()
  }
  return path
}

export function directStore(bucket: string, endpoint?: string): DirectS3Store {
  const s = testServer()
  return new DirectS3Store({
    bucket,
    endpoint: endpoint ?? s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
  })
}

/** An engine on the real server with fast retries (tests must not wait a minute per fault). */
export function testEngine(
  opts: Partial<EngineOptions> & { store: EngineOptions['store']; stateDir: string },
) {
  return new UploadEngine({
    retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 500 },
    ...opts,
  })
}

/** Resolves once `pred` holds for upload `id` (engine events, no sleeps); rejects after a deadline. */
export function waitFor(
  engine: UploadEngine,
  id: string,
  pred: (s: UploadSnapshot) => boolean,
  deadlineMs = 60_000,
): Promise<UploadSnapshot> {
  return new Promise((resolve, reject) => {
    const now = engine.get(id)
    if (now && pred(now)) return resolve(now)
    const timer = setTimeout(() => {
      engine.off('changed', on)
      reject(
        new Error(`condition not reached in ${deadlineMs} ms: ${JSON.stringify(engine.get(id))}`),
      )
    }, deadlineMs)
    const on = (s: UploadSnapshot) => {
      if (s.id === id && pred(s)) {
        clearTimeout(timer)
        engine.off('changed', on)
        resolve(s)
      }
    }
    engine.on('changed', on)
  })
}
