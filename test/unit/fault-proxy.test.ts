/**
 * FaultProxy itself (test/support/fault-proxy.ts): the fault and outage suites trust that each
 * kind of fault really happens on the wire, so each is checked here between a plain HTTP client
 * and a tiny local server that records what reached it. Stalls and slow bodies run on Vitest's
 * fake clock: the proxy holds the bytes until the clock moves, which is checked without timing
 * anything.
 */
import { randomBytes } from 'node:crypto'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { FAULT_KINDS, FaultProxy, type FaultConfig } from '../support/fault-proxy'

const KiB = 1024

/** What the tiny server saw of one request. */
interface Seen {
  method: string
  url: string
  bytes: number
  body: Buffer[]
  /** The whole body arrived. */
  complete: boolean
  /** Resolves when the request ended or its connection closed. */
  closed: Promise<void>
}

const seen: Seen[] = []
let upstream: Server
let upstreamUrl: string
/** Body of every GET answer (a "GetObject" of 1000 bytes). */
const OBJECT = randomBytes(1000)

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let done!: () => void
    const rec: Seen = {
      method: req.method!,
      url: req.url!,
      bytes: 0,
      body: [],
      complete: false,
      closed: new Promise((r) => (done = r)),
    }
    seen.push(rec)
    req.on('data', (c: Buffer) => {
      rec.bytes += c.length
      rec.body.push(c)
    })
    req.on('close', done)
    req.on('end', () => {
      rec.complete = true
      if (req.method === 'GET') {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(OBJECT.length),
        })
        res.end(OBJECT)
      } else if (new URL(req.url!, 'http://x').searchParams.has('echo')) {
        // A body as long as the request's, for the slow answer.
        res.writeHead(200, { 'content-length': String(rec.bytes) })
        res.end(Buffer.concat(rec.body))
      } else {
        // UploadPart's answer: 200, an ETag header, no body.
        res.writeHead(200, { etag: '"0123"', 'content-length': '0' })
        res.end()
      }
    })
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
})
afterAll(async () => {
  upstream.closeAllConnections()
  await new Promise((r) => upstream.close(r))
})

const proxies: FaultProxy[] = []
afterEach(async () => {
  vi.useRealTimers()
  for (const p of proxies.splice(0)) await p.stop()
  seen.length = 0
})

async function proxy(config: Partial<FaultConfig>): Promise<{ p: FaultProxy; url: string }> {
  const p = new FaultProxy(upstreamUrl, config)
  proxies.push(p)
  return { p, url: await p.start() }
}

/** Scripts one fault for every request (or only those `when` picks). */
const always =
  (kind: ReturnType<NonNullable<FaultConfig['script']>>, when = (_op: string) => true) =>
  (r: { op: string }) =>
    when(r.op) ? kind : 'pass'

interface Answer {
  status?: number
  headers?: IncomingHttpHeaders
  body: Buffer
  /** The connection died (request or answer): its code, e.g. ECONNRESET. */
  error?: string
}

/** One request on a fresh connection; never rejects: what went wrong is in `error`. */
function send(base: string, path: string, method = 'GET', body?: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const out: Answer = { body: Buffer.alloc(0) }
    const finish = (error?: Error & { code?: string }) => {
      if (error && !out.error) out.error = error.code ?? error.message
      out.body = Buffer.concat(chunks)
      resolve(out)
    }
    const req = request(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: body ? { 'content-length': String(body.length) } : {},
      },
      (res) => {
        out.status = res.statusCode
        out.headers = res.headers
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => finish())
        res.on('error', finish)
        res.on('aborted', () => (out.error ??= 'aborted'))
      },
    )
    req.on('error', finish)
    req.end(body)
  })
}

/** Lets loopback I/O run for a while without the clock (real or fake) moving. */
async function ioTurns(n = 50) {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** Waits for `pred` on I/O turns (works under the fake clock); fails after 10,000 turns. */
async function until(pred: () => boolean, what: string) {
  for (let i = 0; i < 10_000; i++) {
    if (pred()) return
    await new Promise((r) => setImmediate(r))
  }
  throw new Error(`never happened: ${what}`)
}

describe('FaultProxy on the wire', () => {
  it('passes a request and its answer through unchanged', async () => {
    const { p, url } = await proxy({ rates: {} })
    const body = randomBytes(64 * KiB)
    const a = await send(url, '/b/clip.mp4?partNumber=3&uploadId=u1', 'PUT', body)
    expect(a.status).toBe(200)
    expect(a.error).toBeUndefined()
    expect(a.headers?.etag).toBe('"0123"')
    expect(seen).toHaveLength(1)
    expect(Buffer.concat(seen[0]!.body).equals(body)).toBe(true)
    expect(p.requests[0]).toMatchObject({ op: 'UploadPart', partNumber: 3, fault: 'pass' })
  })

  it('reset before the body: the client sees a reset, the server sees nothing', async () => {
    const { p, url } = await proxy({ script: always('reset'), resetMidBody: 0 })
    const a = await send(url, '/b/clip.mp4?partNumber=1&uploadId=u1', 'PUT', randomBytes(64 * KiB))
    expect(a.status).toBeUndefined()
    expect(a.error).toMatch(/ECONNRESET|EPIPE/)
    // A request sent afterwards reaches the server; the reset one never did.
    p.configure({ script: undefined })
    expect((await send(url, '/b/after.mp4')).status).toBe(200)
    expect(seen.map((s) => s.url)).toEqual(['/b/after.mp4'])
    expect(p.injected().reset).toBe(1)
  })

  it('reset mid-body: the server gets half the body and then loses the client', async () => {
    const { p, url } = await proxy({ script: always('reset'), resetMidBody: 1 })
    const body = randomBytes(64 * KiB)
    const a = await send(url, '/b/clip.mp4?partNumber=2&uploadId=u1', 'PUT', body)
    expect(a.status).toBeUndefined()
    expect(a.error).toMatch(/ECONNRESET|EPIPE/)
    await until(() => seen.length === 1, 'the request reached the server')
    await seen[0]!.closed
    expect(seen[0]!.complete).toBe(false)
    expect(seen[0]!.bytes).toBe(32 * KiB)
    expect(Buffer.concat(seen[0]!.body).equals(body.subarray(0, 32 * KiB))).toBe(true)
    expect(p.injected().reset).toBe(1)
  })

  it.each([
    ['status500', 500, 'InternalError'],
    ['slowdown503', 503, 'SlowDown'],
  ] as const)('%s: the proxy answers %i with S3 error XML itself', async (kind, status, code) => {
    const { p, url } = await proxy({ script: always(kind) })
    const a = await send(url, '/b/clip.mp4?partNumber=1&uploadId=u1', 'PUT', randomBytes(8 * KiB))
    expect(a.status).toBe(status)
    expect(a.body.toString()).toContain(`<Code>${code}</Code>`)
    expect(seen).toEqual([])
    expect(p.injected()[kind]).toBe(1)
    // JSON for a backend.
    p.configure({ errorBody: 'json' })
    const j = await send(url, '/s3/multipart', 'POST', Buffer.from('{}'))
    expect(j.status).toBe(status)
    expect(JSON.parse(j.body.toString())).toEqual({ message: `injected ${code}` })
    expect(seen).toEqual([])
  })

  it('stall: nothing reaches the server until the stall time has passed, then it is forwarded', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { p, url } = await proxy({
      stallMs: 1500,
      script: always('stall', (op) => op === 'PutObject'),
    })
    const stalled = send(url, '/b/stalled.mp4', 'PUT', randomBytes(8 * KiB))
    await until(() => p.requests.length === 1, 'the proxy got the request')
    // A request sent later goes through while the stalled one is held.
    expect((await send(url, '/b/other.mp4')).status).toBe(200)
    await vi.advanceTimersByTimeAsync(1499)
    await ioTurns()
    expect(seen.map((s) => s.url)).toEqual(['/b/other.mp4'])
    await vi.advanceTimersByTimeAsync(1)
    expect((await stalled).status).toBe(200)
    expect(seen.map((s) => s.url)).toEqual(['/b/other.mp4', '/b/stalled.mp4'])
    expect(seen[1]!.bytes).toBe(8 * KiB)
    expect(p.injected().stall).toBe(1)
  })

  it('slow body: bytes move both ways only as fast as the configured rate allows', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    // 16 KiB per second, the proxy's slice: one slice per second of the clock.
    const { p, url } = await proxy({ slowBytesPerSec: 16 * KiB, script: always('slowBody') })
    const body = randomBytes(48 * KiB)
    const answer = send(url, '/b/slow.mp4?echo=1', 'PUT', body)
    await until(() => p.requests.length === 1, 'the proxy got the request')
    await ioTurns()
    expect(seen).toEqual([])
    await vi.advanceTimersByTimeAsync(1000)
    await until(() => (seen[0]?.bytes ?? 0) >= 16 * KiB, 'the first slice reached the server')
    await ioTurns()
    expect(seen[0]!.bytes).toBe(16 * KiB)
    // The rest of the request, then the whole echoed answer, as the clock moves on.
    let received = -1
    void answer.then((a) => (received = a.body.length))
    for (let i = 0; i < 200 && received < 0; i++) {
      await vi.advanceTimersByTimeAsync(100)
      await ioTurns(5)
    }
    const a = await answer
    expect(a.status).toBe(200)
    expect(a.body.equals(body)).toBe(true)
    expect(Buffer.concat(seen[0]!.body).equals(body)).toBe(true)
    // Six slices (three each way) at one per second: at least five seconds of clock.
    expect(Date.now() - p.requests[0]!.at).toBeGreaterThanOrEqual(5000)
    expect(p.injected().slowBody).toBe(1)
  })

  it('truncated answer with a body: the server acted, the client gets half the body, then the connection dies', async () => {
    const { p, url } = await proxy({ script: always('truncate') })
    const a = await send(url, '/b/object.mp4')
    expect(a.status).toBe(200)
    expect(a.headers?.['content-length']).toBe('1000')
    expect(a.body.equals(OBJECT.subarray(0, 500))).toBe(true)
    expect(a.error).toBeDefined()
    expect(seen).toHaveLength(1)
    expect(seen[0]!.complete).toBe(true)
    expect(p.injected().truncate).toBe(1)
  })

  it('truncated answer without a body (a part PUT): the server stored it, the client hears nothing', async () => {
    const { p, url } = await proxy({ script: always('truncate') })
    const body = randomBytes(64 * KiB)
    const a = await send(url, '/b/clip.mp4?partNumber=4&uploadId=u1', 'PUT', body)
    expect(a.status).toBeUndefined()
    expect(a.error).toMatch(/ECONNRESET|socket hang up/)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.complete).toBe(true)
    expect(Buffer.concat(seen[0]!.body).equals(body)).toBe(true)
    expect(p.injected().truncate).toBe(1)
  })

  it('counts every send of a part, and of a single-request PutObject, per part', async () => {
    const { p, url } = await proxy({ rates: {} })
    for (const path of [
      '/b/a.mp4?partNumber=1&uploadId=u1',
      '/b/a.mp4?partNumber=1&uploadId=u1',
      '/b/a.mp4?partNumber=2&uploadId=u1',
      '/b/small.mp4',
      '/b/small.mp4',
      '/b/small.mp4',
      '/b/other.mp4',
    ]) {
      await send(url, path, 'PUT', Buffer.from('x'))
    }
    expect(Object.fromEntries(p.partSends())).toEqual({
      'u1#1': 2,
      'u1#2': 1,
      'PutObject /b/small.mp4': 3,
      'PutObject /b/other.mp4': 1,
    })
    expect(p.maxPartSends()).toBe(3)
  })

  it('a seed replays the same faults on the same requests, whatever their order', async () => {
    const rates: FaultConfig['rates'] = {
      reset: 0.12,
      status500: 0.12,
      slowdown503: 0.12,
      stall: 0.12,
      slowBody: 0.12,
      truncate: 0.12,
    }
    const paths = Array.from({ length: 60 }, (_, i) => `/b/clip-${i}.mp4`)
    async function faults(seed: number, order: string[]) {
      const { p, url } = await proxy({ seed, rates, stallMs: 1, slowBytesPerSec: 1 << 30 })
      const answers = new Map<string, Answer>()
      // Two at a time, so arrival order differs from the list's too.
      for (let i = 0; i < order.length; i += 2) {
        await Promise.all(
          order.slice(i, i + 2).map(async (path) => answers.set(path, await send(url, path))),
        )
      }
      const byPath = new Map(p.requests.map((r) => [r.url, r.fault]))
      // What the client saw matches what the proxy says it did.
      for (const [path, a] of answers) {
        const f = byPath.get(path)
        if (f === 'status500') expect(a.status, path).toBe(500)
        else if (f === 'slowdown503') expect(a.status, path).toBe(503)
        else if (f === 'reset') expect(a.status, path).toBeUndefined()
        else if (f === 'truncate') expect(a.body.length, path).toBe(500)
        else expect(a.body.equals(OBJECT), path).toBe(true)
      }
      return Object.fromEntries(paths.map((path) => [path, byPath.get(path)]))
    }
    const first = await faults(42, paths)
    const replay = await faults(42, [...paths].reverse())
    expect(replay).toEqual(first)
    // Every kind was drawn at least once, so the comparison covers them all.
    for (const kind of FAULT_KINDS) expect(Object.values(first), kind).toContain(kind)
    // Another seed draws differently.
    expect(await faults(43, paths)).not.toEqual(first)
  })

  it("the same seed draws the same faults in another run's bucket", async () => {
    const rates: FaultConfig['rates'] = { status500: 0.3, slowdown503: 0.3 }
    async function statuses(bucket: string) {
      const { url } = await proxy({ seed: 7, rates })
      const out: (number | undefined)[] = []
      for (let i = 0; i < 30; i++) out.push((await send(url, `/${bucket}/k/clip-${i}.mp4`)).status)
      return out
    }
    const a = await statuses('upreel-faults-1a2b3c4d')
    expect(await statuses('upreel-faults-9f8e7d6c')).toEqual(a)
    expect(a).toContain(500)
    expect(a).toContain(200)
  })
})
