/** Per-file e2e context: one Chromium, one S3 bucket, a throwaway dir per test. */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { freshBucket, testClient, testServer } from '../../support/s3'
import { AppHarness, type LaunchOptions } from './app'
import { launchChromium } from './browser'

export interface E2E {
  browser: Browser
  client: S3Client
  bucket: string
  /** Launches the app on a fresh data dir with direct-S3 settings for the test bucket. */
  launch(opts?: Partial<LaunchOptions> & { direct?: boolean }): Promise<AppHarness>
  /** A throwaway folder for this test's videos. */
  tempDir(prefix?: string): Promise<string>
  /** All object keys in the test bucket (any prefix). */
  keys(prefix?: string): Promise<string[]>
  head(key: string): Promise<{ size: number; contentType?: string }>
}

export function useE2E(): E2E {
  const dirs: string[] = []
  const apps: AppHarness[] = []
  const ctx = {} as E2E

  beforeAll(async () => {
    ctx.browser = await launchChromium()
    ctx.client = testClient()
    ctx.bucket = await freshBucket(ctx.client, 'upreel-e2e')
  })

  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close()
    if (process.env.UPREEL_KEEP_E2E !== '1') {
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
    }
  })

  afterAll(async () => {
    await ctx.browser?.close()
    ctx.client?.destroy()
  })

  ctx.tempDir = async (prefix = 'upreel-e2e-') => {
    const d = await mkdtemp(join(tmpdir(), prefix))
    dirs.push(d)
    return d
  }

  ctx.launch = async (opts = {}) => {
    const s3 = testServer()
    const { direct = true, ...rest } = opts
    const dataDir = rest.dataDir ?? join(await ctx.tempDir('upreel-data-'), 'Upreel')
    const settings = direct
      ? {
          ...rest.settings,
          s3: {
            bucket: ctx.bucket,
            endpoint: s3.endpoint,
            region: s3.region,
            forcePathStyle: true,
            accessKeyId: s3.accessKeyId,
            ...rest.settings?.s3,
          },
        }
      : rest.settings
    const app = await AppHarness.launch(ctx.browser, {
      ...rest,
      dataDir,
      settings,
      secrets: direct ? { secretAccessKey: s3.secretAccessKey, ...rest.secrets } : rest.secrets,
    })
    apps.push(app)
    return app
  }

  ctx.keys = async (prefix) => {
    const out: string[] = []
    let token: string | undefined
    do {
      const res = await ctx.client.send(
        new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, ContinuationToken: token }),
      )
      for (const o of res.Contents ?? []) out.push(o.Key!)
      token = res.IsTruncated ? res.NextContinuationToken : undefined
    } while (token)
    return out
  }

  ctx.head = async (key) => {
    const r = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }))
    return { size: r.ContentLength ?? -1, contentType: r.ContentType }
  }

  return ctx
}
