/**
 * The one door to the user's browser. Only https URLs go out: `shell.openExternal` hands any URL to
 * the OS, and file:, smb:, custom handlers (ms-msdt:, …) have been used to run code from a page.
 */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' && u.username === '' && u.password === ''
  } catch {
    return false
  }
}

export interface ShellLike {
  openExternal(url: string): Promise<void>
}

export async function openExternalSafely(shell: ShellLike, url: string): Promise<boolean> {
  if (!isSafeExternalUrl(url)) return false
  await shell.openExternal(url)
  return true
}
