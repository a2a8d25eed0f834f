import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { inject } from 'vitest'
import { createS3Client } from '../../src/main/core/s3/client'
import type { S3TestServer } from './s3-env'

/** The S3 server global-setup started for this run. */
export function testServer(): S3TestServer {
  return inject('s3')
}

export function testClient(server = testServer()): S3Client {
  return createS3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  })
}

/** A fresh bucket per test file keeps files independent of each other's leftovers. */
export async function freshBucket(client: S3Client, prefix = 'upreel-test'): Promise<string> {
  const bucket = `${prefix}-${randomUUID().slice(0, 8)}`
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  return bucket
}

export async function sha256OfObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const hash = createHash('sha256')
  for await (const chunk of res.Body as Readable) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Multipart uploads still open on the server (all pages). */
export async function openUploads(client: S3Client, bucket: string, prefix?: string) {
  const out: { key: string; uploadId: string }[] = []
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  for (;;) {
    const res = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
        MaxUploads: 1000,
      }),
    )
    for (const u of res.Uploads ?? []) out.push({ key: u.Key!, uploadId: u.UploadId! })
    if (!res.IsTruncated) return out
    keyMarker = res.NextKeyMarker
    uploadIdMarker = res.NextUploadIdMarker
  }
}
