/**
 * "Is the build that owns this environment still alive?" Each environment has a Lease
 * `shopsys-ci-owner` in its own namespace, held by the owning build id. Every command of the build
 * that works on the environment (deploy, run, logs export, the whole `build`) renews it while it
 * runs; gc treats an environment whose owner lease has not been renewed for its duration plus a
 * grace period as left over from a build that died. The Lease goes away with the namespace.
 */
import type {Logger} from '../util/log.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../conventions.js'
import {LABEL_LEASE_ROLE, OWNER_LEASE_NAME} from './constants.js'
import {type Kube, isNotFound, microTime} from './client.js'
import {type LeaseLike, readLease} from './lease.js'

/** How long a renewal keeps the owner "alive"; renewed every third of it. */
export const OWNER_LEASE_SECONDS = 300

export async function renewOwnerLease(kube: Kube, namespace: string, owner: string, durationSeconds = OWNER_LEASE_SECONDS): Promise<void> {
  await kube.serverSideApply({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {name: OWNER_LEASE_NAME, namespace, labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [LABEL_LEASE_ROLE]: 'owner'}},
    spec: {holderIdentity: owner, leaseDurationSeconds: durationSeconds, renewTime: microTime()},
  })
}

export function readOwnerLease(kube: Kube, namespace: string): Promise<LeaseLike | undefined> {
  return readLease(kube, {namespace, name: OWNER_LEASE_NAME})
}

export interface OwnerHeartbeat {
  stop(): void
}

/**
 * Renews the owner lease every `durationSeconds / 3` until stopped, and at once unless `now` is
 * false (the caller renewed it within the last third). Failures are logged, not thrown.
 */
export function startOwnerHeartbeat(kube: Kube, namespace: string, owner: string, logger: Logger, {durationSeconds = OWNER_LEASE_SECONDS, now = true}: {durationSeconds?: number; now?: boolean} = {}): OwnerHeartbeat {
  const beat = () =>
    renewOwnerLease(kube, namespace, owner, durationSeconds).catch((error: unknown) => {
      if (!isNotFound(error)) logger.debug(`renewing the owner lease of ${namespace} failed: ${(error as Error).message}`)
    })
  if (now) void beat()
  const timer = setInterval(() => void beat(), (durationSeconds * 1000) / 3)
  timer.unref()
  return {stop: () => clearInterval(timer)}
}
