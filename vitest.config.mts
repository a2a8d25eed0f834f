import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    env: {
      // `require('electron')` must never try to download the binary in Node tests.
      ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent',
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // 2 cores are shared with the S3 server: files run one at a time so that timing-
          // sensitive scenarios (pause mid-part, kill mid-upload) are not starved.
          fileParallelism: false,
        },
      },
    ],
  },
})
