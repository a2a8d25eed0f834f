import { S3Client } from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'

export interface S3ConnectionConfig {
  /** S3-compatible endpoint (MinIO, R2, Swift…); omit for AWS. */
  endpoint?: string
  region: string
  forcePathStyle?: boolean
  /** Explicit credentials; otherwise the AWS default chain (env, AWS_PROFILE, shared files, SSO…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Max sockets per host: at least the engine's part slots plus a few control requests. */
  maxSockets?: number
}

/**
 * One place that builds S3 clients, so every client gets the settings S3-compatible servers need:
 * - `requestChecksumCalculation: 'WHEN_REQUIRED'`: the SDK's default flexible checksums send
 *   `aws-chunked` stream bodies that Swift (and some other S3-compatibles) refuse with 501, and a
 *   default client presigns a CRC32 of the empty body into part URLs. Integrity comes from
 *   Content-MD5 and ETags instead (see README, "Integrity").
 * - `maxAttempts: 1`: the engine retries by its own policy (jitter, reset when bytes move, plain
 *   messages), and SDK retries underneath it would multiply attempts and hide them from progress.
 */
export function createS3Client(config: S3ConnectionConfig): S3Client {
  const maxSockets = config.maxSockets ?? 32
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 10_000,
      requestTimeout: 60_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    }),
  })
}
