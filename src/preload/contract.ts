/**
 * THE contract between the renderer and the main process. Every request/response channel and every
 * one-way event is declared here once, with its zod schema; main's typed `handle()` parses with the
 * schema before any handler runs, the preload turns the `invoke` map into the page's intent-level
 * API, and the renderer only ever sees the `UpreelApi` type below.
 *
 * The renderer is untrusted (it renders file names, server messages and history from disk). Each
 * channel's comment says what the renderer may NOT do through it. The rules behind all of them:
 * - the renderer never names a path main will read: a drop hands the preload File objects, whose
 *   paths only Electron knows (webUtils), and main checks those again; dialogs run in main;
 * - secrets (S3 secret key, backend token, extra backend headers) go in, never out: the renderer
 *   learns "set / not set" (and the names of the extra headers); a saved backend credential is
 *   sent only to the origins it was typed for;
 * - uploads are addressed by engine ids, history by history ids: never by key, bucket or path.
 *
 * This file is imported by the renderer (types) and the preload (channel names), so it must stay
 * free of Node and Electron imports; engine vocabulary comes in as types only (and the key template
 * check, from the Node-free key-template.ts).
 */
import { z } from 'zod'
import type { MediaInfo, UploadErrorInfo, UploadState } from '../main/core/engine/types'
import { HEADER_NAME, headerValueProblem } from '../main/core/header-syntax'
import { checkKeyTemplate } from '../main/core/key-template'

export type { MediaInfo, UploadErrorInfo, UploadState }

// ---------------------------------------------------------------------------------------------
// Shared schemas

/** Engine ids are opaque short strings; the bound keeps a hostile page from sending megabytes. */
const Id = z.string().min(1).max(200)
const IdRequest = z.object({ id: Id }).strict()
const Empty = z.undefined()

/** PATH_MAX on Linux (4096 bytes): anything longer cannot be a real file. */
const MAX_PATH_LENGTH = 4096
/** One drop of a huge folder is one path; 10,000 separate files per drop is far past real use. */
const MAX_DROPPED_PATHS = 10_000

const Https = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      return new URL(s).protocol === 'https:'
    } catch {
      return false
    }
  }, 'Only https links can be opened.')

/** '' or an http(s) URL (local test servers and backends are often plain http). */
const HttpUrlOrEmpty = z
  .string()
  .max(2048)
  .refine((s) => {
    if (s === '') return true
    try {
      const u = new URL(s)
      return u.protocol === 'http:' || u.protocol === 'https:'
    } catch {
      return false
    }
  }, 'Use a full address starting with http:// or https://')

/** A key template the engine can use (the same check as the CLI's; key-template.ts is Node-free). */
function keyTemplate(kind: 'video' | 'thumbnail', label: string) {
  return z
    .string()
    .max(512)
    .superRefine((t, ctx) => {
      const problem = t === '' && kind === 'thumbnail' ? undefined : checkKeyTemplate(t, kind)
      if (problem) ctx.addIssue({ code: 'custom', message: `${label}: ${problem}.` })
    })
}

const SecretName = z.enum(['secretAccessKey', 'backendToken', 'backendHeaders'])
export type SecretName = z.infer<typeof SecretName>

/**
 * Headers the HTTP stack or the protocol owns (length, framing, JSON bodies): an extra header may
 * not set them. `Cookie` is allowed (a platform that signs in by cookie is configured with it);
 * main sends it with the app session's cookies for the same URL, if any, in one header.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
])
/** More than a platform's sign-in ever needs. */
const MAX_EXTRA_HEADERS = 20

/** One extra header for the upload server, e.g. `X-Api-Key: …`. The value is a secret. */
const ExtraHeader = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(HEADER_NAME, 'A header name is one word of letters, digits and - (like X-Api-Key).')
      .refine((n) => {
        const lower = n.toLowerCase()
        return !RESERVED_HEADERS.has(lower) && !/^(proxy-|sec-)/.test(lower)
      }, 'That header is set by Upreel itself and cannot be changed.'),
    value: z
      .string()
      .max(4096)
      .superRefine((v, ctx) => {
        const problem = headerValueProblem(v)
        if (problem) ctx.addIssue({ code: 'custom', message: `The header value ${problem}.` })
      }),
  })
  .strict()

const ExtraHeaders = z
  .array(ExtraHeader)
  .min(1)
  .max(MAX_EXTRA_HEADERS)
  .refine(
    (list) => new Set(list.map((h) => h.name.toLowerCase())).size === list.length,
    'Each header may appear once.',
  )
export type ExtraHeader = z.infer<typeof ExtraHeader>

/** Secrets typed in the form: stored (or, for Test connection, used once) by main, never echoed. */
const SecretsInput = z
  .object({
    secretAccessKey: z.string().min(1).max(4096).optional(),
    /** Sent as `Authorization: Bearer <token>`. */
    backendToken: z
      .string()
      .min(1)
      .max(4096)
      .superRefine((v, ctx) => {
        const problem = headerValueProblem(v)
        if (problem) ctx.addIssue({ code: 'custom', message: `The token ${problem}.` })
      })
      .optional(),
    /** Replaces the saved extra headers as a whole. */
    backendHeaders: ExtraHeaders.optional(),
  })
  .strict()
export type SecretsInput = z.infer<typeof SecretsInput>

/**
 * Everything the settings screen edits. Persisted by main (electron-store) with these defaults;
 * secrets and watch folders are NOT part of it (they have their own channels).
 */
export const EditableSettings = z.object({
  mode: z.enum(['s3', 'backend']).default('s3'),
  s3: z
    .object({
      /** '' = AWS (or AWS_ENDPOINT_URL_S3 from the environment). */
      endpoint: HttpUrlOrEmpty.default(''),
      region: z.string().max(64).default('us-east-1'),
      bucket: z.string().max(255).default(''),
      forcePathStyle: z.boolean().default(false),
      /** '' = use the AWS default credential chain (env, AWS_PROFILE, shared files, SSO). */
      accessKeyId: z.string().max(256).default(''),
    })
    .prefault({}),
  backend: z
    .object({
      url: HttpUrlOrEmpty.default(''),
      /** Optional processing hook called after each completed upload. */
      hookUrl: HttpUrlOrEmpty.default(''),
    })
    .prefault({}),
  keyTemplate: keyTemplate('video', 'Key template').default('videos/{uuid}/{filename}'),
  /** '' = `{dir of the video key}/thumbnail.jpg` (the engine's default). */
  thumbnailKeyTemplate: keyTemplate('thumbnail', 'Thumbnail key template').default(''),
  /** S3's part size bounds: 5 MiB minimum, 5 GiB maximum (5120 MiB). */
  partSizeMiB: z.number().int().min(5).max(5120).default(16),
  /** Parts in flight across all files. */
  concurrency: z.number().int().min(1).max(32).default(8),
  /** Megabits per second for all uploads together (how creators read their plan); 0 = no limit. */
  bandwidthLimitMbps: z.number().min(0).max(100_000).default(0),
  thumbnails: z
    .object({
      enabled: z.boolean().default(true),
      /** Longest side of the poster JPEG in pixels. */
      maxLongSide: z.number().int().min(120).max(3840).default(640),
    })
    .prefault({}),
  objectOptions: z
    .object({
      acl: z.enum(['private', 'public-read']).default('private'),
      sse: z.enum(['none', 'AES256', 'aws:kms']).default('none'),
      kmsKeyId: z.string().max(2048).default(''),
      /** '' = the bucket's default (STANDARD on AWS). */
      storageClass: z.string().max(64).default(''),
    })
    .prefault({}),
  notifications: z.boolean().default(true),
  /** Resume interrupted uploads on launch without asking. */
  autoResume: z.boolean().default(false),
  /** Upload any file, not only videos (folders still skip junk like .DS_Store). */
  allFileTypes: z.boolean().default(false),
  /** Default lifetime of "Copy share link" (S3 presigned GET: at most 7 days = 168 h). */
  shareLinkHours: z.number().int().min(1).max(168).default(24),
})
export type EditableSettings = z.infer<typeof EditableSettings>

/** Where uploads would go right now, for the header and the setup screen. */
export interface DestinationSummary {
  mode: 's3' | 'backend'
  /** "s3://bucket" or the backend URL. */
  label: string
  /** Taken from AWS_* / S3_* environment variables rather than saved settings. */
  fromEnv: boolean
}

export interface SettingsView {
  settings: EditableSettings
  /** Secrets are reported as set or not set, never returned. */
  secrets: Record<SecretName, boolean>
  /**
   * The origins a saved backend credential was typed for (the backend's, and the hook's if it had
   * one): main sends it there and nowhere else. After the address changes it must be typed again.
   */
  secretOrigins: Partial<Record<'backendToken' | 'backendHeaders', string[]>>
  /** Names of the saved extra headers (their values are secrets: never sent to the page). */
  backendHeaderNames: string[]
  /**
   * Saved settings that are not valid any more (hand-edited, or refused by a newer check), each in
   * words with the default used instead; empty once the form is saved again.
   */
  problems: string[]
  /**
   * 'encrypted': OS keychain/DPAPI/libsecret. 'weak': Linux without a keyring (obfuscated only).
   * 'unavailable': secrets cannot be saved; use environment variables or an AWS profile.
   */
  secretStorage: 'encrypted' | 'weak' | 'unavailable'
  watchFolders: string[]
  /** What the environment alone would configure (shown on the setup screen). */
  envDestination: DestinationSummary | null
  destination: DestinationSummary | null
}

// ---------------------------------------------------------------------------------------------
// DTOs sent to the renderer

/** One queue row. Built by main from the engine's snapshot (the local thumbnail path is replaced
 *  by a URL the app protocol serves, so the page cannot name files to load). */
export interface UploadRow {
  id: string
  name: string
  /** The source path, for the tooltip only (the renderer cannot act on it). */
  path: string
  relativeDir: string
  size: number
  bytesSent: number
  state: UploadState
  speed: number
  etaSeconds: number | null
  partsTotal: number
  partsDone: number
  bucket?: string
  key?: string
  notice?: string
  error?: UploadErrorInfo
  retryAttempt?: number
  media?: MediaInfo
  /** `upreel://app/thumb/<id>?v=…` once the poster exists. */
  thumbnailUrl?: string
  resumed: boolean
  createdAt: number
  completedAt?: number
}

export interface QueueTotals {
  count: number
  /** queued, preparing, uploading, retrying or completing. */
  active: number
  paused: number
  done: number
  failed: number
  cancelled: number
  /** Rows whose size the engine does not know yet (not prepared): byte totals leave them out. */
  unsized: number
  /** Bytes of every row that is not cancelled. */
  bytesTotal: number
  bytesSent: number
  speed: number
  etaSeconds: number | null
}

/** A coalesced change set (at most ~10 a second, see services/progress-relay.ts). */
export interface UploadsBatch {
  /** Increases by one per batch; the renderer drops batches older than its snapshot. */
  seq: number
  /** The whole queue is replaced (the engine was rebuilt after a settings change). */
  reset: boolean
  upserts: UploadRow[]
  removed: string[]
  /** New order of all ids, only when it changed. */
  order?: string[]
  totals: QueueTotals
}

export interface UploadsSnapshot {
  seq: number
  rows: UploadRow[]
  totals: QueueTotals
}

export interface InterruptedRow {
  id: string
  name: string
  size: number
  bytesDone: number
  destinationLabel: string
  updatedAt: number
  /** Another Upreel process (the CLI) holds it. */
  locked: boolean
}

export interface DuplicateFile {
  name: string
  relativeDir: string
  previous: { destinationLabel: string; key: string; completedAt: number }
}

export interface AddResult {
  added: number
  /** Junk and non-video files left out of a folder (first 100 listed; `skippedCount` is all). */
  skipped: { name: string; reason: string }[]
  skippedCount: number
  /** Paths main refused (gone, not a file or folder). */
  refused: { name: string; reason: string }[]
  /** Files already uploaded to this destination, held back until the user decides. */
  duplicates?: { token: string; files: DuplicateFile[] }
}

export interface HistoryRow {
  id: string
  name: string
  path: string
  size: number
  destinationLabel: string
  bucket: string
  key: string
  completedAt: number
  hasThumbnail: boolean
  /** Share links need direct S3 access to the same destination. */
  canShare: boolean
}

export interface TestConnectionResult {
  ok: boolean
  message: string
  advice: string[]
}

export interface CleanupSummary {
  journalRecords: number
  serverUploads: number
  failures: string[]
}

export interface AppInfo {
  version: string
  platform: string
  destination: DestinationSummary | null
  interrupted: InterruptedRow[]
  /** SettingsView.problems: a banner from the start until saved, so a fallback is never silent. */
  settingsProblems: string[]
}

export interface Notice {
  kind: 'info' | 'error'
  message: string
}

export type View = 'queue' | 'history' | 'settings'

// ---------------------------------------------------------------------------------------------
// Request/response channels: `intent: { channel, request }`, results typed in InvokeResults.

export const invoke = {
  /** App version, destination summary and interrupted uploads. Renderer may NOT learn secrets. */
  getAppInfo: { channel: 'app:info', request: Empty },
  /** The whole queue with its batch sequence number. Read-only. */
  listUploads: { channel: 'uploads:list', request: Empty },
  /**
   * Files and folders the user dropped. The page hands the preload File objects; the preload asks
   * Electron (webUtils) for their paths, so the page never names a path: a File the page made
   * itself, or a string, has none and is refused there. Main checks each path again (absolute,
   * exists, regular file or folder, not in Upreel's data folder); others come back `refused`.
   */
  addDropped: {
    channel: 'uploads:add-dropped',
    request: z
      .object({
        paths: z.array(z.string().min(1).max(MAX_PATH_LENGTH)).min(1).max(MAX_DROPPED_PATHS),
      })
      .strict(),
  },
  /** Opens the native file picker in main. Renderer may NOT pre-select or name paths. */
  addFilesDialog: { channel: 'uploads:add-files-dialog', request: Empty },
  /** Opens the native folder picker in main. Renderer may NOT name the folder. */
  addFolderDialog: { channel: 'uploads:add-folder-dialog', request: Empty },
  /** Decide on held-back duplicates by token. Renderer may NOT add files by path this way. */
  confirmDuplicates: {
    channel: 'uploads:confirm-duplicates',
    request: z.object({ token: z.string().uuid(), upload: z.boolean() }).strict(),
  },
  /** Renderer may only address uploads by engine id (unknown ids are ignored by the engine). */
  pause: { channel: 'uploads:pause', request: IdRequest },
  resume: { channel: 'uploads:resume', request: IdRequest },
  /** Aborts the multipart upload on the server. */
  cancel: { channel: 'uploads:cancel', request: IdRequest },
  retry: { channel: 'uploads:retry', request: IdRequest },
  remove: { channel: 'uploads:remove', request: IdRequest },
  /** New priority order. Renderer may NOT add or drop rows through it (unknown ids ignored). */
  reorder: {
    channel: 'uploads:reorder',
    request: z.object({ ids: z.array(Id).max(100_000) }).strict(),
  },
  pauseAll: { channel: 'uploads:pause-all', request: Empty },
  resumeAll: { channel: 'uploads:resume-all', request: Empty },
  /** Continue uploads left by an earlier session (all when ids is omitted). */
  resumeInterrupted: {
    channel: 'uploads:resume-interrupted',
    request: z
      .object({ ids: z.array(Id).max(100_000).optional() })
      .strict()
      .optional(),
  },
  /**
   * Give up interrupted uploads (all when ids is omitted): main asks the user to confirm, then
   * aborts them on the server and forgets them. The renderer may NOT skip the confirmation.
   */
  discardInterrupted: {
    channel: 'uploads:discard-interrupted',
    request: z
      .object({ ids: z.array(Id).max(100_000).optional() })
      .strict()
      .optional(),
  },
  /** Settings without secrets (they come back as set / not set). */
  getSettings: { channel: 'settings:get', request: Empty },
  /**
   * Replace the editable settings and, in the same step, store the secrets typed with them
   * (encrypted with safeStorage, bound to the origins these settings name); the engine is rebuilt
   * once. Renderer may NOT set watch folders here, nor read a secret back, ever.
   */
  saveSettings: {
    channel: 'settings:save',
    request: z.object({ settings: EditableSettings, secrets: SecretsInput.optional() }).strict(),
  },
  clearSecret: {
    channel: 'settings:clear-secret',
    request: z.object({ name: SecretName }).strict(),
  },
  /**
   * HeadBucket (or the backend's health) with the saved settings, or with a draft from the form
   * (secrets typed in the draft are used for this test only and never stored or echoed). Saved
   * backend credentials go only to the origins they were typed for: a draft naming another
   * address is tested without them.
   */
  testConnection: {
    channel: 'settings:test-connection',
    request: z
      .object({ draft: EditableSettings.optional(), secrets: SecretsInput.optional() })
      .strict()
      .optional(),
  },
  /** Picks a watch folder with the native dialog. Renderer may NOT name the folder. */
  addWatchFolder: { channel: 'settings:add-watch-folder', request: Empty },
  /** Stops watching a folder already in the list (others are ignored). */
  removeWatchFolder: {
    channel: 'settings:remove-watch-folder',
    request: z.object({ path: z.string().min(1).max(MAX_PATH_LENGTH) }).strict(),
  },
  listHistory: { channel: 'history:list', request: Empty },
  /** Copies the object URL to the clipboard (main writes it) and returns it. By history id only. */
  copyObjectUrl: { channel: 'history:copy-url', request: IdRequest },
  /** A presigned GET link valid `hours` (1–168, S3's 7-day maximum), copied by main. */
  copyShareLink: {
    channel: 'history:copy-share-link',
    request: z.object({ id: Id, hours: z.number().int().min(1).max(168) }).strict(),
  },
  /** Shows the source file in the file manager. Renderer may NOT name the path. */
  revealFile: { channel: 'history:reveal', request: IdRequest },
  /** Aborts incomplete uploads older than N days (and, with `server`, those left on the bucket). */
  cleanup: {
    channel: 'uploads:cleanup',
    request: z.object({ olderThanDays: z.number().min(0).max(3650), server: z.boolean() }).strict(),
  },
  /** Opens an https link in the browser. Renderer may NOT open other schemes or files. */
  openExternal: { channel: 'app:open-external', request: z.object({ url: Https }).strict() },
  /**
   * The page has subscribed to the events: main now delivers what waited for it (files opened
   * with Upreel at launch). Carries nothing; calling it twice is harmless.
   */
  pageReady: { channel: 'app:page-ready', request: Empty },
} as const

export interface InvokeResults {
  getAppInfo: AppInfo
  listUploads: UploadsSnapshot
  addDropped: AddResult
  addFilesDialog: AddResult | null
  addFolderDialog: AddResult | null
  confirmDuplicates: AddResult
  pause: void
  resume: void
  cancel: void
  retry: void
  remove: void
  reorder: void
  pauseAll: void
  resumeAll: void
  resumeInterrupted: { resumed: number; interrupted: InterruptedRow[] }
  discardInterrupted: { discarded: number; interrupted: InterruptedRow[] }
  getSettings: SettingsView
  saveSettings: SettingsView
  clearSecret: SettingsView
  testConnection: TestConnectionResult
  addWatchFolder: SettingsView
  removeWatchFolder: SettingsView
  listHistory: HistoryRow[]
  copyObjectUrl: { url: string }
  copyShareLink: { url: string; expiresAt: number }
  revealFile: void
  cleanup: CleanupSummary
  openExternal: void
  pageReady: void
}

export type InvokeName = keyof typeof invoke
export type InvokeRequest<K extends InvokeName> = z.input<(typeof invoke)[K]['request']>
export type ParsedRequest<K extends InvokeName> = z.output<(typeof invoke)[K]['request']>

// ---------------------------------------------------------------------------------------------
// One-way events, main → renderer. The renderer cannot send on these channels.

export const events = {
  /** Coalesced queue changes (≤ ~10 a second whatever the number of files). */
  onUploadsChanged: 'uploads:changed',
  /** Interrupted uploads found on launch or left after a resume. */
  onInterruptedChanged: 'uploads:interrupted',
  /** Short messages: watch folder added files, destination rebuilt, … */
  onNotice: 'app:notice',
  /** The app menu asks the page to show a view. */
  onNavigate: 'app:navigate',
  /**
   * What came of files added outside the page (Open with Upreel, a second launch, the menu's Add
   * Videos…): the page shows it like its own adds, duplicate question included.
   */
  onAddResult: 'uploads:add-result',
} as const

export interface EventPayloads {
  onUploadsChanged: UploadsBatch
  onInterruptedChanged: InterruptedRow[]
  onNotice: Notice
  onNavigate: View
  onAddResult: AddResult
}

export type EventName = keyof typeof events

// ---------------------------------------------------------------------------------------------
// The page's API (window.upreel): one function per intent, one subscription per event.

type InvokeFn<K extends InvokeName> =
  undefined extends InvokeRequest<K>
    ? (request?: InvokeRequest<K>) => Promise<InvokeResults[K]>
    : (request: InvokeRequest<K>) => Promise<InvokeResults[K]>

export type UpreelApi = { [K in Exclude<InvokeName, 'addDropped'>]: InvokeFn<K> } & {
  [E in EventName]: (listener: (payload: EventPayloads[E]) => void) => () => void
} & {
  /**
   * Adds dropped files and folders: the File objects of the drop event. Their paths stay in the
   * preload (Electron's webUtils); a File not backed by the disk, or anything that is not a File,
   * comes back in `refused`.
   */
  addDropped(files: readonly File[]): Promise<AddResult>
}

/** The global the preload exposes (`window.upreel`). */
export const API_KEY = 'upreel'
