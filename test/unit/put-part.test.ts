import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { putPart } from '../../src/main/core/http/put-part'

let server: Server | undefined
const sockets = new Set<Socket>()

async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0
  server = createServer((req, res) => handler(req, res, ++n))
  server.on('connection', (s) => sockets.add(s))
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket/key?partNumber=1`
}

afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
})

const body = Buffer.alloc(3 * 1024 * 1024, 9)
const md5 = createHash('md5').update(body).digest()

describe('putPart', () => {
  it('sends Content-MD5, reports byte progress in slices and returns the unquoted ETag', async () => {
    let seen: string | undefined
    const url = await serve((req, res) => {
      seen = req.headers['content-md5'] as string
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { etag: `"${md5.toString('hex').toUpperCase()}"` })
        res.end()
      })
    })
    const progress: number[] = []
    const { etag } = await putPart({
      url,
      body,
      md5Base64: md5.toString('base64'),
      signal: new AbortController().signal,
      onProgress: (n) => progress.push(n),
    })
    expect(seen).toBe(md5.toString('base64'))
    expect(etag).toBe(md5.toString('hex'))
    expect(progress.length).toBe(12) // 3 MiB in 256 KiB slices
    expect(progress.at(-1)).toBe(body.length)
  })

  it('turns an expired presigned URL into a retryable RequestExpired, and does not reuse that socket', async () => {
    const url = await serve((req, res, n) => {
      if (n === 1) {
        // Answer before reading the body, as S3 does for an expired URL.
        res.writeHead(403, { 'content-type': 'application/xml' })
        res.end(
          '<Error><Code>AccessDenied</Code><Message>Request has expired</Message><RequestId>r1</RequestId></Error>',
        )
        return
      }
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { etag: `"${md5.toString('hex')}"` })
        res.end()
      })
    })
    const signal = new AbortController().signal
    await expect(putPart({ url, body, signal, partNumber: 4 })).rejects.toMatchObject({
      code: 'RequestExpired',
      retryable: true,
      status: 403,
      requestId: 'r1',
      partNumber: 4,
    })
    const t0 = Date.now()
    await expect(putPart({ url, body, signal, idleTimeoutMs: 5000 })).resolves.toEqual({
      etag: md5.toString('hex'),
    })
    expect(Date.now() - t0).toBeLessThan(4000)
    expect(sockets.size).toBe(2)
  })

  it('abandons a request that moves no byte for the idle timeout, as a retryable RequestTimeout', async () => {
    const url = await serve(() => {
      // never answers, never reads
    })
    await expect(
      putPart({
        url,
        body: Buffer.alloc(16),
        signal: new AbortController().signal,
        idleTimeoutMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'RequestTimeout', retryable: true })
  })

  it('rejects with an AbortError when aborted, never an UploadError', async () => {
    const url = await serve(() => undefined)
    const ac = new AbortController()
    const p = putPart({ url, body, signal: ac.signal })
    ac.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('fails loudly when the storage returns no ETag (a proxy or CORS rule hiding it)', async () => {
    const url = await serve((req, res) => {
      req.resume()
      req.on('end', () => res.end())
    })
    await expect(
      putPart({ url, body, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'MissingETag' })
  })
})
