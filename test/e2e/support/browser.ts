import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT } from './build'

/** Debian's Chromium; Playwright's own browsers are not downloadable here. */
export const CHROMIUM = process.env.UPREEL_E2E_CHROMIUM ?? '/usr/bin/chromium'

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export const SHOTS = resolve(ROOT, 'test-results/e2e')

/** Saves a screenshot of the main states (the README shows one). */
export async function shot(page: Page, name: string): Promise<string> {
  await mkdir(SHOTS, { recursive: true })
  const path = resolve(SHOTS, `${name}.png`)
  await page.screenshot({ path })
  return path
}
