/**
 * One HTTP(S) request over `node:http`/`node:https`, for the registry client. Not `fetch`: the first
 * `fetch` of a process loads Node's bundled undici, which costs more than both lookups of an
 * in-place build together (docs/performance.md).
 *
 * What the registry client needs and no more: a method, headers, an AbortSignal (the caller's and
 * its timeout), redirects followed like fetch follows them (at most 20; `Authorization` is not sent
 * to another origin), the response's status and headers, and its body only when asked for; other
 * bodies are drained so the keep-alive connection goes back to the agent.
 *
 * Errors are Node's own: a refused connection is `ECONNREFUSED`, a certificate that does not verify
 * `DEPTH_ZERO_SELF_SIGNED_CERT` etc. — the `code` is on the error itself (fetch put it on
 * `error.cause`). An aborted request rejects with the signal's reason, as fetch does.
 */
import {request as httpRequest, type IncomingHttpHeaders, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'

export interface HttpRequest {
  method: 'GET' | 'HEAD'
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Read the body (for a 2xx answer); otherwise it is drained and `body` is empty. */
  readBody?: boolean
}

export interface HttpResponse {
  status: number
  statusText: string
  /** Lower-case names; repeated headers joined with `, ` (as fetch's `Headers.get` does). */
  headers: IncomingHttpHeaders
  /** The URL that answered, after redirects. */
  url: string
  body: Buffer
}

const REDIRECT = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 20
/** Bodies the client reads are JSON tokens of a few KB; a larger one is not what was asked for. */
const MAX_BODY = 1024 * 1024

export async function request(url: string, init: HttpRequest): Promise<HttpResponse> {
  let current = new URL(url)
  const headers = {...init.headers}
  for (let redirects = 0; ; redirects++) {
    const response = await once(current, init.method, headers, init.signal, init.readBody ?? false)
    const location = REDIRECT.has(response.status) ? response.headers.location : undefined
    if (!location) return response
    if (redirects >= MAX_REDIRECTS) throw new Error(`${url}: more than ${MAX_REDIRECTS} redirects`)
    const next = new URL(location, current)
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`${current.origin} redirected to a ${next.protocol} URL`)
    // As fetch does: credentials are for the origin they were sent to.
    if (next.origin !== current.origin) deleteHeader(headers, 'authorization')
    current = next
  }
}

function once(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal | undefined, readBody: boolean): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined
    if (!send) return reject(new Error(`unsupported protocol ${url.protocol}`))
    let settled = false
    const settle = (error: unknown, response?: HttpResponse) => {
      if (settled) return
      settled = true
      if (response) resolve(response)
      else reject(error)
    }
    const req = send(url, {method, headers})
    // Until the exchange is over, also while a body is drained: an abort (the timeout) ends it.
    const onAbort = () => {
      settle(signal!.reason)
      req.destroy()
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    req.once('close', () => signal?.removeEventListener('abort', onAbort))
    req.on('error', (error) => settle(error))
    req.on('response', (res: IncomingMessage) => {
      res.on('error', (error) => settle(error))
      const status = res.statusCode ?? 0
      const answer = (body: Buffer) => settle(undefined, {status, statusText: res.statusMessage ?? '', headers: res.headers, url: url.toString(), body})
      if (method === 'HEAD' || !readBody || status < 200 || status >= 300) {
        res.resume()
        answer(Buffer.alloc(0))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY) {
          settle(new Error(`${url.origin} sent more than ${MAX_BODY} bytes`))
          req.destroy()
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => answer(Buffer.concat(chunks)))
      res.on('close', () => {
        if (!res.complete) settle(Object.assign(new Error('the connection closed before the whole answer arrived'), {code: 'ECONNRESET'}))
      })
    })
    req.end()
  })
}

function deleteHeader(headers: Record<string, string>, name: string): void {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) delete headers[key]
}
