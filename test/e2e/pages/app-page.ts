import type { Locator, Page } from 'playwright-core'

/** The shell around every view: tabs, header, banner, toasts, drops. */
export class AppPage {
  constructor(readonly page: Page) {}

  tab(name: 'Queue' | 'History' | 'Settings'): Locator {
    return this.page.getByRole('tab', { name })
  }

  async open(name: 'Queue' | 'History' | 'Settings'): Promise<void> {
    await this.tab(name).click()
    await this.page.locator(`[data-testid="app"][data-view="${name.toLowerCase()}"]`).waitFor()
  }

  get setup(): Locator {
    return this.page.getByTestId('setup')
  }

  /** Saved settings that are not valid any more: the banner above the queue. */
  get settingsProblems(): Locator {
    return this.page.getByTestId('settings-problems-banner')
  }

  get resumeBanner(): Locator {
    return this.page.getByTestId('resume-banner')
  }

  get resumeAllInterrupted(): Locator {
    return this.resumeBanner.getByRole('button', { name: 'Resume all' })
  }

  get discardInterrupted(): Locator {
    return this.page.getByTestId('discard-interrupted')
  }

  get toasts(): Locator {
    return this.page.getByTestId('toast')
  }

  get duplicateDialog(): Locator {
    return this.page.getByTestId('duplicate-dialog')
  }

  /** "One more question follows." under the duplicate question when others wait behind it. */
  get duplicatesWaiting(): Locator {
    return this.page.getByTestId('duplicate-more')
  }

  get destination(): Locator {
    return this.page.getByTestId('destination')
  }

  /**
   * Drops files or folders on the window as a desktop drag would: a DataTransfer of File objects
   * whose paths the electron shim's webUtils knows (Chromium gives pages no paths).
   */
  async drop(paths: string[]): Promise<void> {
    await this.page.evaluate((list) => {
      const w = window as unknown as { __upreelTestPaths: WeakMap<File, string> }
      const dt = new DataTransfer()
      for (const p of list) {
        const file = new File([''], p.split('/').pop() ?? p)
        w.__upreelTestPaths.set(file, p)
        dt.items.add(file)
      }
      for (const type of ['dragenter', 'dragover', 'drop']) {
        document.body.dispatchEvent(
          new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
        )
      }
    }, paths)
  }
}
