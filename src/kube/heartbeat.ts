/** For the `build` pipeline: keep the environment's owner Lease alive for the whole build (see owner.ts). */
import type {Logger} from '../util/log.js'
import {getKube} from './client.js'
import {startOwnerHeartbeat} from './owner.js'
import type {EnvironmentIdentity} from './types.js'

/**
 * Renews the owner Lease of `identity.namespace` until `stop()`; a no-op for generated (manual)
 * owners. `build` starts it right after the deploy, whose own heartbeat renewed the lease at most
 * a third of its duration ago: `renewNow: false` spares a request then.
 */
export async function startEnvironmentHeartbeat(ctx: {identity: EnvironmentIdentity; logger: Logger; renewNow?: boolean}): Promise<{stop(): void}> {
  if (ctx.identity.ownerSource === 'generated') return {stop() {}}
  const kube = await getKube()
  return startOwnerHeartbeat(kube, ctx.identity.namespace, ctx.identity.owner, ctx.logger, {now: ctx.renewNow ?? true})
}
