/**
 * Pure: the one hard-coded guard that decides whether this tool may touch a namespace (DESIGN §5).
 *
 * Every path that deletes a namespace (cleanup, gc, deploy --fresh) and every path that deploys into an
 * existing one goes through these functions, whatever the branch name or flags were.
 */
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_LABEL, SLUG_LABEL} from '../conventions.js'
import {DEFAULT_SYSTEM_NAMESPACE} from './constants.js'
import type {NamespaceLike} from './metadata.js'

/** Namespaces that belong to the cluster itself: never deleted, never deployed into. */
export function isProtectedNamespace(name: string, systemNamespace = DEFAULT_SYSTEM_NAMESPACE): boolean {
  return (
    name === '' ||
    name === 'default' ||
    name.startsWith('kube-') ||
    name === 'kube' ||
    name === systemNamespace ||
    name === DEFAULT_SYSTEM_NAMESPACE
  )
}

export type Verdict = {ok: true} | {ok: false; reason: string}

/**
 * May `project` delete this namespace? Only when it is not protected and carries the managed-by
 * label and this project's label. The name alone never suffices.
 */
export function deletionVerdict(ns: NamespaceLike, project: string, systemNamespace?: string): Verdict {
  const name = ns.metadata?.name ?? ''
  if (isProtectedNamespace(name, systemNamespace)) return {ok: false, reason: `namespace "${name}" is protected (default, kube-*, the tool's own)`}
  const labels = ns.metadata?.labels ?? {}
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) {
    return {ok: false, reason: `namespace "${name}" is not managed by shopsys-ci (no ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label)`}
  }
  if (!project || labels[PROJECT_LABEL] !== project) {
    return {ok: false, reason: `namespace "${name}" belongs to project "${labels[PROJECT_LABEL] ?? '(none)'}", not "${project}"`}
  }
  return {ok: true}
}

/**
 * May the branch `slug` of `project` deploy into this existing namespace? Only into its own:
 * managed, same project, same branch slug.
 */
export function deployVerdict(ns: NamespaceLike, project: string, slug: string, systemNamespace?: string): Verdict {
  const base = deletionVerdict(ns, project, systemNamespace)
  if (!base.ok) return base
  const labels = ns.metadata?.labels ?? {}
  if (labels[SLUG_LABEL] !== slug) {
    return {ok: false, reason: `namespace "${ns.metadata?.name}" belongs to branch slug "${labels[SLUG_LABEL] ?? '(none)'}", not "${slug}"`}
  }
  return {ok: true}
}
