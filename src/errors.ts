/**
 * Typed errors and the one exit-code table (DESIGN §6).
 *
 * Library code throws one of these; only the command layer (src/base-command.ts) turns them into a
 * message and an exit code. Every error says what went wrong, where, and what to do.
 */

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  environment: 3,
  imageBuild: 4,
  registry: 5,
  deploy: 6,
  phase: 7,
  cleanup: 8,
  lock: 9,
  /** 128 + SIGINT, as a shell reports a command stopped by Ctrl-C; also for SIGTERM (a Jenkins abort). */
  interrupted: 130,
} as const

/** Published in `--help` and docs/troubleshooting.md (its exit-code table); keep them in step. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [0, 'ok'],
  [1, 'unexpected error (a bug: please report it with DEBUG=shopsys-ci* output)'],
  [2, 'usage or configuration error'],
  [3, 'environment: a required variable or tool is missing'],
  [4, 'image build failed'],
  [5, 'registry: login, lookup or push failed'],
  [6, 'deploy or rollout failed'],
  [7, 'a phase (tests, checks) failed'],
  [8, 'cleanup failed'],
  [9, 'timed out waiting for the branch lock or a capacity slot'],
  [130, 'interrupted by SIGINT or SIGTERM (a Jenkins abort): stopped, released its locks, said what is left'],
]

export function exitCodeHelp(): string {
  const width = Math.max(...EXIT_CODE_TABLE.map(([code]) => String(code).length))
  return EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padStart(width)}  ${text}`).join('\n')
}

export interface CiErrorOptions {
  /** What the user can do about it; printed as "Try:" lines. */
  suggestions?: string[]
  cause?: unknown
  /** Extra lines (diagnostics, tool output) printed after the message. */
  details?: string
}

export abstract class CiError extends Error {
  abstract readonly exitCode: number
  /** Short machine-readable code for --json, e.g. CONFIG_INVALID. */
  abstract readonly code: string
  readonly suggestions: string[]
  readonly details?: string

  constructor(message: string, options: CiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.suggestions = options.suggestions ?? []
    this.details = options.details
  }
}

export class UsageError extends CiError {
  readonly exitCode = ExitCode.usage
  readonly code = 'USAGE'
}

/** One problem in a config file, located as precisely as we can. */
export interface ConfigProblem {
  file: string
  line?: number
  column?: number
  key?: string
  message: string
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`
  return p.key ? `${where}: ${p.key}: ${p.message}` : `${where}: ${p.message}`
}

export class ConfigError extends CiError {
  readonly exitCode = ExitCode.usage
  readonly code = 'CONFIG_INVALID'
  readonly problems: ConfigProblem[]

  constructor(problems: ConfigProblem[], options: CiErrorOptions = {}) {
    const n = problems.length
    super(
      `${n} problem${n === 1 ? '' : 's'} in the configuration:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`,
      options,
    )
    this.problems = problems
  }
}

export class TemplateError extends CiError {
  readonly exitCode = ExitCode.usage
  readonly code = 'TEMPLATE'
}

export class ManifestError extends CiError {
  readonly exitCode = ExitCode.usage
  readonly code = 'MANIFESTS'
}

/** One missing or malformed environment variable. */
export interface EnvProblem {
  name: string
  purpose: string
  problem: string
}

export class EnvironmentError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'ENVIRONMENT'
  readonly problems: EnvProblem[]

  constructor(problems: EnvProblem[], options: CiErrorOptions = {}) {
    super(
      `${problems.length} environment problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.name}: ${p.problem} (${p.purpose})`).join('\n'),
      options,
    )
    this.problems = problems
  }
}

/** A tool (docker, kubectl, git) is missing or unusable. */
export class ToolError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'TOOL'
}

/** The Kubernetes API server did not answer (refused, reset, unknown host), retries included. */
export class ClusterUnreachableError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'CLUSTER_UNREACHABLE'
}

/** The Kubernetes API server refused the kubeconfig's credentials (401): invalid or expired. */
export class ClusterUnauthorizedError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'CLUSTER_UNAUTHORIZED'
}

/**
 * The kubeconfig's credentials could not even be made: its exec plugin (`aws eks get-token`,
 * `gke-gcloud-auth-plugin`, `kubelogin`) is missing on the agent, failed, or printed no credential.
 */
export class ClusterCredentialError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'CLUSTER_CREDENTIAL'
}

/** The API server's TLS certificate is not the one the kubeconfig trusts (wrong CA, expired, another name). */
export class ClusterCertificateError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'CLUSTER_CERTIFICATE'
}

/** The kubeconfig's account lacks a right the tool needs (403, RBAC). */
export class ClusterForbiddenError extends CiError {
  readonly exitCode = ExitCode.environment
  readonly code = 'CLUSTER_FORBIDDEN'
}

export class ImageBuildError extends CiError {
  readonly exitCode = ExitCode.imageBuild
  readonly code = 'IMAGE_BUILD'
}

/**
 * `images push` found no local image for a tag the registry does not have: the build that should have
 * made it did not run here, or ran with another commit, config or registry. Nothing failed to build
 * and the registry is fine, so this is a usage error (exit 2), not exit 4 or 5.
 */
export class ImageNotBuiltError extends CiError {
  readonly exitCode = ExitCode.usage
  readonly code = 'IMAGE_NOT_BUILT'
}

export class RegistryError extends CiError {
  readonly exitCode = ExitCode.registry
  readonly code = 'REGISTRY'
}

export class DeployError extends CiError {
  readonly exitCode = ExitCode.deploy
  readonly code = 'DEPLOY'
}

export class PhaseError extends CiError {
  readonly exitCode = ExitCode.phase
  readonly code = 'PHASE'
}

export class CleanupError extends CiError {
  readonly exitCode = ExitCode.cleanup
  readonly code = 'CLEANUP'
}

export class LockTimeoutError extends CiError {
  readonly exitCode = ExitCode.lock
  readonly code = 'LOCK_TIMEOUT'
}

/** What an interrupted command was doing, what it let go of, and what it leaves behind. */
export interface InterruptionParts {
  /** The command and its object, e.g. `deploy of shop-feature-x`. */
  what: string
  /** What it was waiting for when the signal came, e.g. `waiting for the rollout (after 12s)`. */
  during?: string
  /** What it released on its way out, e.g. `the branch lock`. */
  released?: string[]
  /** What stays behind and what to do about it; `nothing was changed` when nothing does. */
  left?: string
}

/** Pure: the one line an interruption is reported with. */
export function interruptionMessage(by: string, parts: InterruptionParts): string {
  const released = parts.released?.length ? `; released ${parts.released.join(' and ')}` : ''
  return `${parts.what}: interrupted by ${by}${parts.during ? ` while ${parts.during}` : ''}${released}${parts.left ? `; ${parts.left}` : ''}`
}

/**
 * The command was stopped by SIGINT/SIGTERM (a Jenkins abort): it released what it held (the branch
 * lock) and says what is left. Exit 130 for every command, `build` included.
 */
export class InterruptedError extends CiError {
  readonly exitCode = ExitCode.interrupted
  readonly code = 'INTERRUPTED'
  /** The signal that stopped the command (SIGINT, SIGTERM), when one did. */
  readonly signal?: string
  readonly parts?: InterruptionParts

  constructor(message: string, options: CiErrorOptions & {signal?: string; parts?: InterruptionParts} = {}) {
    super(message, options)
    this.signal = options.signal
    this.parts = options.parts
  }

  /** An interruption by `by` (a signal name), reported with `interruptionMessage`. */
  static of(by: string, parts: InterruptionParts, options: CiErrorOptions = {}): InterruptedError {
    return new InterruptedError(interruptionMessage(by, parts), {...options, signal: by, parts})
  }
}

/** What aborted `signal`: the name of the signal that interrupted the command (`SIGTERM`), else `an abort`. */
export function abortedBy(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason
  if (reason instanceof InterruptedError && reason.signal) return reason.signal
  if (typeof reason === 'string' && reason) return reason
  return 'an abort'
}

/** The InterruptedError in an error's cause chain (a StageError wraps it), if any. */
export function interruptionOf(error: unknown): InterruptedError | undefined {
  for (let e = error; e && typeof e === 'object'; e = (e as {cause?: unknown}).cause) {
    if (e instanceof InterruptedError) return e
  }
  return undefined
}

const partialResults = new WeakMap<object, unknown>()

/** Attaches what a failed stage still produced (a failed phase: its exit code, its artifacts). */
export function withPartialResult<E extends object>(error: E, result: unknown): E {
  partialResults.set(error, result)
  return error
}

/** The partial result an error carries, also through the StageError that wraps it. */
export function partialResultOf<T>(error: unknown): T | undefined {
  for (let e = error; e && typeof e === 'object'; e = (e as {cause?: unknown}).cause) {
    if (partialResults.has(e)) return partialResults.get(e) as T
  }
  return undefined
}

/** Wraps a failure with the pipeline stage it happened in, keeping the cause's exit code. */
export class StageError extends CiError {
  readonly exitCode: number
  readonly code: string
  readonly stage: string

  constructor(stage: string, cause: unknown) {
    const inner = cause instanceof CiError ? cause : undefined
    const text = cause instanceof Error ? cause.message : String(cause)
    // A message that names the stage already ("phase checks failed with exit code 5", "phase checks:
    // deployment/web does not exist") is not prefixed again: "phase checks: phase checks: …".
    super(text.startsWith(`${stage}:`) || text.startsWith(`${stage} `) ? text : `${stage}: ${text}`, {
      cause,
      suggestions: inner?.suggestions,
      details: inner?.details,
    })
    this.stage = stage
    this.exitCode = inner?.exitCode ?? ExitCode.unexpected
    this.code = inner?.code ?? 'UNEXPECTED'
  }
}
