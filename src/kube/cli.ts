/**
 * What the kube commands share: the identity of "this branch's environment" from flags and the
 * environment, and duration flags. Kept out of src/commands so the commands stay thin.
 */
import type {Env, LoadedConfig} from '../config/load.js'
import type {Config} from '../config/model.js'
import {UsageError} from '../errors.js'
import {type BuildContext, identityFor, resolveCommit, resolveContext} from '../pipeline/context.js'
import {parseDuration} from '../util/duration.js'
import type {EnvironmentIdentity} from './types.js'

export interface IdentityOptions {
  loaded: LoadedConfig
  workspace: string
  env: Env
  branchFlag?: string
  namespaceFlag?: string
  ownerFlag?: string
  /** deploy stores URLs, so it needs DEVELOPMENT_SERVER_DOMAIN; the others do not. */
  needsDomain?: boolean
  /** deploy records the commit (GIT_COMMIT, else git HEAD); the others take GIT_COMMIT or nothing. */
  needsCommit?: boolean
}

export async function resolveIdentity(options: IdentityOptions): Promise<{ctx: BuildContext; identity: EnvironmentIdentity}> {
  const ctx = await resolveContext({
    loaded: options.loaded,
    workspace: options.workspace,
    env: options.env,
    branchFlag: options.branchFlag,
    namespaceFlag: options.namespaceFlag,
    ...(options.needsDomain ? {} : {domainFallback: 'example.test'}),
  })
  const commit = options.needsCommit ? await resolveCommit(ctx.workspace, ctx.env) : (ctx.env.GIT_COMMIT ?? '')
  const identity = identityFor(ctx, commit)
  if (options.ownerFlag) {
    identity.owner = options.ownerFlag
    identity.ownerSource = 'flag'
  }
  return {ctx, identity}
}

/** A duration flag (`90s`, `10m`, `1h30m`, plain seconds) in ms; undefined when not given. */
export function durationFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  if (ms === undefined || ms <= 0) throw new UsageError(`--${name} ${JSON.stringify(value)} is not a duration (e.g. 90s, 10m, 24h, 1h30m)`)
  return ms
}

/** The config with `deploy` overrides from flags. */
export function withDeployOverrides(config: Config, overrides: Partial<Config['deploy']>): Config {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))
  return {...config, deploy: {...config.deploy, ...defined}}
}
