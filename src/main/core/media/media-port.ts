/**
 * The engine's MediaPort on this machine: probe and thumbnail through a bounded queue, with results
 * cached on disk by file fingerprint, so re-adding a video (a retry, a second session, the CLI after
 * the app) costs two 1 MiB reads instead of two ffmpeg runs.
 *
 * Cache layout in `cacheDir` (the app passes a folder under its data dir):
 *   {key}.probe.json      { v: 1, info: MediaInfo }
 *   {key}.p{POSTER_VERSION}.{maxLongSide}.jpg   the poster (the version changes with the recipe,
 *                         so posters made by an older Upreel are made again, not reused)
 * where key = fingerprintFile (sha256 of size + first MiB + last MiB) + "-" + mtime in ms. mtime is
 * in the key on top of the content sample so that an edit confined to the middle of a file, which
 * the sample cannot see, still makes a new poster.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { MediaInfo } from '../engine/types'
import type { MediaPort } from '../ports'
import { fingerprintFile } from '../util/fingerprint'
import { defaultMediaTools, type MediaTools } from './ffmpeg-path'
import { createLimiter, type Limiter } from './limiter'
import { probe, PROBE_TIMEOUT_MS, statVideoFile } from './probe'
import { DEFAULT_MAX_LONG_SIDE, thumbnail, THUMBNAIL_TIMEOUT_MS } from './thumbnail'

export interface MediaPortOptions {
  /** Folder for cached probe results and posters (created on first write). */
  cacheDir: string
  /** Longest side of posters in px (default 640). */
  maxLongSide?: number
  /** Time limit for one probe or one thumbnail (ms); default 30 s probe, 60 s thumbnail. */
  timeoutMs?: number
  /**
   * Probes at once, and thumbnails at once (default 1 each: two cores are shared with hashing and
   * the uploads). Separate slots, so a probe never waits behind a long thumbnail.
   */
  concurrency?: number
  /** Binaries, or a function resolving them on first use (default: defaultMediaTools()). */
  tools?: MediaTools | (() => MediaTools)
}

/** The MediaPort plus what the app may want to show or log. */
export interface LocalMediaPort extends MediaPort {
  readonly cacheDir: string
  /** ffmpeg/ffprobe processes started by this port so far, and cache hits. */
  stats(): { probeRuns: number; thumbnailRuns: number; cacheHits: number }
}

const CACHE_VERSION = 1
/**
 * Bump when the poster recipe changes (offsets, size, black-frame rule, fallbacks). 2: the decode-
 * from-the-start fallback (a TS that had no poster before may have one now).
 */
const POSTER_VERSION = 2

export function createMediaPort(opts: MediaPortOptions): LocalMediaPort {
  const cacheDir = opts.cacheDir
  const maxLongSide = opts.maxLongSide ?? DEFAULT_MAX_LONG_SIDE
  // Two sets of slots. An upload starts only once its probe is done (the results go into the
  // object's metadata), and a thumbnail may take up to its time limit (a long file decoded from the
  // start): in one queue, the next video's upload would wait for the previous one's poster.
  const probeSlots: Limiter = createLimiter(opts.concurrency ?? 1)
  const thumbnailSlots: Limiter = createLimiter(opts.concurrency ?? 1)
  const counters = { probeRuns: 0, thumbnailRuns: 0, cacheHits: 0 }
  const keys = new Map<string, string>()

  // Resolved inside a job, never at creation: a missing ffmpeg fails each video with a clear
  // MediaToolMissing instead of failing app start, and a cache hit needs no ffmpeg at all.
  const tools = (): MediaTools =>
    typeof opts.tools === 'function' ? opts.tools() : (opts.tools ?? defaultMediaTools())

  /** Cache key, or undefined when the file cannot be stat'ed (probe then reports why). */
  async function cacheKey(path: string): Promise<string | undefined> {
    let st
    try {
      st = await stat(path)
    } catch {
      return undefined
    }
    if (!st.isFile() || st.size === 0) return undefined
    const memo = `${path}\0${st.size}\0${st.mtimeMs}`
    let key = keys.get(memo)
    if (!key) {
      key = `${await fingerprintFile(path, st.size)}-${Math.floor(st.mtimeMs)}`
      // Bounded: a folder of thousands of clips should not grow this forever.
      if (keys.size >= 1000) keys.delete(keys.keys().next().value!)
      keys.set(memo, key)
    }
    return key
  }

  return {
    cacheDir,
    stats: () => ({ ...counters }),

    async probe(path: string, signal?: AbortSignal): Promise<MediaInfo> {
      const key = await cacheKey(path)
      const cacheFile = key ? join(cacheDir, `${key}.probe.json`) : undefined
      const cached = cacheFile ? await readProbeCache(cacheFile) : undefined
      if (cached) {
        counters.cacheHits++
        return cached
      }
      const info = await probeSlots.run(
        () => {
          counters.probeRuns++
          return probe(path, signal, {
            timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS,
            tools: tools(),
          })
        },
        { signal },
      )
      if (cacheFile) await writeAtomic(cacheFile, JSON.stringify({ v: CACHE_VERSION, info }))
      return info
    },

    async thumbnail(path: string, info: MediaInfo, signal?: AbortSignal): Promise<string> {
      const key = await cacheKey(path)
      // No key: the file is gone or not a file; say so the way probe would. (If it reappeared in
      // between, go on into a throwaway name rather than a wrong cache entry.)
      if (!key) await statVideoFile(path, 'thumbnail')
      const name = key ?? `uncached-${randomUUID()}`
      const out = join(cacheDir, `${name}.p${POSTER_VERSION}.${maxLongSide}.jpg`)
      if (key && (await nonEmpty(out))) {
        counters.cacheHits++
        return out
      }
      return thumbnailSlots.run(
        async () => {
          // Another job may have made it while this one waited for the slot.
          if (key && (await nonEmpty(out))) {
            counters.cacheHits++
            return out
          }
          await mkdir(cacheDir, { recursive: true })
          counters.thumbnailRuns++
          await thumbnail(path, info, {
            out,
            maxLongSide,
            signal,
            timeoutMs: opts.timeoutMs ?? THUMBNAIL_TIMEOUT_MS,
            tools: tools(),
          })
          return out
        },
        { signal },
      )
    },
  }
}

async function readProbeCache(file: string): Promise<MediaInfo | undefined> {
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as { v?: number; info?: MediaInfo }
    return doc.v === CACHE_VERSION && doc.info && typeof doc.info === 'object'
      ? doc.info
      : undefined
  } catch {
    return undefined
  }
}

/** Write-then-rename, so a crash or a second process never leaves half a cache entry. */
async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`
  try {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(tmp, data)
    await rename(tmp, file)
  } catch {
    // A cache we cannot write is only a slower next time, never a failed upload.
    await rm(tmp, { force: true })
  }
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0
  } catch {
    return false
  }
}
