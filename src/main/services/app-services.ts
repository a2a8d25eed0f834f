/**
 * The composition root of the main process's services. index.ts calls it with Electron's real
 * modules; the e2e harness calls it in plain Node with doubles for the native bits only (dialogs,
 * safeStorage, notifications, power), so the IPC handlers, settings, relay, queue, history and
 * the real engine run the same code in both.
 */
import { join } from 'node:path'
import type { View } from '../../preload/contract'
import { APP_ORIGIN, thumbnailUrl } from '../app-url'
import {
  emitter,
  IpcRouter,
  type EventSink,
  type IpcMainLike,
  type SenderPolicy,
} from '../ipc/handle'
import { createHandlers } from '../ipc/handlers'
import { ActivityService } from './activity'
import type { CoreFunctions } from './core'
import { EngineService } from './engine-service'
import { HistoryService } from './history-service'
import {
  cookieHeaders,
  type ClipboardLike,
  type KeyValueStore,
  type Logger,
  type NotifierLike,
  type OpenDialogLike,
  type PowerMonitorLike,
  type PowerSaveBlockerLike,
  type ProgressBarLike,
  type SafeStorageLike,
  type SessionCookiesLike,
  type ShellLike,
} from './ports'
import { PowerService } from './power'
import { ProgressRelay, type Timers } from './progress-relay'
import { QueueService, type AddSource } from './queue-service'
import { OutsideAdds } from './outside-adds'
import { isActive, toRow } from './rows'
import { SecretBox } from './secrets'
import { SettingsService } from './settings'
import { WatchFolders } from './watch-folders'

export interface AppServicesDeps {
  /** The app's data dir (Electron's userData): settings; nothing in it may be uploaded. */
  dataDir: string
  /** Journal, locks, history, media cache (default {dataDir}/state, as the CLI's). */
  stateDir?: string
  core: CoreFunctions
  ipcMain: IpcMainLike
  senderPolicy: SenderPolicy
  /** The window's webContents, when there is a window. */
  sink: () => EventSink | null
  store: KeyValueStore
  safeStorage: SafeStorageLike
  dialog: OpenDialogLike
  clipboard: ClipboardLike
  shell: ShellLike
  notifier: NotifierLike
  powerSaveBlocker: PowerSaveBlockerLike
  powerMonitor: PowerMonitorLike
  isOnline: () => boolean
  /** The app session's cookies: sent to the backend (and hook) with the requests for their URL. */
  cookies?: SessionCookiesLike
  progressBar: () => ProgressBarLike | null
  env: NodeJS.ProcessEnv
  app: { version: string; platform: string }
  /** Origin the page is served from (thumbnail URLs are built on it). */
  appOrigin?: string
  log: Logger
  relayTimers?: Timers
}

export interface AppServices {
  settings: SettingsService
  engines: EngineService
  queue: QueueService
  history: HistoryService
  relay: ProgressRelay
  activity: ActivityService
  power: PowerService
  watch: WatchFolders
  router: IpcRouter
  /** Poster path of an upload the engine knows (the app protocol serves nothing else). */
  thumbnailPath(id: string): string | undefined
  activeCount(): number
  /**
   * Adds files from outside the page (Open with Upreel, a second launch, the menu, watch folders).
   * What came of it goes to the page as `onAddResult` (duplicates asked about there), so adds
   * arriving together are gathered into one (./outside-adds.ts) and wait until the page listens
   * and a destination exists: files opened at first launch, before the setup screen was filled
   * in, are added once it is. Resolves once taken in, not once added.
   */
  addPaths(paths: string[], source: AddSource): Promise<void>
  /** The page subscribed to events (it says so on every load). */
  pageReady(): void
  /** The window is gone (macOS keeps running without one): hold adds until a page is back. */
  pageGone(): void
  /** Tells the page to show a view (menu items). */
  navigate(view: 'queue' | 'history' | 'settings'): void
  /** Pauses everything, flushes the journal, stops watchers and timers. */
  close(): Promise<void>
}

export async function createAppServices(deps: AppServicesDeps): Promise<AppServices> {
  const emit = emitter(deps.sink)
  const origin = deps.appOrigin ?? APP_ORIGIN
  const secrets = new SecretBox(deps.store, deps.safeStorage)
  const settings = new SettingsService(
    deps.store,
    secrets,
    () => deps.core.destinationFromEnv(deps.env) ?? null,
    () => deps.core.s3SettingsFromEnv(deps.env),
  )
  const activity = new ActivityService({
    blocker: deps.powerSaveBlocker,
    progress: deps.progressBar,
    notifier: deps.notifier,
    notificationsEnabled: () => settings.get().notifications,
    sleeping: () => power.sleeping,
  })
  const relay = new ProgressRelay({
    send: (batch) => emit('onUploadsChanged', batch),
    toRow: (s) => toRow(s, (id, v) => thumbnailUrl(origin, id, v)),
    onFlush: (totals) => activity.update(totals),
    timers: deps.relayTimers,
  })
  const engines = new EngineService({
    core: deps.core,
    settings,
    stateDir: deps.stateDir ?? join(deps.dataDir, 'state'),
    relay,
    emit,
    log: deps.log,
    sessionHeaders: deps.cookies ? cookieHeaders(deps.cookies) : undefined,
  })
  engines.onEngine((engine) => activity.attach(engine))
  const queue = new QueueService({
    core: deps.core,
    engines,
    settings,
    forbiddenRoots: [deps.dataDir],
  })
  const history = new HistoryService({
    core: deps.core,
    engines,
    clipboard: deps.clipboard,
    shell: deps.shell,
  })
  const power = new PowerService({
    monitor: deps.powerMonitor,
    engine: () => engines.engine(),
    isOnline: deps.isOnline,
    log: deps.log,
  })

  /** A watch folder never asks (duplicates are skipped): a short notice says what it did. */
  const addFromWatch = async (paths: string[]): Promise<void> => {
    try {
      const r = await queue.addPaths(paths, 'watch')
      const bits = [`${r.added} added`]
      if (r.skippedCount) bits.push(`${r.skippedCount} skipped`)
      if (r.refused.length) bits.push(`${r.refused.length} refused`)
      if (r.added > 0 || r.skippedCount > 0) {
        emit('onNotice', { kind: 'info', message: `Watch folder: ${bits.join(', ')}.` })
      }
    } catch (e) {
      emit('onNotice', { kind: 'error', message: (e as Error).message })
    }
  }

  // Adds from outside the page: gathered, then held for a page that listens and a destination.
  const outside = new OutsideAdds({
    add: (paths, source) => queue.addPaths(paths, source),
    hasDestination: () => engines.engine() !== null,
    openQuestions: () => queue.openQuestions(),
    emit,
    timers: deps.relayTimers,
  })
  const addPaths = async (paths: string[], source: AddSource): Promise<void> => {
    if (paths.length === 0) return
    if (source === 'watch') return addFromWatch(paths)
    outside.add(paths, source)
  }
  // A destination set up later (the setup screen) lets the waiting files in.
  engines.onEngine((engine) => {
    if (engine) queueMicrotask(() => outside.destinationReady())
  })
  // A view the menu asked for while no page listened (macOS, the window closed): shown on load.
  let pageListens = false
  let pendingView: View | null = null

  const watch = new WatchFolders({
    add: (paths) => addFromWatch(paths),
    log: deps.log,
  })

  const router = new IpcRouter(deps.ipcMain, deps.senderPolicy, (m) => deps.log.warn(m))
  const services = {
    settings,
    engines,
    queue,
    history,
    relay,
    activity,
    power,
    watch,
    router,
    thumbnailPath: (id: string) => engines.engine()?.get(id)?.thumbnailPath,
    activeCount: () =>
      engines
        .engine()
        ?.list()
        .filter((s) => isActive(s.state)).length ?? 0,
    addPaths,
    pageReady: () => {
      pageListens = true
      if (pendingView) emit('onNavigate', pendingView)
      pendingView = null
      outside.pageReady()
    },
    pageGone: () => {
      pageListens = false
      outside.pageGone()
    },
    navigate: (view: View) => {
      if (pageListens) emit('onNavigate', view)
      else pendingView = view
    },
    close: async () => {
      outside.dispose()
      router.dispose()
      watch.dispose()
      power.dispose()
      // First: the engine pausing everything for the journal is no batch ending to announce.
      activity.dispose()
      await engines.close()
    },
  } satisfies AppServices
  router.handleAll(
    createHandlers({ ...services, dialog: deps.dialog, shell: deps.shell, secrets, app: deps.app }),
  )

  await engines.start()
  watch.set(settings.watchFolders())
  return services
}
