/**
 * The labels, annotations and object names only the kube modules use (DESIGN §5); the shared
 * labels and annotations are in src/conventions.ts. docs/deploy.md lists them; keep them in step.
 */

/** When the environment was last deployed (every deploy refreshes it, and expires-at with it). */
export const ANN_DEPLOYED_AT = 'shopsys-ci/deployed-at'
/** `true` when the environment is kept for review: the build's cleanup leaves it, gc deletes it at expires-at. */
export const ANN_KEEP = 'shopsys-ci/keep'

/** Every apiVersion/kind ever applied to the environment: where a deploy in place looks for objects to prune. */
export const ANN_APPLIED_KINDS = 'shopsys-ci/applied-kinds'

/** On the tool's own Leases: what the Lease is for (`branch-lock`, `capacity-slot`, `owner`). */
export const LABEL_LEASE_ROLE = 'shopsys-ci/lease'

/** Namespace of the tool's own objects (branch locks, capacity slots); created when missing. */
export const DEFAULT_SYSTEM_NAMESPACE = 'shopsys-ci-system'
export const SYSTEM_NAMESPACE_ENV = 'SHOPSYS_CI_SYSTEM_NAMESPACE'

/** The Lease inside each environment's namespace that the owning build renews while it runs. */
export const OWNER_LEASE_NAME = 'shopsys-ci-owner'

/** `true` while the namespace has the image pull secret (deploy.imagePullSecret): what to undo when it is turned off. */
export const ANN_PULL_SECRET = 'shopsys-ci/pull-secret'

/** The Secrets deploy.secrets made (comma-separated names): what the next deploy removes when the config drops one. */
export const ANN_APP_SECRETS = 'shopsys-ci/secrets'

/**
 * On the pod templates of the workloads that read a Secret of deploy.secrets: its resourceVersion
 * (`name=version,...`), so that a changed value restarts their pods (app-secrets.ts).
 */
export const ANN_SECRET_VERSIONS = 'shopsys-ci/secret-versions'

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
