/**
 * index.ts's window-and-outside-adds wiring (AppShell) with a fake window and fake services: files
 * from outside ("Open with", a second launch, the menu) bring the window up first, also when the
 * last window was closed (macOS), because the services hold them until a page listens.
 */
import { describe, expect, it } from 'vitest'
import { AppShell, type ShellWindow } from '../../src/main/app-shell'
import type { AddSource } from '../../src/main/services/queue-service'

class FakeWindow implements ShellWindow {
  destroyed = false
  minimized = false
  readonly calls: string[] = []
  isDestroyed = () => this.destroyed
  isMinimized = () => this.minimized
  restore = () => void this.calls.push('restore')
  show = () => void this.calls.push('show')
  focus = () => void this.calls.push('focus')
}

function setup(servicesExist = true) {
  const opened: FakeWindow[] = []
  const adds: { paths: string[]; source: AddSource; windows: number }[] = []
  let services = servicesExist
  const shell = new AppShell<FakeWindow>({
    open: () => {
      const w = new FakeWindow()
      opened.push(w)
      return w
    },
    services: () =>
      services
        ? {
            addPaths: async (paths, source) =>
              void adds.push({ paths, source, windows: opened.filter((w) => !w.destroyed).length }),
          }
        : null,
  })
  /** The user closes the window (BrowserWindow 'closed'). */
  const close = (w: FakeWindow) => {
    w.destroyed = true
    shell.closed(w)
  }
  return { shell, opened, adds, close, setServices: (v: boolean) => (services = v) }
}

describe('AppShell: files from outside bring the window first', () => {
  it('macOS "Open with" after the window was closed opens a new window, then adds', () => {
    const { shell, opened, adds, close } = setup()
    shell.start()
    close(opened[0]!)
    expect(shell.window()).toBeNull()

    shell.add(['/v/a.mp4'], 'argv')
    expect(opened).toHaveLength(2)
    expect(shell.window()).toBe(opened[1])
    expect(adds).toEqual([{ paths: ['/v/a.mp4'], source: 'argv', windows: 1 }])
  })

  it('the menu / a second launch with the window minimized restores and focuses it', () => {
    const { shell, opened, adds } = setup()
    shell.start()
    const w = opened[0]!
    w.minimized = true
    shell.add(['/v/b.mp4'], 'dialog')
    expect(w.calls).toEqual(['restore', 'show', 'focus'])
    expect(opened).toHaveLength(1)
    expect(adds.map((a) => a.source)).toEqual(['dialog'])
  })

  it('a second launch with no files still brings the window up (and adds nothing)', () => {
    const { shell, opened, adds, close } = setup()
    shell.start()
    close(opened[0]!)
    shell.add([], 'argv')
    expect(opened).toHaveLength(2)
    expect(adds).toEqual([])
  })

  it('before start (Electron not ready, no services) files wait; start opens one window and adds them', () => {
    const { shell, opened, adds, setServices } = setup(false)
    shell.add(['/v/early.mp4'], 'argv') // open-file before 'ready'
    expect(shell.show()).toBeNull()
    expect(opened).toHaveLength(0)
    expect(adds).toEqual([])
    setServices(true)
    shell.add(['/v/launch-arg.mp4'], 'argv') // still before start: waits too
    shell.start()
    expect(opened).toHaveLength(1)
    // The new window shows itself once painted: start does not force it early.
    expect(opened[0]!.calls).toEqual([])
    expect(adds.map((a) => a.paths)).toEqual([['/v/early.mp4'], ['/v/launch-arg.mp4']])
  })

  it('a closed window that is not the current one is ignored', () => {
    const { shell, opened } = setup()
    shell.start()
    const stale = new FakeWindow()
    shell.closed(stale)
    expect(shell.window()).toBe(opened[0])
  })
})
