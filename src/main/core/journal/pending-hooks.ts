import type { UploadSnapshot } from '../engine/types'
import type { FileJournal } from './file-journal'

/**
 * Sends the processing hooks a crash left owed (journaled by FileUpload.finish between the
 * upload's completion and the hook) for this destination. Each is sent under its upload's lock,
 * so a process still finishing that upload keeps it, and at most one process sends a leftover.
 * An entry whose upload record still exists is left alone: resuming that record (it is complete
 * on the server) runs the hook itself. The hook is sent at least once, never lost; a platform
 * receiving it twice (a crash right after it was sent) can tell by the key.
 */
export async function replayPendingHooks(
  journal: FileJournal,
  o: {
    destinationId: string
    afterComplete: (s: UploadSnapshot) => Promise<{ notice?: string } | void>
    log: (msg: string) => void
  },
): Promise<void> {
  const owed = await journal.pendingHooks().catch((e: unknown) => {
    o.log(`pending processing hooks unreadable: ${String(e)}`)
    return []
  })
  for (const hook of owed) {
    if (hook.destinationId !== o.destinationId) continue
    let release: () => Promise<void>
    try {
      release = await journal.lock(hook.id)
    } catch {
      continue // the process finishing that upload is still at it
    }
    try {
      if (!(await journal.pendingHook(hook.id))) continue // sent meanwhile
      if (await journal.load(hook.id)) continue // its record resumes and sends it
      const what = `processing request for ${hook.snapshot.path} (left over from an earlier run)`
      const r = await o.afterComplete(hook.snapshot).catch((e: unknown) => ({
        notice: e instanceof Error ? e.message : String(e),
      }))
      o.log(r?.notice ? `${what} failed: ${r.notice}` : `${what} sent`)
      await journal.removePendingHook(hook.id)
    } catch (e) {
      o.log(`could not send the ${hook.id} processing request left over: ${String(e)}`)
    } finally {
      await release()
    }
  }
}
