/**
 * A counting semaphore: ffmpeg work runs beside the uploads on a 2-core machine, so only
 * `concurrency` jobs run at once (1 by default), in the order asked. The media port keeps one for
 * probes and one for thumbnails (see ./media-port.ts for why not one with priorities).
 */
import { abortError } from './run-process'

export interface Limiter {
  /** Runs `job` when a slot is free. Aborting `signal` while queued drops it without running. */
  run<T>(job: () => Promise<T>, opts?: { signal?: AbortSignal }): Promise<T>
  readonly running: number
  readonly queued: number
}

interface Waiter {
  start: () => void
}

export function createLimiter(concurrency: number): Limiter {
  const slots = Math.max(1, Math.floor(concurrency))
  const queue: Waiter[] = []
  let running = 0

  const next = (): void => {
    while (running < slots) {
      const waiter = queue.shift()
      if (!waiter) return
      running++
      waiter.start()
    }
  }

  return {
    get running() {
      return running
    },
    get queued() {
      return queue.length
    },
    run<T>(job: () => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
      const { signal } = opts
      if (signal?.aborted) return Promise.reject(abortError(signal))
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort)
            // The slot is freed before the caller hears back, so its next run() sees it free.
            const release = (): void => {
              running--
              next()
            }
            Promise.resolve()
              .then(job)
              .then(
                (value) => {
                  release()
                  resolve(value)
                },
                (err: unknown) => {
                  release()
                  reject(err)
                },
              )
          },
        }
        const onAbort = (): void => {
          const i = queue.indexOf(waiter)
          if (i >= 0) {
            queue.splice(i, 1)
            reject(abortError(signal!))
          }
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        queue.push(waiter)
        next()
      })
    },
  }
}
