/** Types shared by the kube modules and the pipeline (the public ones are re-exported by index.ts). */
import type {Config, PhaseConfig} from '../config/model.js'
import type {ManifestObject} from '../manifests/parse.js'
import type {TestTotals} from '../util/junit.js'
import type {Logger} from '../util/log.js'
import type {AppSecret} from './app-secrets.js'
import type {RegistryCredentials} from './pull-secret.js'

/** Who and what an environment is: everything the cluster needs to know about one branch build. */
export interface EnvironmentIdentity {
  project: string
  /** The raw branch name (annotation); never used to build a name. */
  branch: string
  slug: string
  namespace: string
  commit: string
  buildUrl?: string
  /** The owning build (`BUILD_TAG`, `--owner`, or a generated id). */
  owner: string
  /**
   * Where `owner` came from. With `generated` (a person running the CLI by hand) the owner checks of
   * cleanup and run are skipped: a generated id never matches another process's.
   */
  ownerSource: 'build' | 'flag' | 'generated'
  /** Name → URL, stored on the namespace for `list`/`status`. */
  urls: Record<string, string>
}

export interface AppliedObject {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

/** Durations in ms; `startedAt` and `lockedAt` are epoch ms (when the deploy began, when it got the branch lock). */
export interface DeployTimings {
  startedAt: number
  lockedAt: number
  lockWait: number
  terminatingWait: number
  capacityWait: number
  apply: number
  rollout: number
  total: number
}

export interface DeployResult {
  namespace: string
  /** True when the namespace did not exist (or was recreated by --fresh). */
  created: boolean
  fresh: boolean
  keep: boolean
  expiresAt: string
  /** Every object of the manifests, now in the environment as they say. */
  applied: AppliedObject[]
  /** How many of them were live as their manifests say already, and not sent again. */
  unchanged: number
  /** Deleted because an earlier deploy applied them and the manifests no longer have them. */
  pruned: AppliedObject[]
  workloads: WorkloadStatusSummary[]
  capacitySlot?: number
  urls: Record<string, string>
  timings: DeployTimings
}

export interface WorkloadStatusSummary {
  kind: string
  name: string
  ready: boolean
  /** e.g. `2/2 ready`, `complete`. */
  status: string
  /** Why it is not ready, from its pods (`status` only), e.g. `web-7f9c/php-fpm: CrashLoopBackOff`. */
  problem?: string
}

export interface DeployContext {
  identity: EnvironmentIdentity
  config: Config
  /** The rendered manifests (multi-document YAML). */
  manifestsFile: string
  /** Its objects, when the caller parsed the file already (render, in the same build). */
  manifests?: ManifestObject[]
  logger: Logger
  /** Delete and recreate the namespace first (default: config.deploy.fresh). */
  fresh?: boolean
  /** Keep the environment for review until the ttl (default: config.deploy.keep). */
  keep?: boolean
  /** For the image pull secret (config.deploy.imagePullSecret); see pullCredentialsFromEnv. */
  pullCredentials?: RegistryCredentials
  /** The Secrets of config.deploy.secrets with their values; see appSecretsFromEnv. */
  appSecrets?: AppSecret[]
  signal?: AbortSignal
}

export interface PhaseContext {
  identity: EnvironmentIdentity
  config: Config
  phase: PhaseConfig
  workspace: string
  logger: Logger
  signal?: AbortSignal
  /** The caller keeps the owner lease renewed (`build`'s heartbeat): the phase starts no heartbeat of its own. */
  ownerLeaseKept?: boolean
}

export interface PhaseResult {
  phase: string
  namespace: string
  pod: string
  container?: string
  exitCode: number
  durationMs: number
  /** Files copied out, relative to the workspace. */
  artifacts: string[]
  artifactsDir: string
  /** Artifact patterns that matched nothing. */
  missingArtifacts: string[]
  /** Totals of the JUnit reports among the artifacts. */
  tests?: TestTotals
}

export interface LogsContext {
  namespace: string
  workspace: string
  logger: Logger
  signal?: AbortSignal
}

export interface LogFile {
  pod: string
  container: string
  previous: boolean
  /** Relative to the workspace. */
  path: string
  bytes: number
}

export interface LogsResult {
  namespace: string
  dir: string
  files: LogFile[]
  /** Containers whose log could not be read (not started, pod gone, ...). */
  skipped: Array<{pod: string; container: string; previous: boolean; reason: string}>
  /** `events.log`: the namespace's events (relative to the workspace), when they could be read. */
  events?: {path: string; count: number}
}

export interface CleanupContext {
  identity: EnvironmentIdentity
  config: Config
  logger: Logger
  /** Deadline for the namespace to disappear (default: config.deploy.timeout). */
  timeout?: number
  /** Delete even when another build owns the namespace or it is kept for review. */
  force?: boolean
  signal?: AbortSignal
}

export type CleanupOutcome = 'deleted' | 'absent' | 'kept' | 'owned-by-other-build'

export interface CleanupResult {
  namespace: string
  outcome: CleanupOutcome
  /** Human explanation of the outcome. */
  reason: string
  durationMs: number
  /** When the namespace was seen gone (ms since epoch), for measurements. */
  goneAt?: number
}
