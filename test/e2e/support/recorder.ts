/**
 * A server on another origin that records every request it gets (method, path, headers) and
 * refuses it (401, as an upload server that does not know the caller): the "somewhere else" a
 * hostile page would like Upreel's saved credentials sent to.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Recorded {
  method: string
  path: string
  headers: IncomingHttpHeaders
}

export interface Recorder {
  /** `http://127.0.0.1:<port>` */
  origin: string
  requests: Recorded[]
  close(): Promise<void>
}

export async function startRecorder(): Promise<Recorder> {
  const requests: Recorded[] = []
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    req.resume()
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Who are you?"}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
