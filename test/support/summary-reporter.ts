import type { Reporter, TestModule, Vitest } from 'vitest/node'

/**
 * Ends each run with one plain line, `unit: 288 passed, 0 failed, 1 skipped`, so CI logs say in a
 * form any reader (or tool) recognises how many tests ran: a run that executed nothing says so.
 */
export default class SummaryReporter implements Reporter {
  private name = 'vitest'

  onInit(ctx: Vitest): void {
    const projects = ctx.config.project
    const list = Array.isArray(projects) ? projects : projects ? [projects] : []
    if (list.length) this.name = list.join('+')
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
  ): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const mod of testModules) {
      let failedHere = 0
      for (const test of mod.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failedHere++
        else skipped++
      }
      // A file that failed outside its tests (import error, beforeAll) leaves them "skipped":
      // count the file itself as a failure so such a run never reads as clean.
      if (mod.state() === 'failed' && failedHere === 0) failedHere = 1
      failed += failedHere
    }
    failed += unhandledErrors.length
    process.stdout.write(`\n${this.name}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
