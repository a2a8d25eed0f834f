/**
 * One handler per contract channel. The router has already checked the sender and parsed the
 * request with the contract's schema when these run; they only translate intents to services.
 */
import type { SettingsView, UploadsSnapshot } from '../../preload/contract'
import { openExternalSafely } from '../external'
import { pickForAdd } from '../services/add-dialog'
import type { EngineService } from '../services/engine-service'
import type { HistoryService } from '../services/history-service'
import { checkPaths } from '../services/paths'
import type { OpenDialogLike, ShellLike } from '../services/ports'
import type { QueueService } from '../services/queue-service'
import type { SecretBox } from '../services/secrets'
import type { SettingsService } from '../services/settings'
import type { WatchFolders } from '../services/watch-folders'
import type { Handlers } from './handle'

export interface HandlerContext {
  settings: SettingsService
  engines: EngineService
  queue: QueueService
  history: HistoryService
  watch: WatchFolders
  secrets: SecretBox
  dialog: OpenDialogLike
  shell: ShellLike
  app: { version: string; platform: string }
  activeCount(): number
  relay: { snapshot(): UploadsSnapshot }
  /** Pause all / Resume all hold and release the batch (notifications). */
  activity: { pauseAll(): void; resumeAll(): void }
  /** The page listens: deliver what waited for it (app-services). */
  pageReady(): void
}

export function createHandlers(ctx: HandlerContext): Handlers {
  const view = (): SettingsView => ctx.settings.view()
  const engine = () => ctx.engines.require()

  const refuseWhileMoving = (what: string) => {
    if (ctx.activeCount() > 0) {
      throw new Error(`Uploads are in progress. Pause or finish them before ${what}.`)
    }
  }

  return {
    getAppInfo: () => ({
      version: ctx.app.version,
      platform: ctx.app.platform,
      destination: view().destination,
      interrupted: ctx.engines.interrupted(),
      settingsProblems: ctx.settings.problems(),
    }),
    listUploads: () => ctx.relay.snapshot(),
    addDropped: ({ paths }) => ctx.queue.addPaths(paths, 'drop'),
    addFilesDialog: async () => {
      ctx.engines.require()
      const paths = await pickForAdd(ctx.dialog, 'files')
      return paths ? ctx.queue.addPaths(paths, 'dialog') : null
    },
    addFolderDialog: async () => {
      ctx.engines.require()
      const paths = await pickForAdd(ctx.dialog, 'folders')
      return paths ? ctx.queue.addPaths(paths, 'dialog') : null
    },
    confirmDuplicates: ({ token, upload }) => ctx.queue.confirmDuplicates(token, upload),
    pause: ({ id }) => engine().pause(id),
    resume: ({ id }) => engine().resume(id),
    cancel: ({ id }) => engine().cancel(id),
    retry: ({ id }) => engine().retry(id),
    remove: ({ id }) => engine().remove(id),
    reorder: ({ ids }) => engine().reorder(ids),
    pauseAll: () => {
      const e = engine()
      // Said before the pauses land: the engine's idle then is a held batch, not a finished one.
      ctx.activity.pauseAll()
      return e.pauseAll()
    },
    resumeAll: () => {
      const e = engine()
      ctx.activity.resumeAll()
      e.resumeAll()
    },
    resumeInterrupted: async (req) => {
      const resumed = await ctx.engines.resumeInterrupted(req?.ids)
      return { resumed, interrupted: ctx.engines.interrupted() }
    },
    discardInterrupted: async (req) => {
      const rows = ctx.engines
        .interrupted()
        .filter((r) => !r.locked && (!req?.ids || req.ids.includes(r.id)))
      if (rows.length === 0) return { discarded: 0, interrupted: ctx.engines.interrupted() }
      // Destructive (the parts on the server are deleted): main asks, the page cannot skip it.
      const { response } = await ctx.dialog.showMessageBox({
        type: 'warning',
        title: 'Discard unfinished uploads',
        message:
          rows.length === 1
            ? `Discard the unfinished upload of ${rows[0]!.name}?`
            : `Discard ${rows.length} unfinished uploads?`,
        detail:
          'What was already sent is deleted from the server. The files on this computer stay.',
        buttons: ['Discard', 'Keep'],
        defaultId: 1,
        cancelId: 1,
      })
      if (response !== 0) return { discarded: 0, interrupted: ctx.engines.interrupted() }
      const discarded = await ctx.engines.discardInterrupted(rows.map((r) => r.id))
      return { discarded, interrupted: ctx.engines.interrupted() }
    },
    getSettings: () => view(),
    saveSettings: async ({ settings: next, secrets: typed }) => {
      // Settings and the secrets typed with them in one step, so the engine is rebuilt once, with
      // both (a new key id and its secret must not meet the old secret in between).
      if (!ctx.engines.canRebuild(next, typed)) {
        throw new Error(
          'Uploads are in progress. Pause or finish them before changing where or how Upreel uploads.',
        )
      }
      ctx.settings.save(next, typed)
      await ctx.engines.apply(next)
      return view()
    },
    clearSecret: async ({ name }) => {
      refuseWhileMoving('removing a secret')
      ctx.secrets.clear(name)
      await ctx.engines.apply(ctx.settings.get())
      return view()
    },
    testConnection: async (req) => {
      const { destination } = ctx.settings.destination(req?.draft, req?.secrets)
      if (!destination) {
        return {
          ok: false,
          message: 'Nothing to test yet: fill in a bucket, or a backend address.',
          advice: [],
        }
      }
      return ctx.engines.testConnection(destination)
    },
    addWatchFolder: async () => {
      const r = await ctx.dialog.showOpenDialog({
        title: 'Watch a folder for new videos',
        properties: ['openDirectory', 'createDirectory'],
      })
      if (r.canceled || !r.filePaths[0]) return view()
      const checked = await checkPaths([r.filePaths[0]], ctx.queue.forbiddenRoots)
      const dir = checked.valid.find((v) => v.kind === 'dir')
      if (!dir) throw new Error(checked.refused[0]?.reason ?? 'That is not a folder.')
      ctx.settings.addWatchFolder(dir.path)
      ctx.watch.set(ctx.settings.watchFolders())
      return view()
    },
    removeWatchFolder: ({ path }) => {
      ctx.settings.removeWatchFolder(path)
      ctx.watch.set(ctx.settings.watchFolders())
      return view()
    },
    listHistory: () => ctx.history.list(),
    copyObjectUrl: ({ id }) => ctx.history.copyUrl(id),
    copyShareLink: ({ id, hours }) => ctx.history.copyShareLink(id, hours),
    revealFile: ({ id }) => ctx.history.reveal(id),
    cleanup: ({ olderThanDays, server }) => ctx.history.cleanup(olderThanDays, server),
    openExternal: async ({ url }) => {
      if (!(await openExternalSafely(ctx.shell, url))) throw new Error('Only https links open.')
    },
    pageReady: () => ctx.pageReady(),
  }
}
