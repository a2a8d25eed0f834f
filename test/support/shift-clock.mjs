/**
 * Preloaded into a child process (NODE_OPTIONS=--import …) to give it a wrong wall clock:
 * `Date.now()` and `new Date()` run UPREEL_TEST_CLOCK_OFFSET_MS off the real time, as on a
 * computer whose clock is set wrong. Timers and the monotonic clock are untouched.
 */
const offset = Number(process.env.UPREEL_TEST_CLOCK_OFFSET_MS ?? 0)
const RealDate = Date

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset)
    else super(...args)
  }

  static now() {
    return RealDate.now() + offset
  }
}

globalThis.Date = ShiftedDate
