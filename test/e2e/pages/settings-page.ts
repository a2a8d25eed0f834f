import type { Locator, Page } from 'playwright-core'

export class SettingsPage {
  constructor(readonly page: Page) {}

  get testConnection(): Locator {
    return this.page.getByTestId('test-connection')
  }

  get result(): Locator {
    return this.page.getByTestId('test-result')
  }

  get advice(): Locator {
    return this.page.getByTestId('test-advice')
  }

  /** Runs "Test connection" and waits for the answer; returns whether it was ok. */
  async test(): Promise<boolean> {
    await this.testConnection.click()
    await this.result.waitFor({ timeout: 30_000 })
    return (await this.result.getAttribute('data-ok')) === 'true'
  }

  field(label: string | RegExp): Locator {
    return this.page.getByLabel(label)
  }

  get save(): Locator {
    return this.page.getByTestId('save-settings')
  }
}
