/** Connects the stores to main: subscribe first, then load, so no batch falls in between. */
import { api, errorMessage } from './api'
import { appStore, uploadsStore } from './store/hooks'

export async function boot(): Promise<void> {
  api.onUploadsChanged((batch) => uploadsStore.apply(batch))
  api.onInterruptedChanged((rows) => appStore.update({ interrupted: rows }))
  api.onNotice((notice) => appStore.toast(notice))
  api.onNavigate((view) => appStore.update({ view }))
  // Files opened with Upreel, a second launch, the menu: shown like the page's own adds.
  api.onAddResult((result) => appStore.reportAdd(result))
  uploadsStore.onGap = () => {
    void api.listUploads().then((s) => uploadsStore.load(s))
  }
  try {
    const [snapshot, info] = await Promise.all([api.listUploads(), api.getAppInfo()])
    uploadsStore.load(snapshot)
    appStore.update({
      destination: info.destination,
      version: info.version,
      interrupted: info.interrupted,
      settingsProblems: info.settingsProblems,
    })
  } catch (e) {
    appStore.toast({ kind: 'error', message: errorMessage(e) })
    appStore.update({ destination: null })
  }
  // Listening (and loaded): main may now deliver what waited for the page.
  void attempt(() => api.pageReady())
}

/** Runs an intent and turns a refusal from main into a toast instead of an unhandled rejection. */
export async function attempt<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (e) {
    appStore.toast({ kind: 'error', message: errorMessage(e) })
    return undefined
  }
}
