/**
 * `DockerCliImagePusher`: `docker push` with retries (exponential backoff) on transient failures;
 * an authentication failure is not retried. The pushed digest comes from docker's
 * `<tag>: digest: sha256:… size: …` line, else from the registry (`Docker-Content-Digest`).
 */
import {RegistryError} from '../errors.js'
import {tail} from '../util/process.js'
import {daemonError, type DockerCli, isDaemonUnreachable} from './docker-cli.js'
import {classifyDockerFailure, DEFAULT_RETRY, dockerTlsSuggestions, type RetryPolicy, TransientError, withRetry} from './retry.js'
import type {ImagePlan, ImagePusher, RegistryClient, StepOptions} from './types.js'

const DIGEST_LINE = /digest:\s*(sha256:[0-9a-f]{64})/

/** The digest docker printed after a push, if any. */
export function parsePushDigest(output: string): string | undefined {
  const lines = output.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = DIGEST_LINE.exec(lines[i])
    if (m) return m[1]
  }
  return undefined
}

/** The registry part of a plan's repository (`<registry host>` for Docker Hub, which has none in it). */
function registryHost(plan: ImagePlan): string {
  return plan.repository === plan.path ? '<registry host>' : plan.repository.slice(0, plan.repository.length - plan.path.length - 1)
}

export interface DockerCliImagePusherOptions {
  retry?: RetryPolicy
  /** Used to look up the digest when docker did not print it. */
  registry?: RegistryClient
  /** Told about each retry. */
  onRetry?: (plan: ImagePlan, message: string) => void
  /** Makes sure we are logged in before the first push. */
  beforePush?: () => Promise<void>
}

export class DockerCliImagePusher implements ImagePusher {
  private readonly retry: RetryPolicy

  constructor(
    private readonly docker: DockerCli,
    private readonly options: DockerCliImagePusherOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY
  }

  async push(plan: ImagePlan, options: StepOptions): Promise<{digest?: string}> {
    await this.options.beforePush?.()
    let output = ''
    try {
      output = await withRetry(
        async () => {
          const result = await this.docker.run(['push', plan.reference], {onLine: options.onLine, signal: options.signal})
          if (result.exitCode === 0) return result.output
          const last = tail(result.output, 15)
          if (isDaemonUnreachable(last)) throw daemonError(last)
          const kind = result.signal ? 'permanent' : classifyDockerFailure(last)
          if (kind === 'transient') throw new TransientError(`push of ${plan.reference} failed: ${last.split('\n').pop()}`)
          throw new RegistryError(
            kind === 'auth'
              ? `the registry refused the push of ${plan.reference} (authentication or permission)`
              : kind === 'tls'
                ? `push of ${plan.reference} failed on TLS: ${last.split('\n').pop()}`
                : `push of ${plan.reference} failed (docker exited with ${result.exitCode}${result.signal ? `, ${result.signal}` : ''})`,
            {
              details: `last lines of the push of "${plan.name}":\n${last}`,
              suggestions:
                kind === 'auth'
                  ? ['check DOCKER_USERNAME / DOCKER_PASSWORD and that the user may push to this repository']
                  : kind === 'tls'
                    ? dockerTlsSuggestions(registryHost(plan))
                    : [],
            },
          )
        },
        {
          policy: this.retry,
          signal: options.signal,
          onRetry: (error, attempt, delay) => this.options.onRetry?.(plan, `${(error as Error).message}; attempt ${attempt + 1} of ${this.retry.attempts} in ${delay} ms`),
        },
      )
    } catch (error) {
      if (error instanceof TransientError) {
        throw new RegistryError(`${error.message} (gave up after ${this.retry.attempts} attempts)`, {
          suggestions: ['check that the registry is running and reachable, and has space left'],
        })
      }
      throw error
    }
    let digest = parsePushDigest(output)
    if (!digest && this.options.registry) {
      const info = await this.options.registry.manifest(plan.path, plan.tag, options.signal)
      digest = info.digest
    }
    return {digest}
  }
}
