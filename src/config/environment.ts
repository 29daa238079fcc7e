/**
 * The build's environment variables (DESIGN §3): what each is for, which the configured pipeline
 * needs, and every problem at once. Secret values are never printed, only `set` / `not set`.
 */
import type {EnvProblem} from '../errors.js'
import {checkRegistryHost} from '../images/reference.js'
import {validateDomain, validatePort} from '../names/index.js'
import {isCommitId} from '../util/commit.js'
import type {Env} from './load.js'
import type {Config} from './model.js'

export interface VariableSpec {
  name: string
  purpose: string
  secret?: boolean
  /** Needed by this config (and the other variables)? */
  required: (config: Config, env: Env) => boolean
  /** The problem when it is required and not set; default `is not set`. */
  missing?: (env: Env) => string
  /** Problem with a set value, if any. */
  check?: (value: string) => string | undefined
  /** What is used when the variable is not set. */
  fallback?: string
}

/**
 * The pull secret's read-only pair is used only whole: half of it is a mistake, not a fallback to
 * the push account. The one rule and message for `env check`, the build's check stage (through the
 * variables below) and `deploy` (pullCredentialsFromEnv).
 */
export function pullPairProblem(env: Env): EnvProblem | undefined {
  const user = Boolean(env.DOCKER_PULL_USERNAME)
  if (user === Boolean(env.DOCKER_PULL_PASSWORD)) return undefined
  const [missing, set] = user ? ['DOCKER_PULL_PASSWORD', 'DOCKER_PULL_USERNAME'] : ['DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD']
  const spec = VARIABLES.find((v) => v.name === missing)!
  return {name: missing, purpose: spec.purpose, problem: `is not set, but ${set} is`}
}

/** Required when it is the missing half of the pull pair and the config makes a pull secret. */
function missingHalfOfPullPair(name: string): (config: Config, env: Env) => boolean {
  return (config, env) => config.deploy.imagePullSecret && pullPairProblem(env)?.name === name
}

const pullPairMessage = (env: Env) => pullPairProblem(env)?.problem ?? 'is not set'

/** Images to push, or an image pull secret to make without the read-only pair. */
function needsRegistryCredential(config: Config, env: Env): boolean {
  return config.images.length > 0 || (config.deploy.imagePullSecret && !env.DOCKER_PULL_USERNAME && !env.DOCKER_PULL_PASSWORD)
}

export const VARIABLES: VariableSpec[] = [
  {name: 'WORKSPACE', purpose: 'where the repository is checked out', required: () => false, fallback: 'the current directory'},
  {
    name: 'DEVELOPMENT_SERVER_DOMAIN',
    purpose: 'base domain of the CI server; the branch\'s hosts are made under it',
    required: () => true,
    check: validateDomain,
  },
  {
    name: 'NGINX_INGRESS_CONTROLLER_HOST_PORT',
    purpose: 'host port of the ingress controller; appears in the app\'s URLs',
    required: () => false,
    check: validatePort,
    fallback: 'the scheme\'s default port (no port in URLs)',
  },
  {name: 'BRANCH_NAME', purpose: 'the branch being built (set by multibranch jobs)', required: () => false, fallback: 'JOB_NAME, else the checkout\'s current branch'},
  {name: 'JOB_NAME', purpose: 'the Jenkins job; its last segment is the branch in multibranch jobs', required: () => false},
  {
    name: 'GIT_COMMIT',
    purpose: 'the commit being built; image tags and annotations use it',
    required: () => false,
    check: (v) => (isCommitId(v) ? undefined : 'must be a hexadecimal commit id'),
    fallback: 'git rev-parse HEAD of the workspace',
  },
  {
    name: 'DOCKER_REGISTRY',
    purpose: 'registry the images are pushed to (host or host:port)',
    required: () => false,
    check: checkRegistryHost,
    fallback: 'Docker Hub',
  },
  {name: 'DOCKER_USERNAME', purpose: 'registry user; also the first part of every image repository', required: needsRegistryCredential},
  {name: 'DOCKER_PASSWORD', purpose: 'registry password or access token', secret: true, required: needsRegistryCredential},
  {
    name: 'DOCKER_PULL_USERNAME',
    purpose: 'read-only registry account for the namespace\'s image pull secret (deploy.imagePullSecret)',
    required: missingHalfOfPullPair('DOCKER_PULL_USERNAME'),
    missing: pullPairMessage,
    fallback: 'DOCKER_USERNAME',
  },
  {
    name: 'DOCKER_PULL_PASSWORD',
    purpose: 'password or access token of the read-only account DOCKER_PULL_USERNAME',
    secret: true,
    required: missingHalfOfPullPair('DOCKER_PULL_PASSWORD'),
    missing: pullPairMessage,
    fallback: 'DOCKER_PASSWORD',
  },
]

/**
 * The variables `deploy.secrets` reads: each is required (its Secret would lack a key) and secret
 * (its value is never printed, and every output masks it). One per variable, however many keys use it.
 */
export function secretVariables(secrets: Config['deploy']['secrets']): VariableSpec[] {
  const uses = new Map<string, string[]>()
  for (const [secret, keys] of Object.entries(secrets)) {
    for (const [key, variable] of Object.entries(keys)) uses.set(variable, [...(uses.get(variable) ?? []), `key ${key} of Secret ${secret}`])
  }
  return [...uses].map(([name, keys]) => ({name, purpose: `${keys.join(', ')} (deploy.secrets)`, secret: true, required: () => true}))
}

/** Every variable this config reads: the build's own and those of deploy.secrets (which the config check keeps apart from the build's own). */
export function variablesFor(config: Config): VariableSpec[] {
  return [...VARIABLES, ...secretVariables(config.deploy.secrets)]
}

export interface VariableStatus {
  name: string
  purpose: string
  status: 'set' | 'not set' | 'invalid'
  required: boolean
  /** The value, for non-secret variables that are set. */
  value?: string
  fallback?: string
  problem?: string
}

export function checkEnvironment(config: Config, env: Env, specs: VariableSpec[] = variablesFor(config)): VariableStatus[] {
  return specs.map((spec) => {
    const value = env[spec.name]
    const required = spec.required(config, env)
    const base = {name: spec.name, purpose: spec.purpose, required, fallback: spec.fallback}
    if (value === undefined || value === '') {
      return {...base, status: 'not set', problem: required ? (spec.missing?.(env) ?? 'is not set') : undefined}
    }
    const problem = spec.check?.(value)
    return {...base, status: problem ? 'invalid' : 'set', value: spec.secret ? undefined : value, problem}
  })
}

/** The variables with a problem (missing but required, or malformed), as EnvironmentError problems. */
export function environmentProblems(statuses: VariableStatus[]): EnvProblem[] {
  return statuses.filter((v) => v.problem).map((v) => ({name: v.name, purpose: v.purpose, problem: v.problem!}))
}

/** One line per variable, for the log. Secret values never appear. */
export function formatEnvironment(statuses: VariableStatus[]): string {
  const width = Math.max(...statuses.map((s) => s.name.length))
  return statuses
    .map((s) => {
      const state = s.problem ? `PROBLEM: ${s.problem}` : s.status === 'set' ? (s.value === undefined ? 'set' : `= ${s.value}`) : `not set${s.fallback ? ` (using ${s.fallback})` : ''}`
      return `${s.name.padEnd(width)}  ${state}`
    })
    .join('\n')
}

/**
 * The values of the secret variables that are set, longest first (one may contain another): what
 * a report must never hold.
 */
export function secretValues(env: Env, specs: VariableSpec[] = VARIABLES): string[] {
  return specs
    .filter((s) => s.secret)
    .map((s) => env[s.name] ?? '')
    .filter((v) => v !== '')
    .sort((a, b) => b.length - a.length)
}
