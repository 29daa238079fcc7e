/**
 * HTTP/2 to the API server, as kubectl (client-go) speaks it: one TLS connection carries every
 * request of a command at once. client-node sends each request over HTTP/1.1, so a command that asks
 * a dozen things at once opened a dozen connections, each a full TLS handshake on both ends (an
 * in-place build opened 16; its deploy took 206 ms, 116 ms over one HTTP/2 connection).
 *
 * It is client-node's HttpLibrary, so the generated API classes, their auth and their errors stay
 * as they are. A request goes over HTTP/1.1 as before (`fallback`) when its agent is not one of the
 * pooled ones (connections.ts: a proxy, plain http) or the server does not offer HTTP/2 (ALPN).
 * Watches, exec and port-forwards are client-node's own and keep their HTTP/1.1 connections.
 */
import type * as K8s from '@kubernetes/client-node'
import http2 from 'node:http2'
import {isIP} from 'node:net'
import type {Readable} from 'node:stream'
import tls from 'node:tls'

import createDebug from 'debug'

import {IDLE_CONNECTION_MS, type TlsTarget, tlsTargetOf} from './connections.js'

const debug = createDebug('shopsys-ci:http2')

type K8sModule = typeof import('./client-lib.js')

export interface Http2Options {
  /** A connection without requests for this long is closed (see IDLE_CONNECTION_MS). */
  idleMs?: number
  /**
   * A connection with requests in flight that has received nothing for `idleMs` is pinged; one that
   * does not answer within this long is closed and its requests fail as a reset connection (the
   * retry layer sends reads again). client-go does the same (30 s, then 15 s): a connection that a
   * load balancer dropped silently would otherwise hold every request of the command for ever.
   */
  pingTimeoutMs?: number
}

/** The answer to a request opened as a stream: the status and the body, not read yet. */
export interface Http2Stream {
  status: number
  headers: Record<string, string>
  body: Readable
}

/** Headers HTTP/2 forbids (RFC 9113 8.2.2); `host` becomes `:authority`. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host'])

/** A larger window than HTTP/2's 64 KB default, as client-go has: a long log or list comes in one go. */
const WINDOW_SIZE = 4 * 1024 * 1024

interface Connection {
  session: http2.ClientHttp2Session
  active: number
}

export class Http2Transport {
  /** Per pooled agent (one set of credentials): its connection, or false when the server has no HTTP/2. */
  private readonly connections = new Map<object, Promise<Connection | false>>()
  private readonly idleMs: number
  private readonly pingTimeoutMs: number

  constructor(
    private readonly k8s: Pick<K8sModule, 'Observable' | 'ResponseContext'>,
    private readonly fallback: {send(request: K8s.RequestContext): K8s.Observable<K8s.ResponseContext>},
    options: Http2Options = {},
  ) {
    this.idleMs = options.idleMs ?? IDLE_CONNECTION_MS
    this.pingTimeoutMs = options.pingTimeoutMs ?? 15_000
  }

  send(request: K8s.RequestContext): K8s.Observable<K8s.ResponseContext> {
    return new this.k8s.Observable(this.request(request))
  }

  /** The request as a stream (a log): undefined when it cannot go over HTTP/2 (use HTTP/1.1 then). */
  async open(request: K8s.RequestContext): Promise<Http2Stream | undefined> {
    const connection = await this.connectionFor(request)
    return connection ? this.stream(connection, request) : undefined
  }

  private async request(request: K8s.RequestContext): Promise<K8s.ResponseContext> {
    const connection = await this.connectionFor(request)
    if (!connection) return this.fallback.send(request).toPromise()
    const started = debug.enabled ? performance.now() : 0
    const {status, headers, body} = await this.stream(connection, request)
    const chunks: Buffer[] = []
    try {
      for await (const chunk of body) chunks.push(chunk as Buffer)
    } catch (error) {
      throw streamFailure(error, request.getSignal(), connection)
    }
    const data = Buffer.concat(chunks)
    if (debug.enabled) debug('%s %s: %d in %d ms', request.getHttpMethod(), request.getUrl().replace(/^https:\/\/[^/]+/, ''), status, Math.round(performance.now() - started))
    return new this.k8s.ResponseContext(status, headers, {text: async () => data.toString('utf8'), binary: async () => data})
  }

  /** The connection for this request's credentials, opened on first use; false: use HTTP/1.1. */
  private async connectionFor(request: K8s.RequestContext): Promise<Connection | false> {
    const agent = request.getAgent() as object | undefined
    const target = agent ? tlsTargetOf(agent) : undefined
    const body = request.getBody()
    if (!agent || !target || (body !== undefined && typeof body !== 'string')) return false
    let connection = this.connections.get(agent)
    if (!connection) {
      const opening = this.connect(target, () => {
        // Only this connection: a newer one may have taken its place after a GOAWAY.
        if (this.connections.get(agent) === opening) this.connections.delete(agent)
      })
      connection = opening
      this.connections.set(agent, opening)
      // A failed connect is not remembered: the next request (the retry) tries again.
      opening.catch(() => this.connections.get(agent) === opening && this.connections.delete(agent))
    }
    return connection
  }

  private connect(target: TlsTarget, forget: () => void): Promise<Connection | false> {
    return new Promise((resolve, reject) => {
      const url = new URL(target.origin)
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1') // an IPv6 address without its brackets
      const socket = tls.connect({
        ...target.options,
        host,
        port: Number(url.port || 443),
        // Node refuses an IP address as SNI; it checks the certificate against `host` then.
        servername: target.options.servername ?? (isIP(host) ? undefined : host),
        ALPNProtocols: ['h2', 'http/1.1'],
      })
      socket.once('error', reject)
      socket.once('secureConnect', () => {
        socket.off('error', reject)
        if (socket.alpnProtocol !== 'h2') {
          debug('%s offers no HTTP/2 (ALPN: %s): HTTP/1.1 for this command', target.origin, socket.alpnProtocol || 'none')
          socket.destroy()
          resolve(false)
          return
        }
        const session = http2.connect(target.origin, {createConnection: () => socket, settings: {enablePush: false, initialWindowSize: WINDOW_SIZE}})
        const connection: Connection = {session, active: 0}
        session.on('connect', () => session.setLocalWindowSize(WINDOW_SIZE))
        // A session's error destroys it; its requests fail with their own errors (streamFailure).
        session.on('error', (error: Error) => debug('%s: connection failed: %s', target.origin, error.message))
        // After a GOAWAY the server takes no new requests on it: new ones get a new connection.
        session.once('goaway', forget)
        session.once('close', forget)
        session.setTimeout(this.idleMs, () => this.quiet(connection, target.origin))
        session.unref()
        debug('%s: HTTP/2 connection open', target.origin)
        resolve(connection)
      })
    })
  }

  /** Nothing came or went for idleMs: close an idle connection, ping a busy one. */
  private quiet(connection: Connection, origin: string): void {
    const {session} = connection
    if (connection.active === 0) {
      session.close()
      return
    }
    const timer = setTimeout(() => {
      debug('%s: no answer to a ping in %d ms: closing the connection', origin, this.pingTimeoutMs)
      session.destroy(Object.assign(new Error(`no answer to a ping in ${this.pingTimeoutMs} ms`), {code: 'ETIMEDOUT'}))
    }, this.pingTimeoutMs)
    timer.unref()
    const sent = session.ping((error) => {
      clearTimeout(timer)
      if (error) session.destroy(error)
    })
    if (!sent) clearTimeout(timer)
  }

  private async stream(connection: Connection, request: K8s.RequestContext): Promise<Http2Stream> {
    const url = new URL(request.getUrl())
    const headers: http2.OutgoingHttpHeaders = {':method': request.getHttpMethod(), ':path': url.pathname + url.search}
    for (const [name, value] of Object.entries(request.getHeaders())) {
      const lower = name.toLowerCase()
      if (!CONNECTION_HEADERS.has(lower)) headers[lower] = value
    }
    const body = request.getBody() as string | undefined
    const signal = request.getSignal() as AbortSignal | undefined
    const {session} = connection
    // The process may exit while no request is in flight (an idle connection does not hold it).
    if (connection.active++ === 0) session.ref()
    let stream: http2.ClientHttp2Stream
    try {
      stream = session.request(headers, {endStream: body === undefined, signal})
    } catch (error) {
      this.release(connection)
      throw streamFailure(error, signal, connection)
    }
    stream.once('close', () => this.release(connection))
    if (body !== undefined) stream.end(body)
    return new Promise<Http2Stream>((resolve, reject) => {
      const failed = (error: unknown) => reject(streamFailure(error, signal, connection, stream))
      stream.once('error', failed)
      stream.once('close', () => failed(undefined))
      stream.once('response', (answer) => {
        stream.off('error', failed)
        const names: Record<string, string> = {}
        for (const [name, value] of Object.entries(answer)) if (!name.startsWith(':') && value !== undefined) names[name] = Array.isArray(value) ? value.join(', ') : String(value)
        resolve({status: Number(answer[':status']), headers: names, body: stream})
      })
    })
  }

  private release(connection: Connection): void {
    if (--connection.active === 0) connection.session.unref()
  }
}

/**
 * What a request that failed on its way is to the caller, in the terms the retry layer knows
 * (retry.ts): aborted by its signal is an AbortError, as node-fetch's; a stream the server refused
 * (REFUSED_STREAM: it did nothing) is `ERR_HTTP2_REFUSED_STREAM`; any other loss of the stream or
 * its connection is a reset connection (ECONNRESET): the server may have acted on it.
 */
export function streamFailure(error: unknown, signal: AbortSignal | undefined, connection: {session: {destroyed: boolean}}, stream?: {rstCode?: number}): Error {
  if (signal?.aborted) return Object.assign(new Error('The operation was aborted'), {name: 'AbortError', cause: error})
  const reason = error instanceof Error ? error.message : 'the stream closed before an answer'
  if (stream?.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
    return Object.assign(new Error(`the API server refused the request (REFUSED_STREAM): ${reason}`), {code: 'ERR_HTTP2_REFUSED_STREAM', cause: error})
  }
  const code = (error as {code?: unknown} | undefined)?.code
  // A failure to connect at all (refused, a certificate) keeps its own code.
  if (typeof code === 'string' && !code.startsWith('ERR_HTTP2') && !connection.session.destroyed) return error as Error
  return Object.assign(new Error(`connection reset (ECONNRESET): ${reason}`), {code: 'ECONNRESET', cause: error})
}
