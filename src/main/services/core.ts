/**
 * The engine-side functions the services call, gathered in one interface so that the composition
 * root passes the real ones (./core-wiring.ts) and nothing else in services/ imports core directly
 * except for types. It is NOT a seam for a fake engine in the app or e2e: both use core-wiring.
 */
import type { EngineApi, TestConnectionResult } from './core-types'
import type { AddFileInput } from '../core/engine/types'
import type { EditableSettings } from '../../preload/contract'
import type { Destination, S3EnvSettings } from './destination-config'

export interface EngineInput {
  destination: Destination
  settings: EditableSettings
  /** Journal, locks, history (shared with the CLI). */
  stateDir: string
  /** Probe/thumbnail cache (the CLI uses {stateDir}/media-cache too). */
  cacheDir: string
  /** The app session's headers (cookies) for a backend or hook URL, asked per request. */
  sessionHeaders?: (url: string) => Promise<Record<string, string>>
  log?: (message: string) => void
}

export interface ScanResult {
  files: AddFileInput[]
  skipped: { path: string; reason: string }[]
  /** Files given directly that are not videos, with the probe's reason. */
  refused: { path: string; reason: string }[]
}

export interface CoreFunctions {
  createEngine(input: EngineInput): Promise<EngineApi>
  /** `cacheDir`: the engine's media cache (its probes are reused when the files upload). */
  scanInputs(
    paths: string[],
    opts: { allFileTypes: boolean; cacheDir: string },
  ): Promise<ScanResult>
  testConnection(destination: Destination): Promise<TestConnectionResult>
  presignGetUrl(destination: Destination, key: string, hours: number): Promise<string>
  destinationFromEnv(env: NodeJS.ProcessEnv): Destination | undefined
  s3SettingsFromEnv(env: NodeJS.ProcessEnv): S3EnvSettings
}
