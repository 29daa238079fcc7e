/**
 * The per-branch lock: a Lease `lock-<namespace>` in the system namespace, held by one process
 * (holder `<owner> (pid … on host, nonce)`) for 30 s and renewed every 10 s while it works. deploy
 * and cleanup of a branch take it, so they never run at the same time for one branch; a process
 * that dies loses it after 30 s at most.
 */
import {LockTimeoutError} from '../errors.js'
import {formatDuration} from '../util/duration.js'
import type {Logger} from '../util/log.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_LABEL, SLUG_LABEL} from '../conventions.js'
import {branchLockName, LABEL_LEASE_ROLE} from './constants.js'
import {isNotFound, type Kube} from './client.js'
import {HeldLease, type LeaseLike, processHolderIdentity, tryAcquireLease, tryCreateLease, waitForLease} from './lease.js'
import {ensureSystemNamespace} from './namespace.js'
import type {EnvironmentIdentity} from './types.js'

export const BRANCH_LOCK_SECONDS = 30

export interface BranchLockOptions {
  identity: Pick<EnvironmentIdentity, 'project' | 'slug' | 'namespace' | 'owner'>
  systemNamespace: string
  /** ms */
  timeout: number
  logger: Logger
  signal?: AbortSignal
}

export function branchLockRef(identity: BranchLockOptions['identity'], systemNamespace: string) {
  return {
    namespace: systemNamespace,
    name: branchLockName(identity.namespace),
    labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PROJECT_LABEL]: identity.project, [SLUG_LABEL]: identity.slug, [LABEL_LEASE_ROLE]: 'branch-lock'},
  }
}

/** Takes the branch lock, waiting up to `timeout` (then LockTimeoutError, exit 9). */
export async function acquireBranchLock(kube: Kube, options: BranchLockOptions): Promise<HeldLease> {
  const ref = branchLockRef(options.identity, options.systemNamespace)
  const holder = processHolderIdentity(options.identity.owner)
  const started = Date.now()
  const created = await createLeaseMakingNamespace(kube, ref, holder, options.systemNamespace)
  if (created) return new HeldLease(kube, ref, holder, BRANCH_LOCK_SECONDS, options.logger, created).startRenewing()
  const lease = await waitForLease(() => tryAcquireLease(kube, ref, holder, BRANCH_LOCK_SECONDS), {
    deadline: started + options.timeout,
    signal: options.signal,
    logger: options.logger,
    what: `the lock of ${options.identity.namespace}`,
    interval: 500,
    onTimeout: (lastHolder) =>
      new LockTimeoutError(`timed out after ${formatDuration(Date.now() - started)} waiting for the lock of ${options.identity.namespace}, held by ${lastHolder ?? 'another build'}`, {
        suggestions: ['another build of this branch is deploying or cleaning up; wait for it, or raise deploy.lockTimeout'],
      }),
  })
  return new HeldLease(kube, ref, holder, BRANCH_LOCK_SECONDS, options.logger, lease).startRenewing()
}

/**
 * The lock's first try, a create; the tool's namespace is made only when the create finds it
 * missing (404), not read before every lock (a round trip of every deploy and cleanup).
 */
async function createLeaseMakingNamespace(kube: Kube, ref: ReturnType<typeof branchLockRef>, holder: string, systemNamespace: string): Promise<LeaseLike | undefined> {
  try {
    return await tryCreateLease(kube, ref, holder, BRANCH_LOCK_SECONDS)
  } catch (error) {
    if (!isNotFound(error)) throw error
    await ensureSystemNamespace(kube, systemNamespace)
    return tryCreateLease(kube, ref, holder, BRANCH_LOCK_SECONDS)
  }
}

/** Tries once, without waiting; undefined when someone else holds the lock. */
export async function tryBranchLock(kube: Kube, options: Omit<BranchLockOptions, 'timeout' | 'signal'>): Promise<HeldLease | undefined> {
  await ensureSystemNamespace(kube, options.systemNamespace)
  const ref = branchLockRef(options.identity, options.systemNamespace)
  const holder = processHolderIdentity(options.identity.owner)
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await tryAcquireLease(kube, ref, holder, BRANCH_LOCK_SECONDS)
    if (result.acquired) return new HeldLease(kube, ref, holder, BRANCH_LOCK_SECONDS, options.logger, result.lease).startRenewing()
    if (!result.conflict) return undefined
  }
  return undefined
}
