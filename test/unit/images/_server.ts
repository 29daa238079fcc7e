/** A fake registry on 127.0.0.1 (got's with-server style): each test gets its own server. */
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {tempDir} from '../../helpers/tmp.js'

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void

export interface FakeServer {
  url: string
  host: string
  requests: Array<{method: string; path: string; headers: IncomingMessage['headers']}>
  close: () => Promise<void>
}

export async function fakeServer(handler: Handler): Promise<FakeServer> {
  return serve('http', (listener) => createServer(listener), handler)
}

/** Starts `create`'s server on 127.0.0.1, recording every request before `handler` answers it. */
async function serve(scheme: 'http' | 'https', create: (listener: RequestListener) => Server, handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = []
  const server = create((req, res) => {
    const url = new URL(req.url ?? '/', `${scheme}://127.0.0.1`)
    requests.push({method: req.method ?? '', path: url.pathname + url.search, headers: req.headers})
    handler(req, res, url)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `${scheme}://127.0.0.1:${port}`,
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

/**
 * An HTTPS server on 127.0.0.1 with a fresh self-signed certificate (made by openssl), which no CA
 * vouches for: what a registry with a private CA looks like to a client that does not trust it.
 */
export async function selfSignedServer(handler: Handler): Promise<FakeServer> {
  const dir = tempDir('shopsys-ci-tls-')
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], {stdio: 'ignore'})
    const tls = {key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem'))}
    return await serve('https', (listener) => createHttpsServer(tls, listener), handler)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
