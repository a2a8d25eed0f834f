#!/usr/bin/env node
// Makes sure Electron's binary is on disk before `npm start` launches it.
//
// Why: installs here never run package scripts for electron (package.json "allowScripts" and CI's
// ELECTRON_SKIP_BINARY_DOWNLOAD keep `npm install` off GitHub), so the binary that electron's
// postinstall would fetch may be missing. This runs that same installer on demand, once, and
// explains plainly when it cannot (no network, a proxy, a blocked GitHub).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = join(root, 'node_modules', 'electron')

function binary() {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  const pathTxt = join(pkg, 'path.txt')
  const rel = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : null
  if (override) return join(override, rel ?? 'electron')
  return rel ? join(pkg, 'dist', rel) : null
}

function fail(lines) {
  console.error(
    ['', 'upreel: Electron is not available, so the app cannot start.', ...lines, ''].join('\n'),
  )
  process.exit(1)
}

if (!existsSync(join(pkg, 'package.json'))) {
  fail(['node_modules/electron is missing: run `npm install` first.'])
}

const existing = binary()
if (existing && existsSync(existing)) process.exit(0)

if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
  fail([
    `ELECTRON_OVERRIDE_DIST_PATH is set to "${process.env.ELECTRON_OVERRIDE_DIST_PATH}", but there is no Electron there.`,
    'Unset it to use the Electron from node_modules, or point it at an unpacked Electron.',
  ])
}

console.log('upreel: downloading the Electron binary (first start only)…')
// The installer honours ELECTRON_SKIP_BINARY_DOWNLOAD; here the user asked to start the app.
const env = { ...process.env }
delete env.ELECTRON_SKIP_BINARY_DOWNLOAD
const r = spawnSync(process.execPath, [join(pkg, 'install.js')], {
  stdio: 'inherit',
  env,
  cwd: pkg,
})
const after = binary()
if (r.status !== 0 || !after || !existsSync(after)) {
  fail([
    'Downloading it from GitHub failed (see the error above). Upreel needs network access to',
    'github.com once to get Electron. Behind a proxy set HTTPS_PROXY; with a mirror set',
    'ELECTRON_MIRROR; or unpack an Electron yourself and set ELECTRON_OVERRIDE_DIST_PATH.',
    'The tests do not need Electron: `npm test` runs the app in Chromium (see README).',
  ])
}
console.log(`upreel: Electron ready (${after}).`)
