/**
 * Retries of Kubernetes API requests that failed for a passing reason: the API server restarting
 * or throttling (429, 503), a gateway in front of it (502, 504), a connection refused or reset. A
 * managed control plane does this now and then; one such blip must not fail a build after its
 * images were built. Not a 500: the API server answers a server-side apply that does not fit the
 * schema with a 500, which no retry fixes.
 *
 * A request the server may already have carried out (a reset connection, a 504) is retried only
 * when repeating it is harmless: reads, lists and server-side apply. A create, replace or delete is
 * retried only when the server surely did not act (429, 503, connection refused); the callers
 * already treat "already exists" and "not found" as the outcomes they are.
 */
import {ClusterCertificateError, ClusterForbiddenError, ClusterUnauthorizedError, ClusterUnreachableError} from '../errors.js'
import {sleep} from '../util/sleep.js'
import {apiMessage, statusCode} from './api-errors.js'

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {attempts: 5, baseDelayMs: 250, maxDelayMs: 5_000}

/** Did the server surely not act on the request (`not-applied`), or might it have (`maybe-applied`)? */
export type Transience = 'not-applied' | 'maybe-applied'

const NOT_APPLIED_STATUS = new Set([429, 503])
const MAYBE_APPLIED_STATUS = new Set([502, 504])
// ERR_HTTP2_REFUSED_STREAM: the server refused an HTTP/2 stream before acting on it (http2.ts).
const NOT_APPLIED_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_HTTP2_REFUSED_STREAM'])
const MAYBE_APPLIED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'])

interface ErrorLike {
  code?: unknown
  errno?: unknown
  message?: unknown
  headers?: Record<string, unknown>
}

/** Pure: is this failure worth another attempt, and could the server have acted on the request? */
export function transience(error: unknown): Transience | undefined {
  const e = error as ErrorLike | undefined
  if (typeof e?.code === 'number') {
    if (NOT_APPLIED_STATUS.has(e.code)) return 'not-applied'
    if (MAYBE_APPLIED_STATUS.has(e.code)) return 'maybe-applied'
    return undefined
  }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.errno === 'string' ? e.errno : undefined
  if (code && NOT_APPLIED_CODES.has(code)) return 'not-applied'
  if (code && MAYBE_APPLIED_CODES.has(code)) return 'maybe-applied'
  if (typeof e?.message === 'string' && /socket hang up/i.test(e.message)) return 'maybe-applied'
  return undefined
}

/** Pure: may a request of this client method be sent again after `kind` of failure? */
export function mayRetry(method: string, kind: Transience): boolean {
  return kind === 'not-applied' || /^(read|list|get|serverSideApply|isNamespaced)/.test(method)
}

/** Pure: how long to wait before attempt `attempt` (2, 3, …): the server's Retry-After, else exponential. */
export function retryDelay(attempt: number, policy: RetryPolicy, error: unknown): number {
  const header = (error as ErrorLike | undefined)?.headers?.['retry-after']
  const seconds = typeof header === 'string' ? Number(header) : typeof header === 'number' ? header : Number.NaN
  const exponential = policy.baseDelayMs * 2 ** (attempt - 2)
  return Math.min(policy.maxDelayMs, Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : exponential)
}

export interface RetryOptions {
  policy?: RetryPolicy
  /** Told before each new attempt (e.g. a warning in the build log). */
  onRetry?: (message: string) => void
  sleep?: (ms: number) => Promise<void>
  /** The API server's URL and the kubeconfig context, for the error when it cannot be reached. */
  cluster?: {server?: string; context?: string}
}

/** Runs `fn`, again after a passing failure, as `mayRetry(method, …)` allows. */
export async function withRetries<T>(method: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY
  const wait = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      const kind = transience(error)
      if (!kind || !mayRetry(method, kind) || attempt >= policy.attempts) throw clusterError(method, error, attempt, options.cluster)
      const delay = retryDelay(attempt + 1, policy, error)
      options.onRetry?.(`Kubernetes API: ${method} failed (${describe(error)}); retrying in ${(delay / 1000).toFixed(2).replace(/\.?0+$/, '')}s (attempt ${attempt + 1} of ${policy.attempts})`)
      await wait(delay)
    }
  }
}

/** A failure below HTTP: the server gave no answer at all. */
function isConnectionFailure(error: unknown): boolean {
  const e = error as ErrorLike | undefined
  return typeof e?.code !== 'number' && transience(error) !== undefined
}

/**
 * What a failure that is not retried (any more) is for the user: no answer, credentials refused
 * (401) and a missing right (403) are the environment's problems (exit 3), not the tool's, and
 * say which cluster and what to do. Anything else is the caller's to judge.
 */
function clusterError(method: string, error: unknown, attempts: number, cluster: RetryOptions['cluster'] = {}): unknown {
  if (isConnectionFailure(error)) return unreachable(method, error, attempts, cluster)
  const code = (error as ErrorLike | undefined)?.code
  const server = cluster.server ?? 'the Kubernetes API server'
  const context = cluster.context ? ` --context ${cluster.context}` : ''
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    return new ClusterCertificateError(`cannot trust ${server}: its TLS certificate does not verify (${method}: ${reasonOf(error)})`, {
      cause: error,
      suggestions: [
        "the kubeconfig's certificate-authority(-data) is not the CA of this server, or the certificate has expired or names another host",
        `kubectl${context} cluster-info   # does kubectl trust it with the same kubeconfig?`,
      ],
    })
  }
  if (statusCode(error) === 401) {
    return new ClusterUnauthorizedError(`${server} refused the credentials of the kubeconfig${cluster.context ? ` (context ${cluster.context})` : ''}: 401 Unauthorized (${method})`, {
      cause: error,
      suggestions: [
        'the token or client certificate is invalid or has expired: renew it (in Jenkins, the kubeconfigCredentialsId credential)',
        `kubectl${context} auth whoami   # what the cluster makes of these credentials`,
      ],
    })
  }
  if (statusCode(error) === 403) {
    return new ClusterForbiddenError(`${server} refused ${method}: ${apiMessage(error)}`, {
      cause: error,
      suggestions: [
        "the kubeconfig's account lacks a right the tool needs: docs/getting-started.md lists them",
        `kubectl${context} auth can-i --list   # what the account may do`,
      ],
    })
  }
  return error
}

/** Node's TLS verification failures (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS|ERR_SSL/

/** node-fetch: "request to <url> failed, reason: connect ECONNREFUSED …", sometimes wrapped again. */
function reasonOf(error: unknown): string {
  const message = typeof (error as ErrorLike)?.message === 'string' ? String((error as ErrorLike).message) : describe(error)
  return message.includes('reason: ') ? message.slice(message.lastIndexOf('reason: ') + 'reason: '.length) : message
}

function unreachable(method: string, error: unknown, attempts: number, cluster: RetryOptions['cluster'] = {}): ClusterUnreachableError {
  const server = cluster.server ?? 'the Kubernetes API server'
  const reason = reasonOf(error)
  return new ClusterUnreachableError(`no answer from ${server} (${method}: ${reason}${attempts > 1 ? `; ${attempts} attempts` : ''})`, {
    cause: error,
    suggestions: [
      `check that this machine reaches the cluster: kubectl${cluster.context ? ` --context ${cluster.context}` : ''} cluster-info`,
      'KUBECONFIG (else ~/.kube/config, else the in-cluster service account) chooses the cluster, like kubectl',
    ],
  })
}

function describe(error: unknown): string {
  const e = error as ErrorLike
  if (typeof e?.code === 'number') return `HTTP ${e.code}`
  const code = typeof e?.code === 'string' ? e.code : undefined
  return code ?? (typeof e?.message === 'string' ? e.message.split('\n')[0] : String(error))
}

/** Client methods that send a request: the generated API classes' verbs and KubernetesObjectApi's. */
const REQUEST_METHOD = /^(read|list|create|replace|patch|delete|get)[A-Z]|^(read|list|create|replace|patch|delete)$/

/**
 * The same API client, with every request method retried as above. Other properties (and methods
 * that do not send a request) are passed through untouched.
 */
export function retrying<T extends object>(api: T, options: RetryOptions = {}): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof property !== 'string' || typeof value !== 'function' || !REQUEST_METHOD.test(property)) return value
      return (...args: unknown[]) => withRetries(property, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), options)
    },
  })
}
