import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'
import type { Plugin } from 'vite'

const root = import.meta.dirname

/**
 * `electron-vite dev` serves the page from Vite, which injects inline scripts (React refresh) and
 * styles and talks over a websocket: the dev server alone gets a relaxed CSP. Builds keep the
 * strict one from index.html (= src/main/csp.ts).
 */
function devCsp(): Plugin {
  return {
    name: 'upreel-dev-csp',
    apply: 'serve',
    transformIndexHtml: (html) =>
      html.replace(
        /(http-equiv="Content-Security-Policy"\s+content=")[^"]*"/,
        `$1default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' upreel:; connect-src 'self' ws:"`,
      ),
  }
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          // The CLI is the same engine without Electron; bin/upreel.js loads it.
          cli: resolve(root, 'src/main/core/cli/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require only 'electron': zod (the contract) is bundled in.
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve(root, 'src/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve(root, 'src/renderer/index.html') } },
    },
    plugins: [react(), devCsp()],
  },
})
