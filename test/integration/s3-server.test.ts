import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { freshBucket, testClient } from '../support/s3'

describe('the test S3 server', () => {
  it('stores and describes an object (the setup every other integration test relies on)', async () => {
    const client = testClient()
    const bucket = await freshBucket(client)
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello' }))
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'hello.txt' }))
    expect(head.ContentLength).toBe(5)
    expect(head.ETag).toBe('"5d41402abc4b2a76b9719d911017c592"')
  })
})
