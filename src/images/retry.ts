/**
 * Retries with exponential backoff for transient registry failures (connection refused or reset,
 * timeouts, 5xx, 429). Authentication failures and anything else are not retried.
 */
import {sleep} from '../util/sleep.js'

export interface RetryPolicy {
  /** Attempts in total (1 = no retry). */
  attempts: number
  /** Delay before the second attempt; each further delay is `factor` times the previous one. */
  baseDelayMs: number
  factor: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {attempts: 3, baseDelayMs: 1000, factor: 2, maxDelayMs: 15_000}

/** The delay after failed attempt number `attempt` (1-based). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1))
}

/** The delays a policy waits between its attempts, in order. */
export function backoffSchedule(policy: RetryPolicy): number[] {
  return Array.from({length: Math.max(0, policy.attempts - 1)}, (_, i) => backoffDelay(policy, i + 1))
}

/** A failure worth trying again; `cause` holds the underlying error. */
export class TransientError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'TransientError'
  }
}

export interface RetryOptions {
  policy?: RetryPolicy
  isRetryable?: (error: unknown) => boolean
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/**
 * Runs `fn` until it succeeds, fails with a non-retryable error (rethrown at once), or the attempts
 * are used up (the last error is rethrown with `attempts` attached).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY
  const isRetryable = options.isRetryable ?? ((e: unknown) => e instanceof TransientError)
  const pause = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.attempts || options.signal?.aborted) {
        if (error && typeof error === 'object') Object.assign(error, {attempts: attempt})
        throw error
      }
      const delay = backoffDelay(policy, attempt)
      options.onRetry?.(error, attempt, delay)
      // Interrupted, the next attempt runs at once and fails on the aborted signal with its own error.
      await pause(delay, options.signal).catch(() => undefined)
    }
  }
}

/** How a failed docker registry operation (login, push) reads from its output. */
export type DockerFailureKind = 'tls' | 'auth' | 'transient' | 'permanent'

const AUTH = /unauthorized|authentication required|incorrect username or password|denied|\b401\b|\b403\b|forbidden/i
const PERMANENT = /does not exist locally|An image does not exist|invalid reference format|no such image|tag does not exist/i

/** Go's TLS failures: a certificate docker does not trust, or a registry answering HTTPS with plain HTTP. */
const TLS = /x509: |tls: |server gave HTTP response to HTTPS client/i

export function classifyDockerFailure(output: string): DockerFailureKind {
  // Before AUTH: the handshake fails before any credential is looked at, and retrying cannot fix it.
  if (TLS.test(output)) return 'tls'
  if (AUTH.test(output)) return 'auth'
  if (PERMANENT.test(output)) return 'permanent'
  return 'transient'
}

/** The suggestions for a docker login or push that failed on the registry's TLS (kind `tls`). */
export function dockerTlsSuggestions(host: string): string[] {
  return [
    `a certificate from a private CA: the Docker daemon trusts it as /etc/docker/certs.d/${host}/ca.crt on this machine (or in the system's CA store)`,
    `a registry without TLS: the daemon must list it in "insecure-registries" (daemon.json); check the port in DOCKER_REGISTRY`,
  ]
}
