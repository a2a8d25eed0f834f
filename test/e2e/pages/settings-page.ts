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

  get addWatchFolder(): Locator {
    return this.page.getByRole('button', { name: 'Add a watch folder…' })
  }

  get watchFolders(): Locator {
    return this.page.getByTestId('watch-folders').locator('li')
  }

  get cleanupDays(): Locator {
    return this.page.getByLabel('Older than (days)')
  }

  get cleanupServer(): Locator {
    return this.page.getByLabel(/Also look on the server/)
  }

  get cleanup(): Locator {
    return this.page.getByTestId('cleanup')
  }

  get cleanupResult(): Locator {
    return this.page.getByTestId('cleanup-result')
  }

  /** The notice naming saved settings that are not valid any more. */
  get problems(): Locator {
    return this.page.getByTestId('settings-problems')
  }

  get save(): Locator {
    return this.page.getByTestId('save-settings')
  }
}
