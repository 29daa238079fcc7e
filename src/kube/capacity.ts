/**
 * The capacity limit: at most `capacity.maxEnvironments` environments of a project at once.
 *
 * One Lease per slot in the system namespace (`slot-<project>-<i>`), held by the environment's
 * namespace name, not by a process: an environment keeps its slot from deploy until its namespace is
 * gone, across the separate deploy / run / cleanup processes of a build, and while kept for review.
 * Taking a slot is a compare-and-swap on the Lease (409 on a stale write), so two deploys never
 * get the same slot. A slot is free when nobody holds it, or when the namespace holding it no longer
 * exists (or is being deleted) and no deploy of that branch is in progress (its branch lock is
 * free): slots of environments removed by hand or by gc come back on their own.
 */
import {LockTimeoutError} from '../errors.js'
import type {Logger} from '../util/log.js'
import {formatDuration} from '../util/duration.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_LABEL} from '../conventions.js'
import {branchLockName, capacitySlotName, LABEL_LEASE_ROLE} from './constants.js'
import type {Kube} from './client.js'
import {type LeaseLike, leaseHeld, readLease, releaseLease, tryAcquireLease, waitForLease} from './lease.js'
import {isTerminating, type NamespaceLike} from './metadata.js'
import {readNamespace} from './namespace.js'
import {selectorToString} from './selector.js'

export type SlotVerdict = 'free' | 'mine' | 'held'

/**
 * Pure: may `namespace` take this slot? `holderNamespace` is the namespace named by the slot's holder
 * (undefined when it does not exist), `holderLock` that branch's lock Lease.
 */
export function slotVerdict(slot: LeaseLike | undefined, namespace: string, holderNamespace: NamespaceLike | undefined, holderLock: LeaseLike | undefined, now: number): SlotVerdict {
  const holder = slot?.spec?.holderIdentity
  if (!holder) return 'free'
  if (holder === namespace) return 'mine'
  const terminating = isTerminating(holderNamespace)
  if (holderNamespace && !terminating) return 'held'
  return leaseHeld(holderLock, now) ? 'held' : 'free'
}

export interface CapacityOptions {
  project: string
  namespace: string
  max: number
  systemNamespace: string
  /** ms since epoch */
  deadline: number
  logger: Logger
  signal?: AbortSignal
}

function slotRef(options: {project: string; systemNamespace: string}, index: number) {
  return {
    namespace: options.systemNamespace,
    name: capacitySlotName(options.project, index),
    labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PROJECT_LABEL]: options.project, [LABEL_LEASE_ROLE]: 'capacity-slot'},
  }
}

/** Every slot Lease of the project, by name: one list instead of a read per slot. */
async function listSlots(kube: Kube, options: {project: string; systemNamespace: string}): Promise<Map<string, LeaseLike>> {
  const labelSelector = selectorToString({matchLabels: slotRef(options, 0).labels})
  const list = await kube.coordination.listNamespacedLease({namespace: options.systemNamespace, labelSelector})
  return new Map((list.items as LeaseLike[]).map((lease) => [lease.metadata?.name ?? '', lease]))
}

async function verdictOf(kube: Kube, slot: LeaseLike | undefined, options: CapacityOptions): Promise<SlotVerdict> {
  const holder = slot?.spec?.holderIdentity
  if (!holder || holder === options.namespace) return slotVerdict(slot, options.namespace, undefined, undefined, Date.now())
  const holderNamespace = await readNamespace(kube, holder)
  const holderLock = holderNamespace && !isTerminating(holderNamespace) ? undefined : await readLease(kube, {namespace: options.systemNamespace, name: branchLockName(holder)})
  return slotVerdict(slot, options.namespace, holderNamespace, holderLock, Date.now())
}

/** Takes a slot for `namespace` (or finds the one it holds); returns its index. Waits until the deadline, then exit 9. */
export async function acquireCapacitySlot(kube: Kube, options: CapacityOptions): Promise<number> {
  let index = -1
  let holders: string[] = []
  const started = Date.now()
  await waitForLease(
    async () => {
      holders = []
      const byName = await listSlots(kube, options)
      const slots = Array.from({length: options.max}, (_, i) => byName.get(slotRef(options, i).name))
      const mine = slots.findIndex((s) => s?.spec?.holderIdentity === options.namespace)
      if (mine !== -1) {
        index = mine
        return {acquired: true, lease: slots[mine] as LeaseLike}
      }
      for (let i = 0; i < options.max; i++) {
        const result = await tryAcquireLease(kube, slotRef(options, i), options.namespace, undefined, async (lease) => (await verdictOf(kube, lease, options)) !== 'held')
        if (result.acquired) {
          index = i
          return result
        }
        if (result.conflict) return result
        holders.push(result.lease?.spec?.holderIdentity ?? '?')
      }
      return {acquired: false, lease: {spec: {holderIdentity: holders.join(', ')}}}
    },
    {
      deadline: options.deadline,
      signal: options.signal,
      logger: options.logger,
      what: `a capacity slot (${options.max} environment(s) of ${options.project} at most)`,
      interval: 1000,
      onTimeout: () =>
        new LockTimeoutError(
          `no capacity slot for ${options.namespace} after ${formatDuration(Date.now() - started)}: ${options.project} already has ${options.max} environment(s): ${holders.join(', ')}`,
          {suggestions: ['clean up environments that are no longer needed (`shopsys-ci gc`, `shopsys-ci cleanup --branch <b>`)', 'or raise capacity.maxEnvironments / capacity.waitTimeout']},
        ),
    },
  )
  return index
}

/** Frees every slot `namespace` holds (cleanup calls it once the namespace is gone). */
export async function releaseCapacitySlots(kube: Kube, options: {project: string; namespace: string; systemNamespace: string}): Promise<void> {
  // Every slot of the project, also past `max` in case the limit was lowered since it was taken.
  const slots = await listSlots(kube, options)
  for (const lease of slots.values()) {
    if (lease.spec?.holderIdentity === options.namespace) await releaseLease(kube, {namespace: options.systemNamespace, name: lease.metadata!.name!}, options.namespace)
  }
}
