#!/usr/bin/env node
// The CLI is built into out/main/cli.js by `npm run build` (electron-vite's main build).
require('../out/main/cli.js').main()
