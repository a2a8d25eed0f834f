import type { Locator, Page } from 'playwright-core'

export class SetupPage {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('setup')
  }

  field(label: string | RegExp): Locator {
    return this.root.getByLabel(label, { exact: typeof label === 'string' })
  }

  get start(): Locator {
    return this.page.getByTestId('save-setup')
  }
}
