/** Namespaces on the cluster: read, create/refresh (server-side apply), delete, wait until gone. */
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../conventions.js'
import {type Kube, isConflict, isNotFound} from './client.js'
import {type ManagedFieldsEntry, type NamespaceLike, toolApplies} from './metadata.js'
import {watchUntil} from './watch.js'

export interface NamespaceObject extends NamespaceLike {
  metadata?: NamespaceLike['metadata'] & {uid?: string; resourceVersion?: string; managedFields?: ManagedFieldsEntry[]}
}

export async function readNamespace(kube: Kube, name: string): Promise<NamespaceObject | undefined> {
  try {
    return (await kube.core.readNamespace({name})) as NamespaceObject
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** When field manager shopsys-ci last applied `obj` (server time, whole seconds). */
export function appliedAt(obj: NamespaceObject): Date | undefined {
  const time = toolApplies(obj)[0]?.time
  return time === undefined ? undefined : new Date(time)
}

/**
 * Pure: why a Terminating namespace is not gone, from the conditions the namespace controller sets
 * (NamespaceFinalizersRemaining, NamespaceContentRemaining, NamespaceDeletionContentFailure, ...):
 * one `Type: message` line per condition that holds.
 */
export function deletionBlockers(ns: NamespaceObject | undefined): string[] {
  return (ns?.status?.conditions ?? []).filter((c) => c.status === 'True' && c.message).map((c) => `${c.type}: ${c.message}`)
}

/** Creates or updates the namespace's labels and annotations (server-side apply; others' fields stay). */
export async function applyNamespace(kube: Kube, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<NamespaceObject> {
  return (await kube.serverSideApply({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels, annotations}})) as NamespaceObject
}

/** The tool's own namespace (locks, capacity slots); created when missing. Never deleted by the tool. */
export async function ensureSystemNamespace(kube: Kube, name: string): Promise<void> {
  const existing = await readNamespace(kube, name)
  if (existing && !existing.metadata?.deletionTimestamp) return
  try {
    await kube.core.createNamespace({body: {metadata: {name, labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE}}}})
  } catch (error) {
    if (isConflict(error)) return // created by someone else meanwhile (409 AlreadyExists)
    throw error
  }
}

/**
 * Deletes the namespace with `uid` (a precondition: never a namespace recreated meanwhile).
 * Returns false when it was already gone.
 */
export async function deleteNamespace(kube: Kube, name: string, uid?: string): Promise<boolean> {
  try {
    await kube.core.deleteNamespace({name, propagationPolicy: 'Background', body: uid ? {preconditions: {uid}} : {}})
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    if (isConflict(error)) return false // precondition failed: the namespace we checked is gone
    throw error
  }
}

/** Waits (watching) until the namespace no longer exists. Resolves with the time it was seen gone, or undefined at the deadline. */
export async function waitNamespaceGone(kube: Kube, name: string, deadline: number, signal?: AbortSignal): Promise<number | undefined> {
  let goneAt: number | undefined
  const gone = await watchUntil(kube, {
    kind: 'Namespace',
    path: '/api/v1/namespaces',
    fieldSelector: `metadata.name=${name}`,
    list: () => kube.core.listNamespace({fieldSelector: `metadata.name=${name}`}),
    deadline,
    signal,
    done: (items) => {
      if (items.length > 0) return false
      goneAt = Date.now()
      return true
    },
  })
  return gone ? goneAt : undefined
}

/** Pods are refused until the namespace's `default` ServiceAccount exists; wait for it. */
export async function waitDefaultServiceAccount(kube: Kube, namespace: string, deadline: number, signal?: AbortSignal): Promise<boolean> {
  return watchUntil(kube, {
    kind: 'ServiceAccount',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
    fieldSelector: 'metadata.name=default',
    list: () => kube.core.listNamespacedServiceAccount({namespace, fieldSelector: 'metadata.name=default'}),
    deadline,
    signal,
    done: (items) => items.length > 0,
  })
}

