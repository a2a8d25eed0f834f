/** How tests reach the S3 server that global-setup started (or the one S3_TEST_ENDPOINT names). */
export interface S3TestServer {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
  /** true when S3_TEST_ENDPOINT pointed at a server we do not control (no stop/restart tests). */
  external: boolean
  dataDir?: string
  startScript?: string
  stopScript?: string
  ports?: Record<string, string>
}
