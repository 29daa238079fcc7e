/**
 * Everything a command needs to know about "this build": the config, the branch and its names, the
 * commit. Resolved once, the same way for every command, from flags > environment > config > defaults.
 */
import type {Env, LoadedConfig} from '../config/load.js'
import type {Config} from '../config/model.js'
import {EnvironmentError} from '../errors.js'
import type {EnvironmentIdentity} from '../kube/types.js'
import {computeNames, type Names, resolveBranch, type ResolvedBranch, validateDomain, validateNamespace} from '../names/index.js'

export interface BuildContext {
  config: Config
  configFile?: string
  workspace: string
  env: Env
  branch: ResolvedBranch
  names: Names
  domain: string
  hostPort?: string
  /**
   * What resolving left to the check stage (`deferProblems`), which names it with every other
   * problem and so never lets a build go on with these. Then the names that need the domain are
   * empty.
   */
  deferred?: EnvironmentError[]
}

export interface ContextOptions {
  loaded: LoadedConfig
  workspace: string
  env: Env
  branchFlag?: string
  namespaceFlag?: string
  /** Domain to use when DEVELOPMENT_SERVER_DOMAIN is unset (e.g. `names` on a laptop); else it is required. */
  domainFallback?: string
  /**
   * `build`: a missing or invalid DEVELOPMENT_SERVER_DOMAIN does not throw but goes into `deferred`,
   * so that its check stage reports it once, together with every other variable.
   */
  deferProblems?: boolean
}

const DOMAIN_PURPOSE = 'base domain of the CI server; the branch\'s hosts are made under it'

export async function resolveContext(options: ContextOptions): Promise<BuildContext> {
  const {config} = options.loaded
  const domain = options.env.DEVELOPMENT_SERVER_DOMAIN || options.domainFallback
  const domainProblem = domain ? validateDomain(domain) : 'is not set'
  if (!domain && !options.deferProblems) throw new EnvironmentError([{name: 'DEVELOPMENT_SERVER_DOMAIN', purpose: DOMAIN_PURPOSE, problem: 'is not set'}])
  const hostPort = options.env.NGINX_INGRESS_CONTROLLER_HOST_PORT || undefined
  const branch = await resolveBranch({flag: options.branchFlag, env: options.env, cwd: options.workspace})
  // (Without a domain, only with deferProblems do we get here.)
  if (!domain || (domainProblem && options.deferProblems)) {
    // Without a domain the slug's room (host lengths) is unknown: no slug, namespace or host yet.
    if (options.namespaceFlag !== undefined) validateNamespace(options.namespaceFlag)
    const names = {branch: branch.branch.trim(), slug: '', namespace: options.namespaceFlag ?? '', hosts: {}, urls: {}}
    const deferred = [new EnvironmentError([{name: 'DEVELOPMENT_SERVER_DOMAIN', purpose: DOMAIN_PURPOSE, problem: domainProblem ?? 'is not set'}])]
    return {config, configFile: options.loaded.file, workspace: options.workspace, env: options.env, branch, names, domain: '', hostPort, deferred}
  }
  const names = computeNames({
    branch: branch.branch,
    project: config.project,
    namespacePrefix: config.names.namespacePrefix,
    domain,
    hostPort,
    scheme: config.names.scheme,
    hosts: config.names.hosts,
    namespace: options.namespaceFlag,
  })
  return {config, configFile: options.loaded.file, workspace: options.workspace, env: options.env, branch, names, domain, hostPort}
}

/** `GIT_COMMIT`, else the workspace's HEAD (simple-git, loaded only when needed). */
export async function resolveCommit(workspace: string, env: Env): Promise<string> {
  if (env.GIT_COMMIT) return env.GIT_COMMIT
  const {simpleGit} = await import('simple-git')
  const git = simpleGit({baseDir: workspace})
  let why: string
  try {
    return (await git.revparse(['--verify', 'HEAD^{commit}'])).trim()
  } catch (error) {
    // `git init` without a commit yet: rev-parse only says "HEAD", which explains nothing.
    const isRepo = await git.checkIsRepo().catch(() => false)
    why = isRepo ? `the git repository in ${workspace} has no commit yet` : `${workspace} is not a git checkout (${(error as Error).message.split('\n')[0]})`
  }
  throw new EnvironmentError([{name: 'GIT_COMMIT', purpose: 'the commit being built; image tags and annotations use it', problem: `is not set, and ${why}`}], {
    suggestions: ['Jenkins sets GIT_COMMIT in jobs that check out with the git plugin; or commit first, or run inside a git checkout'],
  })
}

/** The build that owns the environment: `BUILD_TAG` in Jenkins, else a generated id. */
export function ownerFor(env: Env): {owner: string; ownerSource: 'build' | 'generated'} {
  if (env.BUILD_TAG) return {owner: env.BUILD_TAG, ownerSource: 'build'}
  return {owner: `manual-${Date.now().toString(36)}-${process.pid}`, ownerSource: 'generated'}
}

/** What the cluster records about this environment (DESIGN §5). */
export function identityFor(ctx: BuildContext, commit: string): EnvironmentIdentity {
  return {
    project: ctx.config.project,
    branch: ctx.names.branch,
    slug: ctx.names.slug,
    namespace: ctx.names.namespace,
    commit,
    buildUrl: ctx.env.BUILD_URL || undefined,
    ...ownerFor(ctx.env),
    urls: ctx.names.urls,
  }
}
