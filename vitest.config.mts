import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    env: {
      // `require('electron')` must never try to download the binary in Node tests.
      ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent',
      // The SDK's "Node 22 from January 2027" notice, printed once per process: dozens of copies
      // in a run bury the test output. The CLI still shows it to its users (README, known limits).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
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
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.ts'],
          environment: 'node',
          // The S3 server (shared with integration) and the app build + e2e preload bundle.
          globalSetup: ['test/support/global-setup.ts', 'test/e2e/support/build.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One Chromium, one S3 server and the engine share 2 cores: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
})
