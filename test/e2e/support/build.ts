/**
 * e2e global setup: builds the app exactly as `npm run build` does (electron-vite, the project's
 * config) into a private folder, and bundles the REAL preload with `electron` aliased to the shim.
 * A private folder keeps parallel builds of out/ by other tools from racing the tests.
 */
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'vite'

const run = promisify(execFile)
export const ROOT = resolve(__dirname, '../../..')
export const E2E_BUILD = resolve(ROOT, 'node_modules/.cache/upreel-e2e')
export const RENDERER_DIR = resolve(E2E_BUILD, 'app/renderer')
export const PRELOAD_BUNDLE = resolve(E2E_BUILD, 'preload/preload.js')

export async function setup(): Promise<void> {
  await mkdir(E2E_BUILD, { recursive: true })
  await run(
    process.execPath,
    [
      resolve(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'),
      'build',
      '--outDir',
      resolve(E2E_BUILD, 'app'),
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } },
  )
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    resolve: { alias: { electron: resolve(__dirname, 'electron-shim.ts') } },
    build: {
      outDir: resolve(E2E_BUILD, 'preload'),
      emptyOutDir: true,
      minify: false,
      lib: {
        entry: resolve(ROOT, 'src/preload/index.ts'),
        formats: ['iife'],
        name: 'upreelPreload',
        fileName: () => 'preload.js',
      },
    },
  })
}
