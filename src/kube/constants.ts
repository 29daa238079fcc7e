/**
 * The labels, annotations and object names this tool puts on the cluster (DESIGN §5).
 * docs/deploy.md lists them; keep the two in step.
 */

import {
  ANNOTATION_PREFIX,
  BRANCH_ANNOTATION,
  BUILD_URL_ANNOTATION,
  COMMIT_ANNOTATION,
  CREATED_AT_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  PROJECT_LABEL,
  SLUG_LABEL,
  URLS_ANNOTATION,
} from '../conventions.js'

// The shared conventions (src/conventions.ts), under the names this module uses.
export {ANNOTATION_PREFIX, FIELD_MANAGER, MANAGED_BY_VALUE}
export const LABEL_MANAGED_BY = MANAGED_BY_LABEL
export const LABEL_PROJECT = PROJECT_LABEL
export const LABEL_BRANCH_SLUG = SLUG_LABEL
export const ANN_BRANCH = BRANCH_ANNOTATION
export const ANN_COMMIT = COMMIT_ANNOTATION
export const ANN_BUILD_URL = BUILD_URL_ANNOTATION
export const ANN_CREATED_AT = CREATED_AT_ANNOTATION
export const ANN_EXPIRES_AT = EXPIRES_AT_ANNOTATION
export const ANN_OWNER = OWNER_ANNOTATION
/** JSON object name → URL. */
export const ANN_URLS = URLS_ANNOTATION
/** When the environment was last deployed (every deploy refreshes it, and expires-at with it). */
export const ANN_DEPLOYED_AT = 'shopsys-ci/deployed-at'
/** `true` when the environment is kept for review: the build's cleanup leaves it, gc deletes it at expires-at. */
export const ANN_KEEP = 'shopsys-ci/keep'

/** On the tool's own Leases: what the Lease is for (`branch-lock`, `capacity-slot`, `owner`). */
export const LABEL_LEASE_ROLE = 'shopsys-ci/lease'

/** Namespace of the tool's own objects (branch locks, capacity slots); created when missing. */
export const DEFAULT_SYSTEM_NAMESPACE = 'shopsys-ci-system'
export const SYSTEM_NAMESPACE_ENV = 'SHOPSYS_CI_SYSTEM_NAMESPACE'

/** The Lease inside each environment's namespace that the owning build renews while it runs. */
export const OWNER_LEASE_NAME = 'shopsys-ci-owner'

export const QUOTA_NAME = 'shopsys-ci-quota'
export const LIMIT_RANGE_NAME = 'shopsys-ci-limits'

export function systemNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env[SYSTEM_NAMESPACE_ENV] || DEFAULT_SYSTEM_NAMESPACE
}

/** Name of the per-branch lock Lease (in the system namespace). */
export function branchLockName(namespace: string): string {
  return `lock-${namespace}`
}

/** Name of capacity slot `index` of a project (in the system namespace). */
export function capacitySlotName(project: string, index: number): string {
  return `slot-${project}-${index}`
}
