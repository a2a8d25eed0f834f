import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'

/**
 * The file system calls the journal and its locks make, so tests can make them fail the way a
 * full or read-only disk does (ENOSPC, EROFS, EACCES) on machines where nothing can be mounted.
 */
export interface JournalFs {
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>
  /** flags: 'r', 'a', 'w' or 'wx' (exclusive create). */
  open(path: string, flags: 'r' | 'a' | 'w' | 'wx'): Promise<JournalFileHandle>
  readdir(path: string): Promise<string[]>
  readFile(path: string, encoding: 'utf8'): Promise<string>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** A hard link: fails with EEXIST rather than replace `to`. */
  link(from: string, to: string): Promise<void>
  stat(path: string): Promise<{ mtimeMs: number }>
}

export interface JournalFileHandle {
  write(data: string): Promise<unknown>
  sync(): Promise<void>
  datasync(): Promise<void>
  close(): Promise<void>
}

export const nodeJournalFs: JournalFs = {
  mkdir: (path, opts) => mkdir(path, opts),
  open: (path, flags) => open(path, flags),
  readdir: (path) => readdir(path),
  readFile: (path, encoding) => readFile(path, encoding),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  link: (from, to) => link(from, to),
  stat: (path) => stat(path),
}
