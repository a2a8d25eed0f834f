import type { UpreelApi } from '../../../src/preload/contract'

declare global {
  interface Window {
    /** What the preload exposes (page.evaluate bodies in the specs use it). */
    upreel: UpreelApi
  }
}
