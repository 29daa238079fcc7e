/**
 * The registry's HTTP API (distribution v2), over `node:http`/`node:https` (http.ts: not `fetch`,
 * whose first call loads undici). Only what the stage needs: does `<path>:<tag>` exist, and what is
 * its digest — asked with `HEAD`, so nothing is pulled.
 *
 * Authentication follows the registry's `WWW-Authenticate` challenge: Basic (e.g. htpasswd), or the
 * Bearer token flow (token from the challenge's realm with `service` and `scope`, Basic credentials
 * when we have them, anonymous otherwise). Tokens are cached per scope for the run.
 */
import {RegistryError} from '../errors.js'
import {type HttpRequest, type HttpResponse, request as httpRequest} from './http.js'
import {registryApiBase, registryDisplayName, type Registry} from './reference.js'
import {DEFAULT_RETRY, type RetryPolicy, TransientError, withRetry} from './retry.js'
import type {ManifestInfo, RegistryClient} from './types.js'
import {findChallenge, parseWwwAuthenticate} from './www-authenticate.js'

export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

export interface Credentials {
  username: string
  password: string
}

export interface HttpRegistryClientOptions {
  /** Overrides the API base URL (scheme://host[:port]); default from the registry (reference.ts). */
  baseUrl?: string
  credentials?: Credentials
  retry?: RetryPolicy
  /** Per-request timeout. */
  timeoutMs?: number
  onRetry?: (message: string) => void
  /** Replaces the HTTP request (http.ts) in tests. */
  request?: typeof httpRequest
}

export class HttpRegistryClient implements RegistryClient {
  readonly displayName: string
  readonly baseUrl: string
  private readonly credentials?: Credentials
  private readonly retry: RetryPolicy
  private readonly timeoutMs: number
  private readonly onRetry?: (message: string) => void
  private readonly send: typeof httpRequest
  /** Authorization header per scope (`repository:<path>:pull`); `basic` for Basic auth. */
  private readonly authorization = new Map<string, string>()

  constructor(registry: Pick<Registry, 'host'>, options: HttpRegistryClientOptions = {}) {
    this.displayName = registryDisplayName(registry)
    this.baseUrl = (options.baseUrl ?? registryApiBase(registry)).replace(/\/+$/, '')
    this.credentials = options.credentials?.password ? options.credentials : undefined
    this.retry = options.retry ?? DEFAULT_RETRY
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.onRetry = options.onRetry
    this.send = options.request ?? httpRequest
  }

  async manifest(path: string, tag: string, signal?: AbortSignal): Promise<ManifestInfo> {
    const url = `${this.baseUrl}/v2/${path}/manifests/${encodeURIComponent(tag)}`
    try {
      return await withRetry(() => this.headManifest(url, path, signal), {
        policy: this.retry,
        signal,
        onRetry: (error, attempt, delay) =>
          this.onRetry?.(`${this.displayName}: ${(error as Error).message}; attempt ${attempt + 1} of ${this.retry.attempts} in ${delay} ms`),
      })
    } catch (error) {
      throw this.wrap(error, `checking ${path}:${tag}`)
    }
  }

  private async headManifest(url: string, path: string, signal?: AbortSignal): Promise<ManifestInfo> {
    const scope = `repository:${path}:pull`
    let response = await this.request(url, {method: 'HEAD', headers: this.headers(scope)}, signal)
    if (response.status === 401) {
      await this.authenticate(header(response, 'www-authenticate'), scope, signal)
      response = await this.request(url, {method: 'HEAD', headers: this.headers(scope)}, signal)
      if (response.status === 401) throw this.authRefused()
    }
    if (response.status === 200) return {exists: true, digest: header(response, 'docker-content-digest')}
    if (response.status === 404) return {exists: false}
    if (response.status === 403) throw this.authRefused(`the registry refused access to ${path} (HTTP 403)`)
    throw unexpectedStatus(response, url)
  }

  private headers(scope: string): Record<string, string> {
    const headers: Record<string, string> = {Accept: MANIFEST_ACCEPT}
    const auth = this.authorization.get(scope) ?? this.authorization.get('basic')
    if (auth) headers.Authorization = auth
    return headers
  }

  /** Answers a 401 challenge: remembers the Authorization header to send for `scope`. */
  private async authenticate(challenge: string | undefined, scope: string, signal?: AbortSignal): Promise<void> {
    const challenges = parseWwwAuthenticate(challenge)
    const bearer = findChallenge(challenges, 'bearer')
    if (bearer) {
      this.authorization.set(scope, `Bearer ${await this.fetchToken(bearer.params, scope, signal)}`)
      return
    }
    if (findChallenge(challenges, 'basic') || challenges.length === 0) {
      if (!this.credentials) throw this.authRefused('the registry requires a login and no credentials were given')
      // Idempotent: parallel lookups may all be challenged before the first one has answered.
      this.authorization.set('basic', basicAuth(this.credentials))
      return
    }
    throw new RegistryError(`${this.displayName} asks for an authentication scheme this tool does not support: ${challenge}`)
  }

  /** The Bearer token flow (docker's token authentication specification). */
  private async fetchToken(params: Record<string, string>, defaultScope: string, signal?: AbortSignal): Promise<string> {
    if (!params.realm) throw new RegistryError(`${this.displayName} sent a Bearer challenge without a realm`)
    let tokenUrl: URL
    try {
      tokenUrl = new URL(params.realm)
    } catch {
      throw new RegistryError(`${this.displayName} sent a Bearer challenge with an invalid realm: ${params.realm}`)
    }
    if (params.service) tokenUrl.searchParams.set('service', params.service)
    tokenUrl.searchParams.set('scope', params.scope || defaultScope)
    const headers: Record<string, string> = {Accept: 'application/json'}
    if (this.credentials) headers.Authorization = basicAuth(this.credentials)
    const response = await this.request(tokenUrl.toString(), {method: 'GET', headers, readBody: true}, signal)
    if (response.status === 401 || response.status === 403) {
      throw this.authRefused(`the token service ${tokenUrl.origin} refused the credentials (HTTP ${response.status})`)
    }
    if (response.status < 200 || response.status >= 300) throw unexpectedStatus(response, tokenUrl.origin + tokenUrl.pathname)
    let body: {token?: unknown; access_token?: unknown}
    try {
      body = JSON.parse(response.body.toString('utf8')) as typeof body
    } catch {
      throw new RegistryError(`the token service ${tokenUrl.origin} did not answer with JSON`)
    }
    const token = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : ''
    if (!token) throw new RegistryError(`the token service ${tokenUrl.origin} answered without a token`)
    return token
  }

  private async request(url: string, init: Omit<HttpRequest, 'signal'>, signal?: AbortSignal): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.timeoutMs)
    try {
      return await this.send(url, {...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout})
    } catch (error) {
      if (signal?.aborted) throw error
      const {code, message} = errorCode(error)
      // A certificate that does not verify, or no TLS on the port, stays so: fail at once, not as "unreachable".
      if (!timeout.aborted && code && TLS_CODE.test(code)) throw this.tlsError(new URL(url).origin, code, message, error)
      const reason = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (code ?? message)
      throw new TransientError(`cannot reach ${new URL(url).origin} (${reason})`, {cause: error})
    }
  }

  private tlsError(origin: string, code: string, detail: string | undefined, cause: unknown): RegistryError {
    const reason = `${code}${detail && detail !== code ? `: ${detail.split('\n')[0]}` : ''}`
    if (/^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG)$/.test(code)) {
      return new RegistryError(`registry ${this.displayName} does not speak TLS at ${origin} (${reason})`, {
        cause,
        suggestions: [
          `registries other than 127.0.0.0/8 and localhost are asked over HTTPS, as docker does; check the port in DOCKER_REGISTRY (now "${this.displayName}") and that the registry serves TLS there`,
        ],
      })
    }
    return new RegistryError(`cannot trust registry ${this.displayName}: its TLS certificate does not verify at ${origin} (${reason})`, {
      cause,
      suggestions: [
        'a certificate from a private CA: shopsys-ci (Node.js) does not read docker\'s /etc/docker/certs.d and may not use the system\'s CA store; set NODE_EXTRA_CA_CERTS to the CA certificate (a PEM file)',
        `otherwise the certificate has expired or names another host than "${this.displayName}": check DOCKER_REGISTRY and the registry's certificate (openssl s_client -connect ${new URL(origin).host})`,
      ],
    })
  }

  private authRefused(reason?: string): RegistryError {
    const who = this.credentials ? `user "${this.credentials.username}"` : 'anonymous access'
    return new RegistryError(`${this.displayName}: authentication refused for ${who}${reason ? `: ${reason}` : ''}`, {
      suggestions: [
        'check DOCKER_USERNAME and DOCKER_PASSWORD (the Jenkins credentials bound to them)',
        `check that the user may read and push the repositories on ${this.displayName}`,
      ],
    })
  }

  private wrap(error: unknown, what: string): Error {
    if (error instanceof RegistryError) return error
    if (error instanceof TransientError) {
      const attempts = (error as {attempts?: number}).attempts ?? 1
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
      const status = (error as {status?: number}).status
      if (status !== undefined) {
        // It answered: "unreachable" would send people to the network instead of the registry.
        return new RegistryError(`registry ${this.displayName} kept failing while ${what}: ${error.message} (${tries})`, {
          cause: error,
          suggestions: [
            status === 429 ? 'the registry is rate-limiting this machine: try again later, or log in (DOCKER_USERNAME/DOCKER_PASSWORD) for a higher limit' : `the registry's own log says why it answered HTTP ${status}`,
            `check DOCKER_REGISTRY (now ${this.displayName === 'Docker Hub' ? 'empty: Docker Hub' : `"${this.displayName}"`})`,
          ],
        })
      }
      return new RegistryError(`registry ${this.displayName} is unreachable while ${what}: ${error.message} (${tries})`, {
        cause: error,
        suggestions: [
          `check DOCKER_REGISTRY (now ${this.displayName === 'Docker Hub' ? 'empty: Docker Hub' : `"${this.displayName}"`}) and that the registry is running at ${this.baseUrl}`,
          'check the network, proxy and firewall between this machine and the registry',
        ],
      })
    }
    return error as Error
  }
}

/** Node's TLS failures: a certificate that does not verify (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`, …) or no TLS at all (`ERR_SSL_WRONG_VERSION_NUMBER`). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS|ERR_SSL/

export function basicAuth(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
}

/** A header of the answer; a repeated one comes joined with `, `, as fetch's `Headers.get` gives it. */
function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * The code of a failed request: on the error itself for node:http(s) (`ECONNREFUSED`,
 * `DEPTH_ZERO_SELF_SIGNED_CERT`, …), on its `cause` for a request function that wraps it as fetch
 * does, on the first of an AggregateError's errors when every address of a host failed.
 *
 * An OpenSSL failure while the request is written (plain HTTP on an HTTPS port) is a bare `EPROTO`
 * whose message holds OpenSSL's reason (`…:SSL routines:ssl3_get_record:wrong version number:…`);
 * it gets the code Node gives such failures elsewhere (`ERR_SSL_WRONG_VERSION_NUMBER`).
 */
function errorCode(error: unknown): {code?: string; message: string} {
  type Coded = {code?: unknown; message?: unknown; cause?: Coded; errors?: Coded[]}
  const e = (error ?? {}) as Coded
  for (const candidate of [e, e.errors?.[0], e.cause, e.cause?.errors?.[0]]) {
    if (typeof candidate?.code !== 'string') continue
    const message = typeof candidate.message === 'string' ? candidate.message : candidate.code
    const openssl = candidate.code === 'EPROTO' ? /:SSL routines:[^:]*:([^:]+):/.exec(message) : null
    if (openssl) return {code: `ERR_SSL_${openssl[1].trim().toUpperCase().replace(/\W+/g, '_')}`, message: openssl[1].trim()}
    return {code: candidate.code, message}
  }
  return {message: typeof e.message === 'string' && e.message ? e.message : String(error)}
}

function unexpectedStatus(response: HttpResponse, url: string): Error {
  const message = `${url} answered HTTP ${response.status} ${response.statusText}`.trim()
  if (response.status >= 500 || response.status === 429 || response.status === 408) return Object.assign(new TransientError(message), {status: response.status})
  return new RegistryError(message, {suggestions: ['check that DOCKER_REGISTRY names a Docker registry (API v2)']})
}
