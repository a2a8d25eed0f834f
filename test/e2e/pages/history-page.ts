import type { Locator, Page } from 'playwright-core'

export class HistoryPage {
  constructor(readonly page: Page) {}

  get rows(): Locator {
    return this.page.getByTestId('history-row')
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="history-row"][data-name="${name}"]`)
  }

  copyUrl(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Copy the address of ${name}` }).click()
  }

  copyShareLink(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Copy a share link for ${name}` }).click()
  }

  reveal(name: string): Promise<void> {
    return this.page.getByRole('button', { name: `Show ${name} in its folder` }).click()
  }
}
