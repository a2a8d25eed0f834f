/**
 * A TLS terminator for the bench's HTTPS rows: accepts TLS on loopback and passes the plain bytes
 * to the S3 server (the Host header, so the signatures, cross unchanged), the way a load balancer
 * in front of an S3-compatible server would. Runs in its own process so its CPU is neither the
 * client's nor the bench's: the parent asks for it over IPC ('cpu' → { user, system } in µs).
 * Usage (forked): tls-terminator.ts <key.pem> <cert.pem> <target host:port>
 */
import { readFileSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { createServer } from 'node:tls'

const [keyFile, certFile, target] = process.argv.slice(2)
const [host, port] = target!.split(':')

const server = createServer(
  { key: readFileSync(keyFile!), cert: readFileSync(certFile!) },
  (client) => {
    const upstream = connect(Number(port), host)
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close)
    upstream.on('error', close)
    client.pipe(upstream)
    upstream.pipe(client)
  },
)

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port })
})

process.on('message', (m) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() })
})
process.on('disconnect', () => process.exit(0))
