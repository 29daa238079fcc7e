/**
 * The rendered manifests file: parsed into objects, checked against the branch's namespace and
 * ordered for applying. Pure except `readManifests`.
 */
import {readFileSync} from 'node:fs'
import {parseAllDocuments} from 'yaml'

import {DeployError, ManifestError} from '../errors.js'
import type {KObject} from './workload-status.js'

export interface ManifestObject extends KObject {
  apiVersion: string
  kind: string
  metadata: NonNullable<KObject['metadata']> & {name: string}
}

export function readManifests(file: string): ManifestObject[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ManifestError(`cannot read the manifests ${file}: ${(error as Error).message}`, {
      suggestions: ['run `shopsys-ci render` (or the build) first, or pass --manifests <file>'],
    })
  }
  return parseManifests(text, file)
}

/** Every object of a multi-document YAML text; `kind: List` documents are flattened. */
export function parseManifests(text: string, file: string): ManifestObject[] {
  const problems: string[] = []
  const objects: ManifestObject[] = []
  const docs = parseAllDocuments(text)
  if (!Array.isArray(docs)) {
    throw new ManifestError(`${file}: not a YAML stream`)
  }
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push(`document ${i + 1}: ${doc.errors[0].message.split('\n')[0]}`)
      return
    }
    const value: unknown = doc.toJS({maxAliasCount: 100})
    if (value === null || value === undefined) return
    const add = (obj: unknown, where: string) => {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return problems.push(`${where}: not a mapping`)
      const o = obj as Partial<ManifestObject>
      if (!o.apiVersion || typeof o.apiVersion !== 'string') return problems.push(`${where}: no apiVersion`)
      if (!o.kind || typeof o.kind !== 'string') return problems.push(`${where}: no kind`)
      if (/List$/.test(o.kind) && Array.isArray((o as {items?: unknown[]}).items)) {
        ;(o as {items: unknown[]}).items.forEach((item, j) => add(item, `${where}, item ${j + 1}`))
        return
      }
      if (!o.metadata?.name) return problems.push(`${where} (${o.kind}): no metadata.name`)
      objects.push(o as ManifestObject)
    }
    add(value, `document ${i + 1}`)
  })
  if (problems.length > 0) throw new ManifestError(`${problems.length} problem(s) in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  return objects
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
  const planned: ManifestObject[] = []
  for (const o of objects) {
    const namespaced = options.scope(o.apiVersion, o.kind)
    const what = `${o.kind} ${o.metadata.name} (${o.apiVersion})`
    if (namespaced === undefined) {
      problems.push(`${what}: the cluster does not know this kind (missing CRD or wrong apiVersion?)`)
    } else if (namespaced) {
      if (o.metadata.namespace && o.metadata.namespace !== options.namespace) {
        problems.push(`${what}: names namespace "${o.metadata.namespace}"; a branch deploys only into its own namespace "${options.namespace}"`)
      } else {
        planned.push({...o, metadata: {...o.metadata, namespace: options.namespace}})
      }
    } else if (!options.allowClusterScoped) {
      problems.push(`${what}: cluster-scoped; a branch must not change the cluster (set deploy.allowClusterScoped: true to allow it)`)
    } else {
      const {namespace: _ignored, ...metadata} = o.metadata
      planned.push({...o, metadata})
    }
  }
  if (problems.length > 0) {
    throw new DeployError(`refusing to deploy ${problems.length} object(s) from the manifests:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      suggestions: ['fix the kustomize overlay so every object lives in the branch namespace'],
    })
  }
  return planned
}
