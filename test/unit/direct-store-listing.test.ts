/**
 * DirectS3Store's paginated listings (ListParts, ListMultipartUploads) against a stubbed
 * S3Client that answers scripted pages: every page is read with the right markers, and a server
 * that says "truncated" without a next marker is followed from the last item listed, never in
 * an endless loop.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { UploadError } from '../../src/main/core/errors'
import { DirectS3Store } from '../../src/main/core/s3/direct-store'

type Page = Record<string, unknown>

/** A client whose send() answers the pages in order and records each command's input. */
function stubClient(pages: Page[]) {
  const inputs: Record<string, unknown>[] = []
  const client = {
    config: { systemClockOffset: 0 },
    async send(cmd: { input: Record<string, unknown> }) {
      inputs.push(cmd.input)
      // A loop that never ends would otherwise hang the test: fail it instead.
      if (inputs.length > 20) throw new Error('listed more than 20 pages: the loop does not end')
      return pages[Math.min(inputs.length - 1, pages.length - 1)]
    },
    destroy() {},
  } as unknown as S3Client
  return { client, inputs }
}

const store = (client: S3Client) =>
  new DirectS3Store({ bucket: 'b', region: 'us-east-1', endpoint: 'http://s3.test' }, client)
const target = { key: 'videos/a.mp4', uploadId: 'u-1' }
const part = (n: number) => ({ PartNumber: n, ETag: `"${String(n).padStart(32, '0')}"`, Size: 5 })
const upload = (key: string, id: string) => ({ Key: key, UploadId: id, Initiated: new Date(0) })

describe('ListParts pagination', () => {
  it('reads every page, passing each NextPartNumberMarker on', async () => {
    const { client, inputs } = stubClient([
      { Parts: [part(1), part(2)], IsTruncated: true, NextPartNumberMarker: '2' },
      { Parts: [part(3), part(4)], IsTruncated: true, NextPartNumberMarker: '4' },
      { Parts: [part(5)], IsTruncated: false },
    ])
    const parts = await store(client).listParts(target)
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5])
    expect(parts[0]).toEqual({ partNumber: 1, etag: '0'.repeat(31) + '1', size: 5 })
    expect(inputs.map((i) => i.PartNumberMarker)).toEqual([undefined, '2', '4'])
    expect(inputs.every((i) => i.UploadId === 'u-1' && i.Key === 'videos/a.mp4')).toBe(true)
  })

  it('"truncated" without a next marker: goes on from the last part listed', async () => {
    const { client, inputs } = stubClient([
      { Parts: [part(1), part(2)], IsTruncated: true },
      { Parts: [part(3)], IsTruncated: false },
    ])
    const parts = await store(client).listParts(target)
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3])
    expect(inputs.map((i) => i.PartNumberMarker)).toEqual([undefined, '2'])
  })

  it('"truncated" with nothing to go on (an empty page, a marker that does not move): a clear error', async () => {
    for (const pages of [
      [{ Parts: [], IsTruncated: true }],
      [{ Parts: [part(1)], IsTruncated: true, NextPartNumberMarker: '1' }],
    ]) {
      const { client } = stubClient(pages)
      const e = await store(client)
        .listParts(target)
        .catch((err: unknown) => err)
      expect(e).toBeInstanceOf(UploadError)
      expect(e).toMatchObject({ code: 'ListingStuck', operation: 'ListParts', retryable: false })
    }
  })
})

describe('ListMultipartUploads pagination', () => {
  it('reads every page, passing NextKeyMarker and NextUploadIdMarker on', async () => {
    const { client, inputs } = stubClient([
      {
        Uploads: [upload('videos/a', '1'), upload('videos/a', '2')],
        IsTruncated: true,
        NextKeyMarker: 'videos/a',
        NextUploadIdMarker: '2',
      },
      { Uploads: [upload('videos/b', '3')], IsTruncated: false },
    ])
    const listed = await store(client).listMultipartUploads('videos/')
    expect(listed.map((u) => u.uploadId)).toEqual(['1', '2', '3'])
    expect(listed[2]).toEqual({ key: 'videos/b', uploadId: '3', initiated: new Date(0) })
    expect(inputs.map((i) => [i.Prefix, i.KeyMarker, i.UploadIdMarker])).toEqual([
      ['videos/', undefined, undefined],
      ['videos/', 'videos/a', '2'],
    ])
  })

  it('"truncated" without next markers: goes on from the last upload listed instead of starting over', async () => {
    const { client, inputs } = stubClient([
      { Uploads: [upload('videos/a', '1'), upload('videos/b', '2')], IsTruncated: true },
      { Uploads: [upload('videos/c', '3')], IsTruncated: false },
    ])
    const listed = await store(client).listMultipartUploads('videos/')
    expect(listed.map((u) => u.uploadId)).toEqual(['1', '2', '3'])
    expect(inputs.map((i) => [i.KeyMarker, i.UploadIdMarker])).toEqual([
      [undefined, undefined],
      ['videos/b', '2'],
    ])
  })

  it('"truncated" with nothing to go on: a clear error, not an endless loop', async () => {
    for (const pages of [
      [{ Uploads: [], IsTruncated: true }],
      [
        {
          Uploads: [upload('videos/a', '1')],
          IsTruncated: true,
          NextKeyMarker: 'videos/a',
          NextUploadIdMarker: '1',
        },
      ],
    ]) {
      const { client } = stubClient(pages)
      await expect(store(client).listMultipartUploads('videos/')).rejects.toMatchObject({
        code: 'ListingStuck',
        operation: 'ListMultipartUploads',
      })
    }
  })
})
