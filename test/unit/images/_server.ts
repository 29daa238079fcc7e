/** A fake registry on 127.0.0.1 (got's with-server style): each test gets its own server. */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void

export interface FakeServer {
  url: string
  host: string
  requests: Array<{method: string; path: string; headers: IncomingMessage['headers']}>
  close: () => Promise<void>
}

export async function fakeServer(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({method: req.method ?? '', path: url.pathname + url.search, headers: req.headers})
    handler(req, res, url)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
