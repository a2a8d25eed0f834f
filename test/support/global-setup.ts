/**
 * vitest globalSetup for the integration tests: starts the S3 test server (./s3-server.ts) and
 * hands its connection to tests through provide/inject (see ./s3.ts).
 */
import 'vitest'
import type { TestProject } from 'vitest/node'
import type { S3TestServer } from './s3-env'
import { startS3, stopS3 } from './s3-server'

export async function setup(project: TestProject): Promise<void> {
  project.provide('s3', await startS3())
}

export async function teardown(): Promise<void> {
  await stopS3()
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestServer
  }
}
