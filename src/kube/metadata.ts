/**
 * Pure: the labels and annotations of an environment's namespace (DESIGN §5), and reading them back.
 */
import {
  BRANCH_ANNOTATION,
  BUILD_URL_ANNOTATION,
  COMMIT_ANNOTATION,
  CREATED_AT_ANNOTATION,
  environmentLabels as conventionLabels,
  EXPIRES_AT_ANNOTATION,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  PROJECT_LABEL,
  SLUG_LABEL,
  URLS_ANNOTATION,
} from '../conventions.js'
import {ANN_DEPLOYED_AT, ANN_KEEP} from './constants.js'
import type {EnvironmentIdentity} from './types.js'

/** One entry of `metadata.managedFields`, as far as this tool reads it. */
export interface ManagedFieldsEntry {
  manager?: string
  operation?: string
  time?: Date | string
}

/**
 * Pure: the server-side-apply entries of field manager shopsys-ci in `obj`'s managedFields: whether
 * this tool applied it (pruning), and when (the server's clock: rollout, namespace).
 */
export function toolApplies(obj: {metadata?: {managedFields?: ManagedFieldsEntry[]}} | undefined): ManagedFieldsEntry[] {
  return (obj?.metadata?.managedFields ?? []).filter((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply')
}

export interface NamespaceMetadataOptions {
  keep: boolean
  /** ms */
  ttl: number
  now: Date
  /** `created-at` of the existing namespace, kept across redeploys. */
  createdAt?: string
}

export interface ObjectMetaLike {
  name?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  creationTimestamp?: Date | string
  deletionTimestamp?: Date | string
}

export interface NamespaceLike {
  metadata?: ObjectMetaLike
  status?: {phase?: string; conditions?: Array<{type?: string; status?: string; message?: string}>}
}

export function environmentLabels(identity: Pick<EnvironmentIdentity, 'project' | 'slug'>): Record<string, string> {
  return conventionLabels(identity.project, identity.slug)
}

/** Label selector of every environment of a project. */
export function projectSelector(project: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${PROJECT_LABEL}=${project}`
}

export function namespaceMetadata(identity: EnvironmentIdentity, options: NamespaceMetadataOptions): {labels: Record<string, string>; annotations: Record<string, string>} {
  const now = options.now.toISOString()
  const annotations: Record<string, string> = {
    [BRANCH_ANNOTATION]: identity.branch,
    [COMMIT_ANNOTATION]: identity.commit,
    [CREATED_AT_ANNOTATION]: options.createdAt ?? now,
    [ANN_DEPLOYED_AT]: now,
    [EXPIRES_AT_ANNOTATION]: expiresAt(options.now, options.ttl),
    [OWNER_ANNOTATION]: identity.owner,
    [ANN_KEEP]: String(options.keep),
    [URLS_ANNOTATION]: JSON.stringify(identity.urls),
  }
  if (identity.buildUrl) annotations[BUILD_URL_ANNOTATION] = identity.buildUrl
  return {labels: environmentLabels(identity), annotations}
}

export function expiresAt(now: Date, ttl: number): string {
  return new Date(now.getTime() + ttl).toISOString()
}

/** What `list`, `status`, `gc` and `cleanup` read back from a namespace. */
export interface EnvironmentInfo {
  namespace: string
  project?: string
  slug?: string
  branch?: string
  commit?: string
  buildUrl?: string
  owner?: string
  keep: boolean
  createdAt?: string
  deployedAt?: string
  expiresAt?: string
  urls: Record<string, string>
  /** Kubernetes' own creation time. */
  creationTimestamp?: string
  terminating: boolean
  managed: boolean
}

export function toIso(value: Date | string | undefined): string | undefined {
  if (value === undefined || value === null) return undefined
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
  return String(value)
}

export function toMillis(value: Date | string | undefined): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value))
  return Number.isNaN(ms) ? undefined : ms
}

/** Is the namespace being deleted (a deletionTimestamp, or phase Terminating)? */
export function isTerminating(ns: NamespaceLike | undefined): boolean {
  return Boolean(ns?.metadata?.deletionTimestamp) || ns?.status?.phase === 'Terminating'
}

export function readEnvironment(ns: NamespaceLike): EnvironmentInfo {
  const labels = ns.metadata?.labels ?? {}
  const ann = ns.metadata?.annotations ?? {}
  let urls: Record<string, string> = {}
  try {
    const parsed: unknown = JSON.parse(ann[URLS_ANNOTATION] ?? '{}')
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      urls = Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>
    }
  } catch {
    // A hand-edited annotation; show no URLs rather than fail.
  }
  return {
    namespace: ns.metadata?.name ?? '',
    project: labels[PROJECT_LABEL],
    slug: labels[SLUG_LABEL],
    branch: ann[BRANCH_ANNOTATION],
    commit: ann[COMMIT_ANNOTATION],
    buildUrl: ann[BUILD_URL_ANNOTATION],
    owner: ann[OWNER_ANNOTATION],
    keep: ann[ANN_KEEP] === 'true',
    createdAt: ann[CREATED_AT_ANNOTATION],
    deployedAt: ann[ANN_DEPLOYED_AT],
    expiresAt: ann[EXPIRES_AT_ANNOTATION],
    urls,
    creationTimestamp: toIso(ns.metadata?.creationTimestamp),
    terminating: isTerminating(ns),
    managed: labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE,
  }
}
