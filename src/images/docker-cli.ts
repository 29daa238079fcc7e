/**
 * The docker CLI, run through `run()` (argument arrays, never a shell), with a throw-away
 * `DOCKER_CONFIG` for the whole run:
 *
 * - created lazily (mode 0700) on the first docker call, so a run where every image is reused
 *   calls no docker at all;
 * - `docker login --password-stdin` writes into it; the user's own `~/.docker` is never touched, and
 *   only its `cli-plugins/` is used (linked in: docker finds buildx there, else only in system folders);
 * - removed by `dispose()`; at once when the caller's `signal` aborts (the command's first SIGINT/SIGTERM);
 *   on SIGHUP (and SIGINT/SIGTERM when there is no `signal`); and at process exit as a safety net.
 *
 * Every line docker prints passes through `redact` (and loses terminal escape codes) before anyone sees it.
 */
import {chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'

import {RegistryError, ToolError} from '../errors.js'
import {run, type RunResult, tail} from '../util/process.js'
import {type Redact, redactor} from '../util/redact.js'
import {classifyDockerFailure, DEFAULT_RETRY, dockerTlsSuggestions, type RetryPolicy, TransientError, withRetry} from './retry.js'
import type {CacheImageStore, LocalImageStore} from './types.js'

/**
 * Terminal escape sequences (CSI). The legacy builder wraps a step's stderr in `ESC[91m … ESC[0m`
 * even without a terminal; a Jenkins log shows them as `[91m` garbage.
 */
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g

/** Variables never passed on to docker (it does not need them; they are secrets). */
const WITHHELD = ['DOCKER_PASSWORD', 'DOCKER_CONFIG']

export interface DockerCliOptions {
  /** Environment docker runs with (DOCKER_HOST etc.); secrets are removed. */
  env: Readonly<Record<string, string | undefined>>
  binary?: string
  /** Values that must never appear in output (the password). */
  secrets?: readonly string[]
  /** Parent directory of the temporary DOCKER_CONFIG (default: the OS temp dir). */
  tempRoot?: string
  /**
   * The caller's interruption (the base command's first SIGINT/SIGTERM): stops every docker command
   * and removes the temporary DOCKER_CONFIG at once; later runs are refused. SIGINT and SIGTERM are
   * then the caller's to handle; without it, DockerCli handles them itself.
   */
  signal?: AbortSignal
}

export interface DockerRunOptions {
  onLine?: (line: string) => void
  input?: string
  env?: Record<string, string>
  signal?: AbortSignal
}

/** Pure: the user's Docker CLI plugin folder, as docker finds it: `$DOCKER_CONFIG/cli-plugins`, else `~/.docker/cli-plugins`. */
export function userPluginsDir(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker'), 'cli-plugins')
}

export class DockerCli implements LocalImageStore, CacheImageStore {
  readonly binary: string
  private readonly baseEnv: Record<string, string>
  readonly redact: Redact
  private readonly tempRoot: string
  private readonly userPlugins: string
  private readonly signal?: AbortSignal
  private configDir?: string
  private configCreated = false
  private buildx?: Promise<boolean>
  private readonly aborter = new AbortController()
  private readonly onSignal = (signal: NodeJS.Signals) => this.interrupted(signal)
  private readonly onExit = () => this.removeConfigDir()
  private readonly onAbort = () => {
    // Now, not when the children have ended: Jenkins sends SIGKILL some seconds after its SIGTERM,
    // and a second signal exits at once; the credentials must not outlive the first.
    this.aborter.abort()
    this.removeConfigDir()
  }

  constructor(options: DockerCliOptions) {
    this.binary = options.binary ?? 'docker'
    this.baseEnv = Object.fromEntries(
      Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined && !WITHHELD.includes(e[0])),
    )
    this.redact = redactor(options.secrets ?? [])
    this.tempRoot = options.tempRoot ?? tmpdir()
    this.userPlugins = userPluginsDir(options.env)
    this.signal = options.signal
    this.signal?.addEventListener('abort', this.onAbort, {once: true})
  }

  /** The signals this instance handles itself: those nobody else does. */
  private get ownSignals(): NodeJS.Signals[] {
    return this.signal ? ['SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP']
  }

  /** The temporary DOCKER_CONFIG directory, created on first use. */
  get dockerConfig(): string {
    if (!this.configDir) {
      this.configDir = mkdtempSync(path.join(this.tempRoot, 'shopsys-ci-docker-'))
      // mkdtemp creates 0700 already; be explicit about it.
      chmodSync(this.configDir, 0o700)
      // A buildx installed per user (~/.docker/cli-plugins, the buildx README's manual install)
      // would otherwise be hidden by the throw-away config, and the build silently fall back to
      // the deprecated legacy builder.
      if (existsSync(this.userPlugins)) symlinkSync(this.userPlugins, path.join(this.configDir, 'cli-plugins'))
      this.configCreated = true
      for (const sig of this.ownSignals) process.once(sig, this.onSignal)
      process.once('exit', this.onExit)
    }
    return this.configDir
  }

  /** Whether a temporary DOCKER_CONFIG was made in this run (docker was called): what an interruption reports. */
  get usedDockerConfig(): boolean {
    return this.configCreated
  }

  async run(args: readonly string[], options: DockerRunOptions = {}): Promise<RunResult> {
    // Interrupted: no new docker command, and no new DOCKER_CONFIG for it.
    this.signal?.throwIfAborted()
    const env = {...this.baseEnv, ...options.env, DOCKER_CONFIG: this.dockerConfig}
    const signals = [this.aborter.signal, options.signal, this.signal].filter((s): s is AbortSignal => s !== undefined)
    const result = await run(this.binary, args, {
      env,
      input: options.input,
      signal: AbortSignal.any(signals),
      onLine: options.onLine ? (line) => options.onLine!(this.clean(line)) : undefined,
    })
    return {...result, stdout: this.clean(result.stdout), stderr: this.clean(result.stderr), output: this.clean(result.output)}
  }

  /** Docker output as a log shows it: without terminal escape codes, redacted. */
  private clean(text: string): string {
    return this.redact(text.replace(ANSI_ESCAPE, ''))
  }

  /**
   * The daemon's default registry (Docker Hub) as a URL, from `docker info`: the endpoint of the
   * registry API when DOCKER_REGISTRY is empty, known to docker and so never hard-coded here.
   */
  async defaultIndex(): Promise<string> {
    const result = await this.run(['info', '--format', '{{.IndexServerAddress}}'])
    const address = result.stdout.trim()
    if (result.exitCode !== 0 || !/^https?:\/\//.test(address)) {
      throw new ToolError('cannot ask the Docker daemon for its default registry (docker info)', {
        details: result.output.trim() || undefined,
        suggestions: ['check that the Docker daemon is running (DOCKER_HOST)', 'or set DOCKER_REGISTRY to the registry host'],
      })
    }
    return address
  }

  /** `DOCKER_BUILDKIT=0` in the environment: the user asks for the legacy builder, as `docker build` honours it. */
  get buildkitDisabled(): boolean {
    return this.baseEnv.DOCKER_BUILDKIT === '0'
  }

  /** Whether `docker buildx` is available (asked once, by its exit code). */
  hasBuildx(): Promise<boolean> {
    this.buildx ??= this.run(['buildx', 'version']).then(
      (r) => r.exitCode === 0,
      () => false,
    )
    return this.buildx
  }

  /**
   * The ID of the local image tagged `reference` (`docker image inspect`), or undefined when the
   * daemon has none: what `images push` checks before it pushes anything.
   */
  async imageId(reference: string, signal?: AbortSignal): Promise<string | undefined> {
    const result = await this.run(['image', 'inspect', '--format', '{{.Id}}', reference], {signal})
    if (result.exitCode === 0) return result.stdout.trim()
    const output = tail(result.output, 10)
    if (isDaemonUnreachable(output)) throw daemonError(output)
    if (/no such (image|object)/i.test(output)) return undefined
    throw new ToolError(`cannot ask the Docker daemon about the local image ${reference} (docker image inspect exited with ${result.exitCode})`, {
      details: output || undefined,
      suggestions: ['check that the Docker daemon is running (DOCKER_HOST) and that docker image inspect works for this user'],
    })
  }

  /**
   * `docker pull --quiet <reference>` (into the daemon; logged in first, if the registry wants it):
   * `missing` when the registry has no such manifest, a RegistryError for any other failure.
   */
  async pull(reference: string, signal?: AbortSignal): Promise<'pulled' | 'missing'> {
    const result = await this.run(['pull', '--quiet', reference], {signal})
    if (result.exitCode === 0) return 'pulled'
    const output = tail(result.output, 10)
    if (isDaemonUnreachable(output)) throw daemonError(output)
    // distribution: `manifest unknown`; docker words a missing tag `manifest for … not found`.
    if (/manifest unknown|manifest for \S+ not found/i.test(output)) return 'missing'
    throw new RegistryError(`docker pull ${reference} failed: ${output.split('\n').pop() || `exit ${result.exitCode}`}`, {details: output || undefined})
  }

  /** `docker tag <source> <target>`. */
  async tag(source: string, target: string, signal?: AbortSignal): Promise<void> {
    const result = await this.run(['tag', source, target], {signal})
    if (result.exitCode === 0) return
    const output = tail(result.output, 10)
    if (isDaemonUnreachable(output)) throw daemonError(output)
    throw new ToolError(`docker tag ${source} ${target} failed: ${output.split('\n').pop() || `exit ${result.exitCode}`}`, {details: output || undefined})
  }

  /**
   * `docker login --password-stdin` into the temporary DOCKER_CONFIG; the password goes on stdin only.
   * A refused login is not retried; an unreachable registry is, then fails with exit 5.
   */
  async login(host: string | undefined, username: string, password: string, retry: RetryPolicy = DEFAULT_RETRY, onRetry?: (m: string) => void): Promise<void> {
    const where = host ?? 'Docker Hub'
    const args = ['login', '--username', username, '--password-stdin', ...(host ? [host] : [])]
    try {
      await withRetry(
        async () => {
          const result = await this.run(args, {input: password})
          if (result.exitCode === 0) return
          const output = tail(result.output, 10)
          if (isDaemonUnreachable(output)) throw daemonError(output)
          const kind = classifyDockerFailure(output)
          if (kind === 'tls') {
            throw new RegistryError(`docker login to ${where} failed on TLS: ${output.split('\n').pop()}`, {
              details: output,
              suggestions: dockerTlsSuggestions(host ?? '<registry host>'),
            })
          }
          if (kind === 'auth') {
            throw new RegistryError(`docker login to ${where} was refused for user "${username}"`, {
              details: output,
              suggestions: ['check DOCKER_USERNAME and DOCKER_PASSWORD (the Jenkins credentials bound to them)'],
            })
          }
          throw new TransientError(`docker login to ${where} failed: ${output.split('\n').pop()}`)
        },
        {policy: retry, signal: this.signal, onRetry: (e, attempt, delay) => onRetry?.(`${(e as Error).message}; attempt ${attempt + 1} of ${retry.attempts} in ${delay} ms`)},
      )
    } catch (error) {
      if (error instanceof TransientError) {
        throw new RegistryError(`${error.message} (${retry.attempts} attempts)`, {
          suggestions: [`check DOCKER_REGISTRY and that the registry ${where} is running and reachable from this machine`],
        })
      }
      throw error
    }
  }

  /** Removes the temporary DOCKER_CONFIG (idempotent) and stops listening for signals. */
  async dispose(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort)
    this.removeConfigDir()
  }

  private removeConfigDir(): void {
    for (const sig of this.ownSignals) process.removeListener(sig, this.onSignal)
    process.removeListener('exit', this.onExit)
    if (this.configDir) {
      rmSync(this.configDir, {recursive: true, force: true})
      this.configDir = undefined
    }
  }

  private interrupted(signal: NodeJS.Signals): void {
    // Stop our docker children, remove the credentials, then let the signal do what it would have done.
    this.aborter.abort()
    this.removeConfigDir()
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }
}

export function isDaemonUnreachable(output: string): boolean {
  return /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i.test(output)
}

export function daemonError(output: string): ToolError {
  return new ToolError('cannot talk to the Docker daemon', {
    details: output,
    suggestions: ['check that dockerd is running and that DOCKER_HOST points to it'],
  })
}
