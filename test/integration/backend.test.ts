/**
 * The reference backend (src/backend) over real HTTP against the real S3 test server: every
 * Companion route, auth, ownership, limits, restart, CORS, logs. Bytes go to S3 with plain fetch
 * on the URLs it signs, as any Companion client would send them.
 */
import { CompleteMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ALICE_TOKEN,
  BOB_TOKEN,
  GateProxy,
  startTestBackend,
  type TestBackend,
} from '../support/backend'
import { S3Proxy } from '../support/proxy'
import { freshBucket, openUploads, sha256OfObject, testClient, testServer } from '../support/s3'

const MiB = 1024 * 1024
const client = testClient()
let bucket: string
let backend: TestBackend

beforeAll(async () => {
  bucket = await freshBucket(client, 'upreel-backend')
  backend = await startTestBackend({ bucket, maxFileSize: 64 * MiB })
})
afterAll(async () => {
  await backend?.close()
})

interface Answer {
  status: number
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers
}

async function call(
  method: string,
  path: string,
  opts: { user?: 'alice' | 'bob' | null; body?: unknown; headers?: Record<string, string> } = {},
  base = backend,
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.user !== null) Object.assign(headers, base.auth(opts.user ?? 'alice'))
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(base.url + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

const q = (key: string) => `?key=${encodeURIComponent(key)}`
const enc = encodeURIComponent

async function create(
  filename = 'clip.mp4',
  extra: { type?: string; metadata?: Record<string, unknown>; size?: unknown } = {},
  user: 'alice' | 'bob' = 'alice',
  base = backend,
) {
  const res = await call(
    'POST',
    '/s3/multipart',
    {
      user,
      body: {
        filename,
        type: extra.type ?? 'video/mp4',
        metadata: extra.metadata ?? {},
        ...('size' in extra ? { size: extra.size } : {}),
      },
    },
    base,
  )
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { key: string; uploadId: string; bucket: string }
}

async function putBytes(url: string, body: Buffer): Promise<string> {
  const res = await fetch(url, {
    method: 'PUT',
    body,
    headers: { 'Content-MD5': createHash('md5').update(body).digest('base64') },
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return res.headers.get('etag')!
}

async function signAndPut(
  up: { key: string; uploadId: string },
  partNumber: number,
  body: Buffer,
  base = backend,
) {
  const signed = await call(
    'GET',
    `/s3/multipart/${enc(up.uploadId)}/${partNumber}${q(up.key)}`,
    {},
    base,
  )
  expect(signed.status, JSON.stringify(signed.body)).toBe(200)
  return putBytes(signed.body.url as string, body)
}

describe('reference backend: routes', () => {
  it('GET /health answers without a token', async () => {
    const res = await call('GET', '/health', { user: null })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('create → sign → batch → PUT → list → complete stores the exact bytes under the user prefix', async () => {
    const up = await create('clip é.mp4', {
      metadata: {
        name: 'clip é.mp4',
        relativePath: 'shoot/day 1/clip é.mp4',
        caption: 'plain ascii',
        ignored: null,
      },
      size: 10 * MiB + 1,
    })
    expect(up.bucket).toBe(bucket)
    expect(up.key).toMatch(/^users\/alice\/[0-9a-f-]{36}\/clip é\.mp4$/)
    expect(await openUploads(client, bucket)).toContainEqual({ key: up.key, uploadId: up.uploadId })

    const one = await call('GET', `/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`)
    expect(one.status).toBe(200)
    expect(one.body.expires).toBe(900)
    const url = new URL(one.body.url as string)
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900')
    // WHEN_REQUIRED checksums: no CRC32 of an empty body signed into the URL (Gotcha 1).
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([])

    const batch = await call(
      'GET',
      `/s3/multipart/${enc(up.uploadId)}/batch${q(up.key)}&partNumbers=2,3`,
    )
    expect(batch.status).toBe(200)
    expect(Object.keys(batch.body.presignedUrls as object).sort()).toEqual(['2', '3'])

    const data = randomBytes(10 * MiB + 1)
    const chunks = [
      data.subarray(0, 5 * MiB),
      data.subarray(5 * MiB, 10 * MiB),
      data.subarray(10 * MiB),
    ]
    const etags = [
      await putBytes(one.body.url as string, chunks[0]!),
      await putBytes(batch.body.presignedUrls['2'] as string, chunks[1]!),
      await putBytes(batch.body.presignedUrls['3'] as string, chunks[2]!),
    ]

    const listed = await call('GET', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(listed.status).toBe(200)
    expect(
      listed.body.map((p: { PartNumber: number; ETag: string; Size: number }) => [
        p.PartNumber,
        p.ETag,
        p.Size,
      ]),
    ).toEqual([
      [1, etags[0], 5 * MiB],
      [2, etags[1], 5 * MiB],
      [3, etags[2], 1],
    ])

    // Parts out of order: the backend sorts them for S3 (Uppy sends them sorted, others may not).
    const parts = [3, 1, 2].map((n) => ({ PartNumber: n, ETag: etags[n - 1] }))
    const done = await call('POST', `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, {
      body: { parts },
    })
    expect(done.status, JSON.stringify(done.body)).toBe(200)
    expect(done.body).toMatchObject({ key: up.key, bucket })
    expect(done.body.location).toContain(bucket)
    expect(await sha256OfObject(client, bucket, up.key)).toBe(
      createHash('sha256').update(data).digest('hex'),
    )
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: up.key }))
    expect(head.ContentType).toBe('video/mp4')
    expect(head.Metadata?.caption).toBe('plain ascii')
    // Non-ASCII metadata is RFC 2047-encoded as Companion stores it (Gotcha 6).
    expect(head.Metadata?.name).toBe(`=?UTF-8?B?${Buffer.from('clip é.mp4').toString('base64')}?=`)
    expect(head.Metadata).not.toHaveProperty('ignored')

    // A retried complete (first answer lost) gets the same answer, and nothing can be re-sent.
    const again = await call('POST', `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, {
      body: { parts },
    })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(done.body)
    const signAfter = await call('GET', `/s3/multipart/${enc(up.uploadId)}/4${q(up.key)}`)
    expect(signAfter.status).toBe(404)
    expect(signAfter.body.error).toMatch(/already complete/)
    // Listing a finished upload: 404 as for an upload gone (what Companion clients act on), told
    // apart by its code and text, which say to send complete again.
    const listAfter = await call('GET', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(listAfter.status).toBe(404)
    expect(listAfter.body.code).toBe('UploadCompleted')
    expect(listAfter.body.error).toMatch(/already complete; send complete again/)
    const afterList = await call('POST', `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, {
      body: { parts },
    })
    expect(afterList.body).toEqual(done.body)
    const abortAfter = await call('DELETE', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(abortAfter.status).toBe(409)
  })

  it('DELETE aborts: nothing is left on S3, a second abort is still {} and the upload is closed', async () => {
    const up = await create('to-cancel.mov', { type: 'video/quicktime' })
    await signAndPut(up, 1, randomBytes(1024))
    const res = await call('DELETE', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({})
    expect((await openUploads(client, bucket)).map((u) => u.uploadId)).not.toContain(up.uploadId)
    const again = await call('DELETE', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({})
    const list = await call('GET', `/s3/multipart/${enc(up.uploadId)}${q(up.key)}`)
    expect(list.status).toBe(404)
    expect(list.body.error).toMatch(/cancelled/)
  })

  it('GET /s3/params signs a POST form whose policy carries the key, type and size limit', async () => {
    const res = await call(
      'GET',
      `/s3/params?filename=${enc('poster.jpg')}&type=${enc('image/jpeg')}&metadata[name]=poster.jpg&metadata[size]=2048`,
    )
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toMatchObject({ method: 'POST', expires: 900 })
    expect(res.body.url).toContain(bucket)
    const fields = res.body.fields as Record<string, string>
    expect(fields.key).toMatch(/^users\/alice\/[0-9a-f-]{36}\/poster\.jpg$/)
    expect(fields['content-type']).toBe('image/jpeg')
    expect(fields['x-amz-meta-name']).toBe('poster.jpg')
    const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'))
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 2048])
    expect(policy.conditions).toContainEqual(['eq', '$Content-Type', 'image/jpeg'])
    const refused = await call('GET', `/s3/params?filename=a.txt&type=${enc('text/plain')}`)
    expect(refused.status).toBe(415)
  })

  it('answers Companion-style 400s for malformed requests and a JSON 404 for unknown routes', async () => {
    const up = await create('v.mp4')
    const id = enc(up.uploadId)
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/s3/multipart', { type: 'video/mp4' }, /"filename" field is required/],
      ['POST', '/s3/multipart', { filename: 'a.mp4' }, /content type must be a string/],
      ['GET', `/s3/multipart/${id}/1`, undefined, /object key must be passed/],
      ['GET', `/s3/multipart/${id}/0${q(up.key)}`, undefined, /between 1 and 10000/],
      ['GET', `/s3/multipart/${id}/abc${q(up.key)}`, undefined, /between 1 and 10000/],
      ['GET', `/s3/multipart/${id}/10001${q(up.key)}`, undefined, /between 1 and 10000/],
      ['GET', `/s3/multipart/${id}/batch${q(up.key)}`, undefined, /comma separated/],
      [
        'POST',
        `/s3/multipart/${id}/complete${q(up.key)}`,
        { parts: [{ PartNumber: 'x', ETag: 'e' }] },
        /`parts` must be an array/,
      ],
      ['POST', '/s3/multipart', { filename: 'a.mp4', type: 'video/mp4', size: -1 }, /whole number/],
    ]
    for (const [method, path, body, message] of cases) {
      const res = await call(method, path, { body })
      expect(res.status, `${method} ${path}`).toBe(400)
      expect(res.body.error, `${method} ${path}`).toMatch(message)
    }
    const unknown = await call('GET', '/nope')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toBe('Not Found')
  })

  it('sanitises filenames: no folders, no control or bidi characters, never empty', async () => {
    const odd = await create('../../etc/pass\u202ewd<>|?.mp4')
    expect(odd.key).toMatch(/^users\/alice\/[0-9a-f-]{36}\/passwd_\.mp4$/)
    const windows = await create('C:\\videos\\day 1\\take.mp4')
    expect(windows.key).toMatch(/\/take\.mp4$/)
    const dots = await create('...')
    expect(dots.key).toMatch(/\/file$/)
  })
})

describe('reference backend: authentication and ownership', () => {
  it('401 without a token or with a wrong one, on every route but /health', async () => {
    const up = await create('mine.mp4')
    const id = enc(up.uploadId)
    const routes: [string, string, unknown?][] = [
      ['POST', '/s3/multipart', { filename: 'a.mp4', type: 'video/mp4' }],
      ['GET', `/s3/multipart/${id}${q(up.key)}`],
      ['GET', `/s3/multipart/${id}/1${q(up.key)}`],
      ['GET', `/s3/multipart/${id}/batch${q(up.key)}&partNumbers=1`],
      [
        'POST',
        `/s3/multipart/${id}/complete${q(up.key)}`,
        { parts: [{ PartNumber: 1, ETag: 'x' }] },
      ],
      ['DELETE', `/s3/multipart/${id}${q(up.key)}`],
      ['GET', '/s3/params?filename=a.mp4&type=video/mp4'],
    ]
    for (const [method, path, body] of routes) {
      const variants: Record<string, string>[] = [
        {},
        { Authorization: 'Bearer not-a-valid-token-at-all' },
        { Authorization: ALICE_TOKEN },
      ]
      for (const headers of variants) {
        const res = await call(method, path, { user: null, body, headers })
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(typeof res.body.error).toBe('string')
        expect(res.headers.get('www-authenticate')).toBe('Bearer')
      }
    }
    // The refused abort above did nothing: the upload is still open.
    expect((await openUploads(client, bucket)).map((u) => u.uploadId)).toContain(up.uploadId)
  })

  it("403 when bob signs, lists, completes or aborts alice's upload (and with a key that is not the upload's)", async () => {
    const up = await create('alice.mp4')
    const etag = await signAndPut(up, 1, randomBytes(2048))
    const id = enc(up.uploadId)
    const attempts: [string, string, unknown?][] = [
      ['GET', `/s3/multipart/${id}/1${q(up.key)}`],
      ['GET', `/s3/multipart/${id}/batch${q(up.key)}&partNumbers=1,2`],
      ['GET', `/s3/multipart/${id}${q(up.key)}`],
      [
        'POST',
        `/s3/multipart/${id}/complete${q(up.key)}`,
        { parts: [{ PartNumber: 1, ETag: etag }] },
      ],
      ['DELETE', `/s3/multipart/${id}${q(up.key)}`],
    ]
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { user: 'bob', body })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error).toBe('You do not have access to this upload.')
    }
    // Alice's own uploadId with another of her keys, or a made-up uploadId: same 403.
    const other = await create('other.mp4')
    expect((await call('GET', `/s3/multipart/${id}/1${q(other.key)}`)).status).toBe(403)
    expect((await call('GET', `/s3/multipart/made-up/1${q(up.key)}`)).status).toBe(403)
    // Bob's attempts changed nothing: alice lists her part and completes.
    const list = await call('GET', `/s3/multipart/${id}${q(up.key)}`)
    expect(list.body).toHaveLength(1)
    const done = await call('POST', `/s3/multipart/${id}/complete${q(up.key)}`, {
      body: { parts: [{ PartNumber: 1, ETag: etag }] },
    })
    expect(done.status).toBe(200)
  })

  it('a restart of the backend keeps ownership (persisted in the data dir)', async () => {
    const up = await create('survives.mp4')
    const etag = await signAndPut(up, 1, randomBytes(4096))
    await backend.restart()
    const id = enc(up.uploadId)
    expect((await call('GET', `/s3/multipart/${id}${q(up.key)}`, { user: 'bob' })).status).toBe(403)
    const list = await call('GET', `/s3/multipart/${id}${q(up.key)}`)
    expect(list.status).toBe(200)
    expect(list.body[0].ETag).toBe(etag)
    const done = await call('POST', `/s3/multipart/${id}/complete${q(up.key)}`, {
      body: { parts: [{ PartNumber: 1, ETag: etag }] },
    })
    expect(done.status).toBe(200)
    await backend.restart()
    // The completion is persisted too: still no signing for it after another restart.
    expect((await call('GET', `/s3/multipart/${id}/2${q(up.key)}`)).status).toBe(404)
  })

  it('start-up compacts finished uploads past the retention window; open ones and recent answers survive', async () => {
    const own = await startTestBackend({ bucket, finishedRetentionDays: 7 })
    try {
      const path = (up: { uploadId: string }, rest = '') =>
        `/s3/multipart/${enc(up.uploadId)}${rest}`
      const completeIt = async (up: { key: string; uploadId: string }) => {
        const etag = await signAndPut(up, 1, randomBytes(1000), own)
        const res = await call(
          'POST',
          path(up, `/complete${q(up.key)}`),
          { body: { parts: [{ PartNumber: 1, ETag: etag }] } },
          own,
        )
        expect(res.status).toBe(200)
        return { etag, answer: res.body }
      }
      const open = await create('still-open.mp4', {}, 'alice', own)
      const openEtag = await signAndPut(open, 1, randomBytes(1000), own)
      const recent = await create('recent.mp4', {}, 'alice', own)
      const recentDone = await completeIt(recent)
      const old = await create('old.mp4', {}, 'alice', own)
      const oldDone = await completeIt(old)
      const cancelled = await create('old-cancel.mp4', {}, 'alice', own)
      expect((await call('DELETE', path(cancelled, q(cancelled.key)), {}, own)).status).toBe(200)

      // Age the records as time would: `old` and `cancelled` finished 8 days ago, the open
      // upload was created 100 days ago (open uploads are kept whatever their age).
      await own.stop()
      const file = join(own.dataDir, 'uploads.jsonl')
      const DAY = 86_400_000
      const aged = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((l) =>
          l.op !== 'create' && (l.uploadId === old.uploadId || l.uploadId === cancelled.uploadId)
            ? { ...l, at: Date.now() - 8 * DAY }
            : l.op === 'create' && l.uploadId === open.uploadId
              ? { ...l, createdAt: Date.now() - 100 * DAY }
              : l,
        )
      await writeFile(file, aged.map((l) => JSON.stringify(l) + '\n').join(''))
      await own.start()

      const ids = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { uploadId: string }).uploadId)
      expect(ids).toEqual([open.uploadId, recent.uploadId])
      expect(own.logs.find((l) => /retention window dropped/.test(l.msg))).toMatchObject({
        records: 2,
        days: 7,
      })

      // Once more on the compacted file: nothing more to drop, ownership intact.
      await own.restart()
      expect((await call('GET', path(open, q(open.key)), { user: 'bob' }, own)).status).toBe(403)
      const listed = await call('GET', path(open, q(open.key)), {}, own)
      expect(listed.status).toBe(200)
      expect(listed.body[0].ETag).toBe(openEtag)
      // Within the window, a repeated complete still answers what the first one did.
      const replay = await call(
        'POST',
        path(recent, `/complete${q(recent.key)}`),
        { body: { parts: [{ PartNumber: 1, ETag: recentDone.etag }] } },
        own,
      )
      expect(replay.status).toBe(200)
      expect(replay.body).toEqual(recentDone.answer)
      // Past it, the upload is forgotten: the same answer as for an id never issued.
      const forgotten = await call(
        'POST',
        path(old, `/complete${q(old.key)}`),
        { body: { parts: [{ PartNumber: 1, ETag: oldDone.etag }] } },
        own,
      )
      expect(forgotten.status).toBe(403)
      const finished = await call(
        'POST',
        path(open, `/complete${q(open.key)}`),
        { body: { parts: [{ PartNumber: 1, ETag: openEtag }] } },
        own,
      )
      expect(finished.status).toBe(200)
    } finally {
      await own.close()
    }
  })
})

describe('reference backend: limits', () => {
  it('accepts video/* and image/jpeg only', async () => {
    for (const type of ['video/mp4', 'video/quicktime', 'Video/MP4; codecs="avc1"', 'image/jpeg']) {
      await create('ok.bin', { type })
    }
    for (const type of ['text/plain', 'image/png', 'application/octet-stream', 'video', '']) {
      const res = await call('POST', '/s3/multipart', { body: { filename: 'x.mp4', type } })
      expect(res.status, type).toBe(415)
      expect(res.body.error).toMatch(/not accepted here/)
    }
  })

  it('refuses a declared size over the maximum, as `size` or as metadata.size', async () => {
    const big = 64 * MiB + 1
    for (const body of [
      { filename: 'big.mp4', type: 'video/mp4', size: big },
      { filename: 'big.mp4', type: 'video/mp4', metadata: { size: String(big) } },
    ]) {
      const res = await call('POST', '/s3/multipart', { body })
      expect(res.status).toBe(413)
      expect(res.body.error).toMatch(/largest accepted/)
    }
  })

  it('refuses part numbers that only a file over its declared size could reach', async () => {
    const up = await create('six.mp4', { size: 6 * MiB })
    const id = enc(up.uploadId)
    expect((await call('GET', `/s3/multipart/${id}/2${q(up.key)}`)).status).toBe(200)
    const three = await call('GET', `/s3/multipart/${id}/3${q(up.key)}`)
    expect(three.status).toBe(413)
    expect(three.body.error).toMatch(/Part 3/)
    expect(
      (await call('GET', `/s3/multipart/${id}/batch${q(up.key)}&partNumbers=1,2,3`)).status,
    ).toBe(413)
  })

  it('at complete, parts adding up past the declared size abort the upload', async () => {
    const up = await create('liar.mp4', { size: 1000 })
    const etag = await signAndPut(up, 1, randomBytes(1001))
    const res = await call('POST', `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, {
      body: { parts: [{ PartNumber: 1, ETag: etag }] },
    })
    expect(res.status).toBe(413)
    expect(res.body.error).toMatch(/1001 bytes.*limit of 1000/)
    expect((await openUploads(client, bucket)).map((u) => u.uploadId)).not.toContain(up.uploadId)
    expect((await call('GET', `/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`)).status).toBe(404)
  })

  it('a plain Companion client (no size declared) is held to the maximum file size', async () => {
    const small = await startTestBackend({ bucket, maxFileSize: 6 * MiB })
    try {
      const up = await create('plain.mp4', {}, 'alice', small)
      const e1 = await signAndPut(up, 1, randomBytes(5 * MiB), small)
      const e2 = await signAndPut(up, 2, randomBytes(2 * MiB), small)
      const third = await call('GET', `/s3/multipart/${enc(up.uploadId)}/3${q(up.key)}`, {}, small)
      expect(third.status).toBe(413)
      const res = await call(
        'POST',
        `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`,
        {
          body: {
            parts: [
              { PartNumber: 1, ETag: e1 },
              { PartNumber: 2, ETag: e2 },
            ],
          },
        },
        small,
      )
      expect(res.status).toBe(413)
      expect((await openUploads(client, bucket)).map((u) => u.uploadId)).not.toContain(up.uploadId)
    } finally {
      await small.close()
    }
  })

  it('complete assembles the parts it listed: a part re-sent bigger between the listing and Complete cannot pass the size limit', async () => {
    // The backend reaches S3 through a gate that can hold its CompleteMultipartUpload: the test
    // re-sends the part (same still-valid URL, more bytes) exactly between the two S3 calls.
    const gate = new GateProxy(testServer().endpoint)
    const gated = await startTestBackend({ bucket, s3Endpoint: await gate.start() })
    const isComplete = (method: string, url: URL) =>
      method === 'POST' && url.searchParams.has('uploadId')
    try {
      const up = await create('swap.mp4', { size: 1000 }, 'alice', gated)
      const path = `/s3/multipart/${enc(up.uploadId)}`
      const signed = await call('GET', `${path}/1${q(up.key)}`, {}, gated)
      const url = signed.body.url as string
      const small = await putBytes(url, randomBytes(1000))
      const big = randomBytes(3000)
      const bigEtag = `"${createHash('md5').update(big).digest('hex')}"`

      // 1. The client names the bigger part's ETag (it knows it beforehand) and re-sends the
      //    bigger part after the listing, if the backend gets as far as Complete.
      const held = gate.hold(isComplete)
      const answer = call(
        'POST',
        `${path}/complete${q(up.key)}`,
        { body: { parts: [{ PartNumber: 1, ETag: bigEtag }] } },
        gated,
      )
      const first = await Promise.race([
        held.reached.then(() => 'held' as const),
        answer.then(() => 'answered' as const),
      ])
      if (first === 'held') await putBytes(url, big)
      held.release()
      const res = await answer
      expect(res.status, JSON.stringify(res.body)).toBe(409)
      expect(res.body.code).toBe('PartChanged')
      expect(res.body.error).toMatch(/Part 1 on the storage is not the one named here/)
      await expect(
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: up.key })),
      ).rejects.toMatchObject({ name: 'NotFound' })

      // 2. The client names the listed part, and swaps in the bigger one in the same window:
      //    S3 gets the listed ETag, which no longer matches, and refuses.
      const held2 = gate.hold(isComplete)
      const answer2 = call(
        'POST',
        `${path}/complete${q(up.key)}`,
        { body: { parts: [{ PartNumber: 1, ETag: small }] } },
        gated,
      )
      await held2.reached
      await putBytes(url, big)
      held2.release()
      const res2 = await answer2
      expect(res2.status, JSON.stringify(res2.body)).toBe(400)
      expect(res2.body.code).toBe('InvalidPart')
      await expect(
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: up.key })),
      ).rejects.toMatchObject({ name: 'NotFound' })

      // 3. Named openly, the bigger part is seen in the listing: over the limit, cancelled.
      const res3 = await call(
        'POST',
        `${path}/complete${q(up.key)}`,
        { body: { parts: [{ PartNumber: 1, ETag: bigEtag }] } },
        gated,
      )
      expect(res3.status).toBe(413)
      expect((await openUploads(client, bucket)).map((u) => u.uploadId)).not.toContain(up.uploadId)
    } finally {
      await gated.close()
      await gate.stop()
    }
  })

  it('complete names a part that is not there, or twice with different ETags: 400 in plain words', async () => {
    const up = await create('gaps.mp4')
    const etag = await signAndPut(up, 1, randomBytes(2048))
    const path = `/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`
    const missing = await call('POST', path, {
      body: {
        parts: [
          { PartNumber: 1, ETag: etag },
          { PartNumber: 2, ETag: etag },
        ],
      },
    })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatch(/Part 2 is not on the storage/)
    const twice = await call('POST', path, {
      body: {
        parts: [
          { PartNumber: 1, ETag: etag },
          { PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' },
        ],
      },
    })
    expect(twice.status).toBe(400)
    expect(twice.body.error).toMatch(/Part 1 is listed twice/)
    // Unquoted and upper-case is the same ETag: the upload completes.
    const done = await call('POST', path, {
      body: { parts: [{ PartNumber: 1, ETag: etag.replace(/"/g, '').toUpperCase() }] },
    })
    expect(done.status, JSON.stringify(done.body)).toBe(200)
  })
})

describe('reference backend: complete after S3 already completed', () => {
  // Swift still lists, and completes again, an upload it has completed; AWS answers NoSuchUpload
  // to both. A proxy gives those answers, as AWS would, once the upload was completed on S3.
  let proxy: S3Proxy
  let viaProxy: TestBackend
  beforeAll(async () => {
    proxy = new S3Proxy(testServer().endpoint)
    viaProxy = await startTestBackend({ bucket, s3Endpoint: await proxy.start() })
  })
  afterAll(async () => {
    await viaProxy?.close()
    await proxy?.stop()
  })

  /** An upload with two parts, completed on S3 behind the backend's back. */
  async function completedBehindTheBacksOf(name: string) {
    const up = await create(name, {}, 'alice', viaProxy)
    const data = randomBytes(5 * MiB + 100)
    const etags = [
      await signAndPut(up, 1, data.subarray(0, 5 * MiB), viaProxy),
      await signAndPut(up, 2, data.subarray(5 * MiB), viaProxy),
    ]
    const parts = etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }))
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: up.key,
        UploadId: up.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    )
    return { up, parts, data, etag: done.ETag! }
  }

  const noSuchUpload = (uploadId: string, methods: string[]) => {
    proxy.decide = (info) =>
      info.uploadId === uploadId && methods.includes(info.method)
        ? { kind: 'status', status: 404, code: 'NoSuchUpload', message: 'gone' }
        : { kind: 'pass' }
  }

  it.each([
    ['ListParts', ['GET', 'POST'], 404, 'NoSuchUpload'],
    // The listing still works there, so parts that are not the listed ones are refused first.
    [
      'CompleteMultipartUpload (the SDK retrying a Complete whose answer was lost)',
      ['POST'],
      409,
      'PartChanged',
    ],
  ])(
    'NoSuchUpload at %s: the object with the ETag of the parts named is recorded as completed',
    async (_, methods, wrongStatus, wrongCode) => {
      const { up, parts, data, etag } = await completedBehindTheBacksOf(
        `lost-${methods.length}.mp4`,
      )
      noSuchUpload(up.uploadId, methods)
      try {
        const path = `/s3/multipart/${enc(up.uploadId)}`
        // Parts that are not the object's: not recorded as completed (gone, as S3 says).
        const wrong = await call(
          'POST',
          `${path}/complete${q(up.key)}`,
          { body: { parts: [parts[0], { PartNumber: 2, ETag: parts[0]!.ETag }] } },
          viaProxy,
        )
        expect(wrong.status).toBe(wrongStatus)
        expect(wrong.body.code).toBe(wrongCode)
        expect((await call('GET', `${path}/3${q(up.key)}`, {}, viaProxy)).status).toBe(200)

        const res = await call(
          'POST',
          `${path}/complete${q(up.key)}`,
          { body: { parts } },
          viaProxy,
        )
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        expect(res.body).toMatchObject({ key: up.key, bucket, etag })
        expect(res.body.location).toContain(`/${bucket}/`)
        expect(await sha256OfObject(client, bucket, up.key)).toBe(
          createHash('sha256').update(data).digest('hex'),
        )
        // Recorded: closed to signing, and the next complete replays the answer.
        const sign = await call('GET', `${path}/3${q(up.key)}`, {}, viaProxy)
        expect(sign.body.code).toBe('UploadCompleted')
        proxy.decide = () => ({ kind: 'pass' })
        const again = await call(
          'POST',
          `${path}/complete${q(up.key)}`,
          { body: { parts } },
          viaProxy,
        )
        expect(again.body).toEqual(res.body)
      } finally {
        proxy.decide = () => ({ kind: 'pass' })
      }
    },
  )
})

describe('reference backend: thumbnails', () => {
  it('metadata.thumbnailFor puts the JPEG beside a video the caller owns', async () => {
    const video = await create('holiday.mp4')
    const thumb = await create('poster.jpg', {
      type: 'image/jpeg',
      metadata: { thumbnailFor: video.key },
    })
    expect(thumb.key).toBe(video.key.replace(/holiday\.mp4$/, 'thumbnail.jpg'))
    const jpeg = randomBytes(3000)
    const etag = await signAndPut(thumb, 1, jpeg)
    const done = await call(
      'POST',
      `/s3/multipart/${enc(thumb.uploadId)}/complete${q(thumb.key)}`,
      {
        body: { parts: [{ PartNumber: 1, ETag: etag }] },
      },
    )
    expect(done.status).toBe(200)
    expect(await sha256OfObject(client, bucket, thumb.key)).toBe(
      createHash('sha256').update(jpeg).digest('hex'),
    )

    // The engine's spelling: `thumbnail-for`, RFC 2047-encoded when the key is not ASCII.
    const accented = await create('fête.mp4')
    const encoded = `=?UTF-8?B?${Buffer.from(accented.key).toString('base64')}?=`
    const engineStyle = await create('thumbnail.jpg', {
      type: 'image/jpeg',
      metadata: { 'thumbnail-for': encoded },
    })
    expect(engineStyle.key).toBe(accented.key.replace(/fête\.mp4$/, 'thumbnail.jpg'))

    const bobs = await call('POST', '/s3/multipart', {
      user: 'bob',
      body: { filename: 'p.jpg', type: 'image/jpeg', metadata: { thumbnailFor: video.key } },
    })
    expect(bobs.status).toBe(403)
    const notJpeg = await call('POST', '/s3/multipart', {
      body: { filename: 'p.mp4', type: 'video/mp4', metadata: { thumbnailFor: video.key } },
    })
    expect(notJpeg.status).toBe(400)
    const unknown = await call('POST', '/s3/multipart', {
      body: {
        filename: 'p.jpg',
        type: 'image/jpeg',
        metadata: { thumbnailFor: 'users/alice/x/y.mp4' },
      },
    })
    expect(unknown.status).toBe(403)
  })
})

describe('reference backend: CORS, logs, shutdown', () => {
  it('answers preflights and exposes X-Request-Id to browser clients', async () => {
    const pre = await fetch(backend.url + '/s3/multipart', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
    const denied = await call('GET', '/s3/multipart/x/1?key=y', {
      user: null,
      headers: { Origin: 'https://app.example' },
    })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('access-control-allow-origin')).toBe('*')
    expect(denied.headers.get('access-control-expose-headers')).toBe('X-Request-Id')
  })

  it('an origin list lets listed origins in and leaves others without CORS headers', async () => {
    const strict = await startTestBackend({ bucket, corsOrigins: ['https://app.example'] })
    try {
      const ok = await call(
        'GET',
        '/health',
        { user: null, headers: { Origin: 'https://app.example' } },
        strict,
      )
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
      const other = await call(
        'GET',
        '/health',
        { user: null, headers: { Origin: 'https://evil.example' } },
        strict,
      )
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await strict.close()
    }
  })

  it('logs every request without tokens or signatures', async () => {
    const up = await create('logged.mp4')
    await call('GET', `/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`)
    await call('GET', `/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`, { user: 'bob' })
    const text = JSON.stringify(backend.logs)
    expect(text).not.toContain(ALICE_TOKEN)
    expect(text).not.toContain(BOB_TOKEN)
    expect(text).not.toMatch(/X-Amz-Signature|X-Amz-Credential|Bearer/i)
    const signs = backend.logs.filter((l) => l.route === 'sign' && l.uploadId === up.uploadId)
    expect(signs.map((l) => [l.user, l.status])).toEqual([
      ['alice', 200],
      ['bob', 403],
    ])
  })

  it('close() lets a request in flight finish, then refuses new connections', async () => {
    const own = await startTestBackend({ bucket })
    const body = JSON.stringify({ filename: 'late.mp4', type: 'video/mp4' })
    let closing: Promise<void> | undefined
    /** Bounded poll: the server has parsed the headers and is waiting for the body. */
    const untilInFlight = async () => {
      for (const end = Date.now() + 5000; own.inFlight() === 0;) {
        if (Date.now() > end) throw new Error('the request never reached the backend')
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    const answer = new Promise<{ status: number; text: string }>((resolveAnswer, reject) => {
      const req = request(own.url + '/s3/multipart', {
        method: 'POST',
        headers: {
          ...own.auth(),
          'Content-Type': 'application/json',
          'Content-Length': body.length,
        },
      })
      req.on('response', (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, text }))
      })
      req.on('error', reject)
      // Half the body now; the rest only once shutdown has begun.
      req.write(body.slice(0, 10))
      void untilInFlight().then(() => {
        closing = own.close()
        req.end(body.slice(10))
      }, reject)
    })
    const res = await answer
    expect(res.status, res.text).toBe(200)
    expect(JSON.parse(res.text).key).toMatch(/\/late\.mp4$/)
    await closing
    await expect(fetch(own.url + '/health')).rejects.toThrow()
    expect(own.logs.map((l) => l.msg)).toContain('stopped')
  })

  it('`npm run backend` (src/backend/main.ts) reads its env, serves, and stops on SIGTERM with exit 0', async () => {
    const s = testServer()
    const dataDir = await mkdtemp(resolve(tmpdir(), 'upreel-backend-proc-'))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(__dirname, '../../src/backend/main.ts')],
      {
        cwd: resolve(__dirname, '../..'),
        env: {
          ...process.env,
          UPREEL_BACKEND_PORT: '0',
          UPREEL_BACKEND_BUCKET: bucket,
          UPREEL_BACKEND_TOKENS: `${ALICE_TOKEN}=alice`,
          UPREEL_BACKEND_DATA_DIR: dataDir,
          UPREEL_BACKEND_URL_EXPIRES: '60',
          S3_ENDPOINT: s.endpoint,
          AWS_REGION: s.region,
          AWS_ACCESS_KEY_ID: s.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const url = await new Promise<string>((resolveUrl, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString()
        const m = /"msg":"listening","url":"([^"]+)"/.exec(stdout)
        if (m) resolveUrl(m[1]!)
      })
      void exited.then(() => reject(new Error(`backend exited: ${stderr}`)))
    })
    try {
      expect((await fetch(url + '/health')).status).toBe(200)
      const res = await fetch(url + '/s3/multipart', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ALICE_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ filename: 'proc.mp4', type: 'video/mp4' }),
      })
      expect(res.status).toBe(200)
      const up = (await res.json()) as { key: string; uploadId: string }
      const signed = (await (
        await fetch(`${url}/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`, {
          headers: { Authorization: `Bearer ${ALICE_TOKEN}` },
        })
      ).json()) as { expires: number }
      expect(signed.expires).toBe(60)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited, stderr).toBe(0)
    expect(stdout).toContain('"msg":"stopped"')
    expect(stdout).not.toContain(ALICE_TOKEN)
    expect(stdout).not.toMatch(/X-Amz-Signature/i)
    await rm(dataDir, { recursive: true, force: true })
  })
})
