import { homedir } from 'node:os'
import { join } from 'node:path'

/** Electron's `app.getPath('appData')`, computed without Electron (the CLI shares the app's state). */
export function appDataDir(env = process.env, platform = process.platform): string {
  if (platform === 'win32') return env.APPDATA ?? join(homedir(), 'AppData', 'Roaming')
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support')
  return env.XDG_CONFIG_HOME ?? join(homedir(), '.config')
}

/** The desktop app's user data folder (productName "Upreel"). */
export function appUserDataDir(env = process.env, platform = process.platform): string {
  return join(appDataDir(env, platform), 'Upreel')
}

/**
 * The journal, locks and history: the app's own by default, so the app sees what the CLI left and
 * the other way round. UPREEL_STATE_DIR overrides it.
 */
export function defaultStateDir(env = process.env, platform = process.platform): string {
  return env.UPREEL_STATE_DIR ?? join(appUserDataDir(env, platform), 'state')
}
