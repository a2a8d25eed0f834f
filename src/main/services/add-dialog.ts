/**
 * The native pickers behind "Add videos" and "Add folder": one definition for the page's buttons
 * (ipc/handlers.ts) and the app menu (index.ts), so both offer the same filter and selection.
 */
import { VIDEO_EXTENSIONS } from '../core/media/extensions'
import type { OpenDialogLike } from './ports'

/** Extensions offered first in "Add videos" (everything else is one click away). */
const PICKER_EXTENSIONS = VIDEO_EXTENSIONS.map((e) => e.slice(1))

/** Opens the picker; the chosen paths, or null when cancelled or nothing was chosen. */
export async function pickForAdd(
  dialog: OpenDialogLike,
  kind: 'files' | 'folders',
): Promise<string[] | null> {
  const r = await dialog.showOpenDialog(
    kind === 'files'
      ? {
          title: 'Add videos',
          properties: ['openFile', 'multiSelections'],
          filters: [
            { name: 'Videos', extensions: PICKER_EXTENSIONS },
            { name: 'All files', extensions: ['*'] },
          ],
        }
      : { title: 'Add a folder of videos', properties: ['openDirectory', 'multiSelections'] },
  )
  return r.canceled || r.filePaths.length === 0 ? null : r.filePaths
}
