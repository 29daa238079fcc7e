/**
 * The rendered manifests file: parsed into objects, checked against the branch's namespace and
 * ordered for applying. Pure except `readManifests`.
 */
import {readFileSync} from 'node:fs'

import {DeployError, ManifestError} from '../errors.js'
import {type ManifestObject, parseManifests} from '../manifests/parse.js'

export type {ManifestObject} from '../manifests/parse.js'

export function readManifests(file: string): ManifestObject[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ManifestError(`cannot read the manifests ${file}: ${(error as Error).message}`, {
      suggestions: ['run `shopsys-ci render` (or the build) first, or pass --manifests <file>'],
    })
  }
  return parseManifests(text, file, {
    suggestions: [
      'every document must be one Kubernetes object (or a `kind: List` of them) with apiVersion, kind and metadata.name',
      'deploy what `shopsys-ci render` wrote (render it again after changing the overlay), or fix the file given to --manifests',
    ],
  })
}

export function describeObject(o: {kind?: string; metadata?: {name?: string; namespace?: string}}): string {
  return `${(o.kind ?? '?').toLowerCase()}/${o.metadata?.name ?? '?'}`
}

/**
 * Three tiers, applied one after the other; within a tier everything goes in parallel (each tier
 * costs one round trip, not one per kind). 1: what changes the rules for everything else
 * (definitions, quotas, policies); 2: what pods refer to (config, accounts, claims) and Services,
 * which must exist before a pod starts to be in its environment variables; 3: workloads, Ingresses
 * and any other kind (custom resources after their definitions).
 */
const KIND_TIERS: Record<string, number> = Object.fromEntries([
  ...['Namespace', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass', 'PersistentVolume', 'IngressClass', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy'].map((k) => [k, 0]),
  ...['ServiceAccount', 'Secret', 'SecretList', 'ConfigMap', 'PersistentVolumeClaim', 'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'PodDisruptionBudget'].map((k) => [k, 1]),
])

export function kindRank(kind: string): number {
  return KIND_TIERS[kind] ?? 2
}

/** Groups of objects to apply one after the other; the objects of a group may go in parallel. */
export function applyOrder<T extends {kind: string}>(objects: T[]): T[][] {
  const groups = new Map<number, T[]>()
  for (const o of objects) {
    const r = kindRank(o.kind)
    groups.set(r, [...(groups.get(r) ?? []), o])
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g)
}

export interface PlanOptions {
  namespace: string
  allowClusterScoped: boolean
  /** apiVersion/kind → namespaced? (undefined: the cluster does not know the kind). */
  scope: (apiVersion: string, kind: string) => boolean | undefined
}

/**
 * Puts every namespaced object into the branch's namespace and refuses what would reach outside it:
 * unknown kinds, objects naming another namespace, and cluster-scoped objects unless allowed.
 * All problems are reported at once, before anything is applied.
 */
export function planApply(objects: ManifestObject[], options: PlanOptions): ManifestObject[] {
  const problems: string[] = []
  const suggestions = new Set<string>()
  const planned: ManifestObject[] = []
  for (const o of objects) {
    const namespaced = options.scope(o.apiVersion, o.kind)
    const what = `${o.kind} ${o.metadata.name} (${o.apiVersion})`
    if (namespaced === undefined) {
      problems.push(`${what}: the cluster does not know this kind (missing CRD or wrong apiVersion?)`)
      suggestions.add(`kubectl api-resources | grep -i ${o.kind}   # the kinds this cluster has; a CRD is installed by the cluster's admin, not by a branch`)
    } else if (namespaced) {
      if (o.metadata.namespace && o.metadata.namespace !== options.namespace) {
        problems.push(`${what}: names namespace "${o.metadata.namespace}"; a branch deploys only into its own namespace "${options.namespace}"`)
        suggestions.add('fix the kustomize overlay so every object lives in the branch namespace')
      } else {
        planned.push({...o, metadata: {...o.metadata, namespace: options.namespace}})
      }
    } else if (!options.allowClusterScoped) {
      problems.push(`${what}: cluster-scoped; a branch must not change the cluster (set deploy.allowClusterScoped: true to allow it)`)
      suggestions.add('move cluster-wide objects out of the branch overlay (they belong to the cluster setup), or set deploy.allowClusterScoped: true')
    } else {
      const {namespace: _ignored, ...metadata} = o.metadata
      planned.push({...o, metadata})
    }
  }
  if (problems.length > 0) {
    throw new DeployError(`refusing to deploy ${problems.length} object(s) from the manifests:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {suggestions: [...suggestions]})
  }
  return planned
}
