/**
 * Runs ffmpeg/ffprobe as a cancellable child process (Kap's `converters/process.ts`): an
 * AbortSignal and a timeout both kill it, stdout is collected (capped), and the END of stderr is kept
 * because that is where ffmpeg writes the reason it failed.
 *
 * The returned promise settles only after the process has exited, so when a cancelled run rejects
 * its pid is already gone: nothing keeps burning CPU beside the uploads.
 */
import { spawn } from 'node:child_process'

export interface RunOptions {
  signal?: AbortSignal
  /** Kill the process after this long (ms). 0 or undefined: no limit. */
  timeoutMs?: number
  /** Bytes at the end of stderr kept for error messages (default 16 KiB: ~100 ffmpeg log lines). */
  stderrTailBytes?: number
  /** Stdout beyond this is dropped (default 8 MiB: ffprobe's JSON for a file is a few KiB). */
  maxStdoutBytes?: number
  /** Called once the process exists, with its pid (logging, tests that watch the process). */
  onSpawn?: (pid: number) => void
}

export interface RunResult {
  /** Null when the process was ended by a signal. */
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  stdout: string
  /** The last `stderrTailBytes` of stderr. */
  stderr: string
}

/** The run exceeded its time limit and was killed. */
export class ProcessTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly stderr: string,
  ) {
    super(`killed after ${timeoutMs} ms`)
    this.name = 'ProcessTimeoutError'
  }
}

const DEFAULT_STDERR_TAIL = 16 * 1024
const DEFAULT_MAX_STDOUT = 8 * 1024 * 1024

/**
 * Resolves with the exit status whatever it is (`ffmpeg -i` without an output exits 1 by design;
 * the caller decides). Rejects with an AbortError when `signal` aborts, a ProcessTimeoutError on
 * timeout, and the spawn error (code 'ENOENT' when the binary is missing) when it cannot start.
 */
export function runProcess(
  file: string,
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const { signal, timeoutMs } = opts
  const tailBytes = opts.stderrTailBytes ?? DEFAULT_STDERR_TAIL
  const maxStdout = opts.maxStdoutBytes ?? DEFAULT_MAX_STDOUT
  if (signal?.aborted) return Promise.reject(abortError(signal))

  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    const stdout: Buffer[] = []
    let stdoutBytes = 0
    let stderr = Buffer.alloc(0)
    let failure: Error | undefined
    let timer: NodeJS.Timeout | undefined

    const kill = (why: Error): void => {
      failure ??= why
      // SIGKILL, not SIGTERM: we never want ffmpeg's half-written output, only the process gone,
      // and a process blocked opening a FIFO or a stalled network mount ignores nothing else.
      child.kill('SIGKILL')
    }
    const onAbort = (): void => kill(abortError(signal!))

    child.stdout.on('data', (chunk: Buffer) => {
      if (stdoutBytes >= maxStdout) return
      stdout.push(chunk)
      stdoutBytes += chunk.length
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk])
      if (stderr.length > tailBytes * 2) stderr = stderr.subarray(stderr.length - tailBytes)
    })
    child.once('spawn', () => {
      if (child.pid !== undefined) opts.onSpawn?.(child.pid)
    })
    child.once('error', (err) => {
      // Spawn failures (ENOENT, EACCES) never emit 'close' with a pid to wait for.
      if (child.pid === undefined) {
        cleanup()
        reject(err)
      } else {
        failure ??= err
      }
    })
    child.once('close', (exitCode, exitSignal) => {
      cleanup()
      const tail = stderr.subarray(Math.max(0, stderr.length - tailBytes)).toString('utf8')
      if (failure instanceof ProcessTimeoutError) {
        reject(new ProcessTimeoutError(failure.timeoutMs, tail))
      } else if (failure) {
        reject(failure)
      } else {
        resolve({
          exitCode,
          exitSignal,
          stdout: Buffer.concat(stdout).subarray(0, maxStdout).toString('utf8'),
          stderr: tail,
        })
      }
    })

    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs && timeoutMs > 0) {
      timer = setTimeout(() => kill(new ProcessTimeoutError(timeoutMs, '')), timeoutMs)
    }
    function cleanup(): void {
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  })
}

/** The error an aborted run rejects with (name 'AbortError', like Node's own; cause = reason). */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & {
    code: string
  }
  err.name = 'AbortError'
  err.code = 'ABORT_ERR'
  return err
}
