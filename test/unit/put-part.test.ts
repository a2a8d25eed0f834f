import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { etagIsContentMd5, putPart } from '../../src/main/core/http/put-part'

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

  it('reports the encryption the storage applied: SSE-KMS by its header, SSE-C by the customer-key header', async () => {
    const answers: Record<string, string>[] = [
      { 'x-amz-server-side-encryption': 'aws:kms' },
      { 'x-amz-server-side-encryption': 'aws:kms:dsse' },
      { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' },
      { 'x-amz-server-side-encryption': 'AES256' },
      {},
    ]
    const url = await serve((req, res, n) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"', ...answers[n - 1] })
        res.end()
      })
    })
    const signal = new AbortController().signal
    const got: (string | undefined)[] = []
    for (let i = 0; i < answers.length; i++)
      got.push((await putPart({ url, body, signal })).encryption)
    expect(got).toEqual(['aws:kms', 'aws:kms:dsse', 'SSE-C', 'AES256', undefined])
    expect(got.map(etagIsContentMd5)).toEqual([false, false, false, true, true])
  })

  describe('a 403 with a way to re-sign', () => {
    /** Answers 403 with `refusals[n-1]` (S3 code and message) while there is one, then 200. */
    async function refusing(refusals: [string, string][]) {
      return serve((req, res, n) => {
        const r = refusals[n - 1]
        if (r) {
          res.writeHead(403, { 'content-type': 'application/xml' })
          res.end(`<Error><Code>${r[0]}</Code><Message>${r[1]}</Message></Error>`)
          return
        }
        req.resume()
        req.on('end', () => {
          res.writeHead(200, { etag: `"${md5.toString('hex')}"` })
          res.end()
        })
      })
    }

    it.each([
      ['AccessDenied', 'Access Denied'],
      ['AccessDenied', 'Request has expired'],
      ['SignatureDoesNotMatch', 'The request signature we calculated does not match'],
    ])('%s (%s) once: signed again at once and sent again', async (code, message) => {
      const url = await refusing([[code, message]])
      let resigned = 0
      const { etag } = await putPart({
        url,
        body,
        signal: new AbortController().signal,
        partNumber: 3,
        resign: async () => {
          resigned++
          return { url: url.replace('partNumber=1', 'partNumber=1&fresh=1') }
        },
      })
      expect(etag).toBe(md5.toString('hex'))
      expect(resigned).toBe(1)
    })

    it('refused again with the fresh signature: final, in plain words', async () => {
      const url = await refusing([
        ['AccessDenied', 'Access Denied'],
        ['AccessDenied', 'Access Denied'],
      ])
      let resigned = 0
      const e = await putPart({
        url,
        body,
        signal: new AbortController().signal,
        partNumber: 3,
        resign: async () => ({ url: `${url}&n=${++resigned}` }),
      }).catch((err: unknown) => err)
      expect(resigned).toBe(1)
      expect(e).toMatchObject({
        code: 'AccessDenied',
        retryable: false,
        status: 403,
        partNumber: 3,
      })
      expect((e as Error).message).toMatch(
        /refused access.*A freshly signed link was refused as well\./,
      )
    })

    it('expired again right after signing: final, and it says the signer’s clock is wrong', async () => {
      const url = await refusing([
        ['AccessDenied', 'Request has expired'],
        ['AccessDenied', 'Request has expired'],
      ])
      const e = await putPart({
        url,
        body,
        signal: new AbortController().signal,
        resign: async () => ({ url }),
      }).catch((err: unknown) => err)
      expect(e).toMatchObject({ code: 'RequestExpired', retryable: false })
      expect((e as Error).message).toMatch(/expired, even one signed a moment before.*clock/)
    })

    it('without a way to re-sign, AccessDenied is final at once and an expired link is left to the caller', async () => {
      const url = await refusing([
        ['AccessDenied', 'Access Denied'],
        ['AccessDenied', 'Request has expired'],
      ])
      const signal = new AbortController().signal
      await expect(putPart({ url, body, signal })).rejects.toMatchObject({
        code: 'AccessDenied',
        retryable: false,
      })
      await expect(putPart({ url, body, signal })).rejects.toMatchObject({
        code: 'RequestExpired',
        retryable: true,
      })
    })
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
