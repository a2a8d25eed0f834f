/**
 * The real engine-side functions for the app (and the e2e harness): the UploadEngine on the
 * destination's ObjectStore, ffmpeg's MediaPort, the folder scan, the connection test and presign.
 */
import {
  destinationFromEnv,
  s3SettingsFromEnv,
  presignGetUrl,
  testConnection,
  createObjectStore,
} from '../core/destination'
import { postProcessingHook } from '../core/backend/processing-hook'
import type { ObjectStore } from '../core/ports'
import { UploadError } from '../core/errors'
import { UploadEngine } from '../core/engine/upload-engine'
import { createMediaPort, type LocalMediaPort } from '../core/media'
import type { MediaPort } from '../core/ports'
import { scanInputs } from '../core/scan'
import type { UploadSnapshot } from '../core/engine/types'
import type { CoreFunctions, EngineInput } from './core'
import { MiB, mbpsToBytesPerSecond, type EngineApi } from './core-types'
import { withSessionHeaders } from './ports'

/** Cache folders whose media port is kept (the app has one; a test run, one per data dir). */
const MEDIA_PORTS_KEPT = 8
const mediaPorts = new Map<string, { port: LocalMediaPort; maxLongSide: number | undefined }>()

/**
 * The media port on a cache folder, shared by the folder scan and the engine: a video the scan
 * probed (files given directly always are) is a cache hit when its upload prepares, instead of a
 * second ffprobe, and both share the port's probe slot and fingerprint memo. The port takes the
 * poster size at creation: the engine asks with its size (a new port when the setting changed);
 * the scan takes whatever port the folder has (the engine's: it exists before any add).
 */
export function sharedMediaPort(cacheDir: string, maxLongSide?: number): LocalMediaPort {
  const kept = mediaPorts.get(cacheDir)
  if (kept && (maxLongSide === undefined || kept.maxLongSide === maxLongSide)) return kept.port
  const port = createMediaPort({ cacheDir, maxLongSide })
  mediaPorts.delete(cacheDir)
  mediaPorts.set(cacheDir, { port, maxLongSide })
  if (mediaPorts.size > MEDIA_PORTS_KEPT) mediaPorts.delete(mediaPorts.keys().next().value!)
  return port
}

function mediaFor(input: EngineInput): MediaPort {
  const media = sharedMediaPort(input.cacheDir, input.settings.thumbnails.maxLongSide)
  if (input.settings.thumbnails.enabled) return media
  // Probing still runs (it decides what is a video and fills the object's metadata).
  return {
    probe: (path, signal) => media.probe(path, signal),
    thumbnail: () =>
      Promise.reject(
        new UploadError({ code: 'ThumbnailsOff', message: 'Thumbnails are turned off.' }),
      ),
  }
}

/** Fixed sign-in headers plus the session's (cookies merged) for `url`, read when the request goes. */
async function headersFor(
  input: EngineInput,
  url: string,
  fixed: Record<string, string> | undefined,
): Promise<Record<string, string>> {
  const session = input.sessionHeaders ? await input.sessionHeaders(url) : {}
  return withSessionHeaders(fixed, session)
}

/**
 * Backend mode: the Companion store with headers asked for on each request (so the session's
 * current cookies go along); direct mode: core's S3 store.
 */
function objectStore(input: EngineInput): Promise<ObjectStore> {
  const dest = input.destination
  if (dest.mode !== 'backend') return createObjectStore(dest)
  // Through core's factory like the CLI, so the journal records where the upload went.
  return createObjectStore(dest, {
    backendHeaders: () => headersFor(input, dest.url, dest.headers),
  })
}

/** The "request processing" POST after each completed upload (backend mode with a hook URL). */
function processingHook(input: EngineInput) {
  const dest = input.destination
  if (dest.mode !== 'backend' || !dest.hookUrl) return undefined
  const hookUrl = dest.hookUrl
  return async (s: UploadSnapshot) => {
    const metadata: Record<string, string> = { filename: s.name }
    if (s.media?.durationSec !== undefined) metadata.duration = String(s.media.durationSec)
    if (s.media?.width !== undefined) metadata.width = String(s.media.width)
    if (s.media?.height !== undefined) metadata.height = String(s.media.height)
    if (s.media?.videoCodec) metadata.codec = s.media.videoCodec
    const r = await postProcessingHook(
      hookUrl,
      {
        key: s.key!,
        bucket: s.bucket!,
        size: s.size,
        etag: s.etag,
        metadata,
        thumbnailKey: s.thumbnailKey,
      },
      // Only what is bound to the hook's own origin (settings.ts), never the backend's by default.
      { headers: await headersFor(input, hookUrl, dest.hookHeaders) },
    )
    return r.ok ? undefined : { notice: `The processing request failed: ${r.message}` }
  }
}

async function createEngine(input: EngineInput): Promise<EngineApi> {
  const s = input.settings
  const store = await objectStore(input)
  return new UploadEngine({
    store,
    stateDir: input.stateDir,
    media: mediaFor(input),
    requireVideo: !s.allFileTypes,
    concurrency: s.concurrency,
    preferredPartSize: s.partSizeMiB * MiB,
    bandwidthLimit: mbpsToBytesPerSecond(s.bandwidthLimitMbps),
    keyTemplate: s.keyTemplate,
    thumbnailKeyTemplate: s.thumbnailKeyTemplate || undefined,
    objectOptions: {
      acl: s.objectOptions.acl,
      sse: s.objectOptions.sse === 'none' ? undefined : s.objectOptions.sse,
      kmsKeyId:
        s.objectOptions.sse === 'aws:kms' ? s.objectOptions.kmsKeyId || undefined : undefined,
      storageClass: s.objectOptions.storageClass || undefined,
    },
    afterComplete: processingHook(input),
    log: input.log,
  })
}

export const realCore: CoreFunctions = {
  createEngine,
  // Judged by probing, through the engine's cached port: what is kept is not probed twice.
  scanInputs: (paths, { allFileTypes, cacheDir }) => {
    const media = sharedMediaPort(cacheDir)
    return scanInputs(paths, { allFileTypes, probe: (path, signal) => media.probe(path, signal) })
  },
  testConnection,
  presignGetUrl,
  destinationFromEnv,
  s3SettingsFromEnv,
}
