/**
 * Empties and deletes a bucket on the test server, so suites that upload hundreds of MiB (faults,
 * crash loop, bad inputs) and the benchmark (tens of GiB) do not fill the disk the shared server
 * lives on. Plain Node, no vitest. One DeleteObject per key: Swift wants Content-MD5 on a
 * multi-object delete, which WHEN_REQUIRED clients do not send.
 */
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3'

/** Deletes every object and open upload; with `keepBucket`, the bucket itself stays. */
export async function emptyBucket(
  client: S3Client,
  bucket: string,
  opts: { keepBucket?: boolean } = {},
): Promise<void> {
  for (;;) {
    const uploads = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 1000 }),
    )
    for (const u of uploads.Uploads ?? []) {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
      )
    }
    if (!uploads.IsTruncated) break
  }
  for (;;) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }))
    const keys = (listed.Contents ?? []).map((o) => o.Key!)
    if (keys.length === 0) break
    for (let i = 0; i < keys.length; i += 16) {
      await Promise.all(
        keys
          .slice(i, i + 16)
          .map((Key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
      )
    }
  }
  if (!opts.keepBucket) await client.send(new DeleteBucketCommand({ Bucket: bucket }))
}
