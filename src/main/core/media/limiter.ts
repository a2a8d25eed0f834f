/**
 * A counting semaphore with two lanes. ffmpeg work runs beside the uploads on a 2-core machine, so
 * only `concurrency` jobs run at once (1 by default); probes go first because an upload waits for its
 * probe (the results go into the object's metadata) while a thumbnail only has to be ready by the
 * time the upload completes.
 */
import { abortError } from './run-process'

export type Lane = 'first' | 'normal'

export interface Limiter {
  /** Runs `job` when a slot is free. Aborting `signal` while queued drops it without running. */
  run<T>(job: () => Promise<T>, opts?: { signal?: AbortSignal; lane?: Lane }): Promise<T>
  readonly running: number
  readonly queued: number
}

interface Waiter {
  start: () => void
}

export function createLimiter(concurrency: number): Limiter {
  const slots = Math.max(1, Math.floor(concurrency))
  const lanes: Record<Lane, Waiter[]> = { first: [], normal: [] }
  let running = 0

  const next = (): void => {
    while (running < slots) {
      const waiter = lanes.first.shift() ?? lanes.normal.shift()
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
      return lanes.first.length + lanes.normal.length
    },
    run<T>(job: () => Promise<T>, opts: { signal?: AbortSignal; lane?: Lane } = {}): Promise<T> {
      const { signal, lane = 'normal' } = opts
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
          const queue = lanes[lane]
          const i = queue.indexOf(waiter)
          if (i >= 0) {
            queue.splice(i, 1)
            reject(abortError(signal!))
          }
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        lanes[lane].push(waiter)
        next()
      })
    },
  }
}
