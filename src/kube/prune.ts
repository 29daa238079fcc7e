/**
 * Pruning for deploys in place: an object that an earlier deploy of the branch applied and that is
 * no longer in the manifests is deleted, so a Deployment removed from the app's kustomize overlay
 * does not keep running (and keep being waited for) in the branch's environment.
 *
 * Only objects this tool applied are candidates: in the branch's own namespace (the deploy checked
 * its labels), with a server-side-apply entry of field manager `shopsys-ci` in their managedFields
 * and no ownerReferences. Objects that controllers made from templates (ReplicaSets, Pods, a
 * StatefulSet's PVCs) may share the environment's labels, but not that entry; the quota, limits and
 * owner Lease the tool keeps in the namespace are never pruned. Which kinds to look at: the
 * namespace's `applied-kinds` annotation, the union of every kind ever applied to it, so a kind that
 * disappeared from the manifests is still looked at.
 */
import {ClusterForbiddenError, DeployError} from '../errors.js'
import type {Logger} from '../util/log.js'
import {statusCode} from './api-errors.js'
import {apiMessage, type Kube, isNotFound} from './client.js'
import {ANN_APPLIED_KINDS, LIMIT_RANGE_NAME, OWNER_LEASE_NAME, QUOTA_NAME} from './constants.js'
import {describeObject} from './manifests.js'
import {type ManagedFieldsEntry, toolApplies} from './metadata.js'
import {PULL_SECRET_NAME} from './pull-secret.js'
import type {AppliedObject} from './types.js'

export interface KindRef {
  apiVersion: string
  kind: string
}

export interface LiveObject {
  apiVersion?: string
  kind?: string
  metadata?: {
    name?: string
    namespace?: string
    uid?: string
    ownerReferences?: unknown[]
    deletionTimestamp?: unknown
    managedFields?: ManagedFieldsEntry[]
  }
}

/** The objects the tool keeps in every environment's namespace itself. */
const OWN_OBJECTS = new Set([
  `ResourceQuota/${QUOTA_NAME}`,
  `LimitRange/${LIMIT_RANGE_NAME}`,
  `Lease/${OWNER_LEASE_NAME}`,
  `Secret/${PULL_SECRET_NAME}`,
  // Made by Kubernetes; the tool only names its pull secret in it.
  'ServiceAccount/default',
])

/** Pure: a kind's key, `apiVersion/kind`. */
export const kindKey = (k: KindRef) => `${k.apiVersion}/${k.kind}`

/** Pure: the kinds of these objects, each once, in the order they first appear. */
export function uniqueKinds(objects: ReadonlyArray<KindRef>): KindRef[] {
  return [...new Map(objects.map((o) => [kindKey(o), {apiVersion: o.apiVersion, kind: o.kind}])).values()]
}

/** Pure: the `applied-kinds` annotation's value for these kinds (sorted, stable). */
export function formatAppliedKinds(kinds: KindRef[]): string {
  return [...new Set(kinds.map(kindKey))].sort().join(',')
}

/** Pure: the kinds named by an `applied-kinds` annotation (malformed entries are skipped). */
export function parseAppliedKinds(value: string | undefined): KindRef[] {
  const kinds: KindRef[] = []
  for (const entry of (value ?? '').split(',')) {
    const at = entry.lastIndexOf('/')
    if (at <= 0 || at === entry.length - 1) continue
    kinds.push({apiVersion: entry.slice(0, at), kind: entry.slice(at + 1)})
  }
  return kinds
}

/** Pure: the union of the kinds applied before (annotation) and now, for the namespace's annotation. */
export function appliedKindsAnnotation(previous: string | undefined, current: KindRef[]): Record<string, string> {
  return {[ANN_APPLIED_KINDS]: formatAppliedKinds([...parseAppliedKinds(previous), ...current])}
}

/** Pure: did server-side apply with our field manager write this object? */
export function appliedByTool(obj: LiveObject): boolean {
  return toolApplies(obj).length > 0
}

/** Pure: which of the live objects of one kind to delete, given the names applied by this deploy. */
export function pruneCandidates(kind: string, live: LiveObject[], applied: ReadonlySet<string>): LiveObject[] {
  return live.filter((obj) => {
    const name = obj.metadata?.name
    if (!name || applied.has(name) || OWN_OBJECTS.has(`${kind}/${name}`)) return false
    if (obj.metadata?.deletionTimestamp) return false
    if ((obj.metadata?.ownerReferences ?? []).length > 0) return false
    return appliedByTool(obj)
  })
}

export interface PruneOptions {
  namespace: string
  /** Every kind ever applied to the namespace (the annotation's union, this deploy's kinds included). */
  kinds: KindRef[]
  /** What this deploy applied, or is applying (see applyDone). */
  applied: AppliedObject[]
  logger: Logger
  /**
   * The apply of `applied`, still running: the kinds are listed meanwhile (what the apply creates
   * is in `applied`, so never a candidate), and nothing is deleted unless it succeeds.
   */
  applyDone?: Promise<unknown>
  /** The kinds' lists, shared with the apply (listLiveObjects); listed here when not given. */
  live?: (kind: KindRef) => Promise<LiveList>
}

/** A kind's live objects in the namespace, or why there are none to look at. */
export type LiveList =
  | {state: 'listed'; items: LiveObject[]}
  /** Cluster-scoped, or unknown to the cluster (a removed CRD), or the list answered 404. */
  | {state: 'absent'}
  /** The account may not list the kind (docs/cluster.md: Secrets are write-only for the least-privilege role). */
  | {state: 'forbidden'; message: string}
  /** The kind could not be looked up (discovery) or listed. */
  | {state: 'failed'; step: 'lookup' | 'list'; error: unknown}

/**
 * The namespace's live objects of each kind, each kind listed once and all at once, for the deploy
 * in place: its apply skips what is live as the manifests say (unchanged.ts) and its prune deletes
 * what they dropped. From the API server's watch cache (resourceVersion 0): a consistent list right
 * after the deploy's writes to other kinds waits up to ~100 ms for the cache (ListQuery). A list
 * that lags by the cache's milliseconds shows an object older than it is: it then looks changed
 * and is applied, or is pruned by the next deploy instead of this one.
 */
export function listLiveObjects(kube: Kube, namespace: string, kinds: KindRef[]): (kind: KindRef) => Promise<LiveList> {
  const lists = new Map<string, Promise<LiveList>>()
  const list = async (k: KindRef): Promise<LiveList> => {
    let namespaced: boolean | undefined
    try {
      namespaced = await kube.isNamespaced(k.apiVersion, k.kind)
    } catch (error) {
      return {state: 'failed', step: 'lookup', error}
    }
    if (!namespaced) return {state: 'absent'}
    try {
      const answer = await kube.listJSON<{items?: LiveObject[]}>({apiVersion: k.apiVersion, kind: k.kind, namespace}, {resourceVersion: '0'})
      return {state: 'listed', items: answer.items ?? []}
    } catch (error) {
      if (isNotFound(error)) return {state: 'absent'}
      if (error instanceof ClusterForbiddenError || statusCode(error) === 403) return {state: 'forbidden', message: apiMessage(error)}
      return {state: 'failed', step: 'list', error}
    }
  }
  const of = (k: KindRef): Promise<LiveList> => {
    let pending = lists.get(kindKey(k))
    if (!pending) {
      pending = list(k)
      lists.set(kindKey(k), pending)
    }
    return pending
  }
  for (const k of kinds) void of(k)
  return of
}

/** Deletes what earlier deploys applied and this one did not; returns what was deleted. */
export async function pruneRemoved(kube: Kube, options: PruneOptions): Promise<AppliedObject[]> {
  const pruned: AppliedObject[] = []
  const appliedNames = new Map<string, Set<string>>()
  for (const o of options.applied) {
    const key = kindKey(o)
    if (!appliedNames.has(key)) appliedNames.set(key, new Set())
    appliedNames.get(key)!.add(o.name)
  }
  const live = options.live ?? listLiveObjects(kube, options.namespace, options.kinds)
  await Promise.all(
    options.kinds.map(async (k) => {
      const list = await live(k)
      if (list.state === 'absent') return // gone from the cluster, or cluster-scoped: never pruned
      if (list.state === 'forbidden') {
        // Pruning is housekeeping, so the deploy goes on and says so.
        options.logger.warn(`prune: not allowed to list ${k.kind} objects in ${options.namespace} (${list.message}); ${k.kind} objects dropped from the manifests stay. Grant "list" on them to prune them, or set deploy.prune: false`)
        return
      }
      if (list.state === 'failed') {
        const what = list.step === 'lookup' ? `look up kind ${k.kind} (${k.apiVersion}) to prune it` : `list ${k.kind} objects in ${options.namespace} to prune removed ones`
        throw new DeployError(`cannot ${what}: ${apiMessage(list.error)}`, {cause: list.error})
      }
      const items = list.items
      const candidates = pruneCandidates(k.kind, items, appliedNames.get(kindKey(k)) ?? new Set())
      await options.applyDone
      for (const obj of candidates) {
        const name = obj.metadata!.name!
        const ref = {apiVersion: k.apiVersion, kind: k.kind, metadata: {name, namespace: options.namespace}}
        try {
          // Background: the object goes at once; what it owns (ReplicaSets, Pods) follows.
          await kube.objects.delete(ref, undefined, undefined, undefined, undefined, 'Background')
        } catch (error) {
          if (isNotFound(error)) continue
          throw new DeployError(`cannot delete ${describeObject(ref)}, which is no longer in the manifests: ${apiMessage(error)}`, {cause: error})
        }
        pruned.push({apiVersion: k.apiVersion, kind: k.kind, name, namespace: options.namespace})
      }
    }),
  )
  pruned.sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
  if (pruned.length > 0) options.logger.info(`pruned ${pruned.length} object(s) no longer in the manifests: ${pruned.map((o) => describeObject({kind: o.kind, metadata: {name: o.name}})).join(', ')}`)
  return pruned
}
