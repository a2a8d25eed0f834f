import type { Locator, Page } from 'playwright-core'
import type { UploadState } from '../../../src/preload/contract'

/** The queue: rows, their controls and the overall bar. Every wait is on data-* app signals. */
export class QueuePage {
  constructor(readonly page: Page) {}

  get list(): Locator {
    return this.page.getByTestId('queue')
  }

  get rows(): Locator {
    return this.page.getByTestId('upload-row')
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="upload-row"][data-name="${name}"]`)
  }

  rowIn(name: string, state: UploadState): Locator {
    return this.page.locator(
      `[data-testid="upload-row"][data-name="${name}"][data-state="${state}"]`,
    )
  }

  async waitForState(name: string, state: UploadState, timeout = 60_000): Promise<void> {
    await this.rowIn(name, state).waitFor({ timeout })
  }

  /** Waits until the row has sent some bytes but not all (progress is visibly moving). */
  async waitForPartialProgress(name: string, size: number, timeout = 60_000): Promise<number> {
    const handle = await this.page.waitForFunction(
      ([n, total]) => {
        const el = document.querySelector<HTMLElement>(
          `[data-testid="upload-row"][data-name="${n}"]`,
        )
        const sent = Number(el?.dataset.bytesSent ?? 0)
        return sent > 0 && sent < total ? sent : false
      },
      [name, size] as const,
      { timeout },
    )
    return (await handle.jsonValue()) as number
  }

  /** Waits until the row has sent at least `bytes`. */
  async waitForBytes(name: string, bytes: number, timeout = 60_000): Promise<void> {
    await this.page.waitForFunction(
      ([n, min]) => {
        const el = document.querySelector<HTMLElement>(
          `[data-testid="upload-row"][data-name="${n}"]`,
        )
        return Number(el?.dataset.bytesSent ?? 0) >= min
      },
      [name, bytes] as const,
      { timeout },
    )
  }

  /** The drag handle of a row (a button: focus it and press Up/Down to move the row). */
  grip(name: string): Locator {
    return this.page.getByRole('button', { name: `Reorder ${name}: drag, or press Up or Down` })
  }

  /** Row names in the order shown. */
  names(): Promise<string[]> {
    return this.rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''))
  }

  /** The relative folder shown next to the name. */
  folderOf(name: string): Locator {
    return this.row(name).locator('.folder-name')
  }

  get empty(): Locator {
    return this.page.getByTestId('queue-empty')
  }

  thumbnail(name: string): Locator {
    return this.row(name).locator('img[data-testid="thumbnail"][data-loaded="true"]')
  }

  error(name: string): Locator {
    return this.row(name).getByTestId('row-error')
  }

  pause(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Pause ${name}`, exact: true }).click()
  }

  resume(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Resume ${name}`, exact: true }).click()
  }

  cancel(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Cancel ${name}`, exact: true }).click()
  }

  retry(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Retry ${name}`, exact: true }).click()
  }

  get overall(): Locator {
    return this.page.getByTestId('overall')
  }

  /** Waits for the header totals (data-done, data-active…) to reach the given values. */
  async waitForTotals(t: { done?: number; active?: number; count?: number }, timeout = 90_000) {
    const sel = Object.entries(t)
      .map(([k, v]) => `[data-${k}="${v}"]`)
      .join('')
    await this.page.locator(`[data-testid="overall"]${sel}`).waitFor({ timeout })
  }

  get pauseAll(): Locator {
    return this.page.getByTestId('pause-all')
  }

  get resumeAll(): Locator {
    return this.page.getByTestId('resume-all')
  }
}
