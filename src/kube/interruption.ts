/**
 * What an interrupted kube command reports (docs/deploy.md, *Interruption*): pure, from the progress
 * the command recorded. Nothing here deletes or undoes anything: an interruption only stops waits
 * and releases locks; what the command had already done stays, and the message says so.
 */
import {abortedBy, InterruptedError, type InterruptionParts} from '../errors.js'
import {formatDuration} from '../util/duration.js'

/** Which step a command is in, and since when: what its interruption message is made from. */
interface Steps<S extends string> {
  step: S
  stepStartedAt: number
}

/** Moves `progress` on to a step, unless `signal` is aborted: then it throws and the step never starts. */
export function stepper<S extends string>(progress: Steps<S>, signal: AbortSignal | undefined): (name: S) => void {
  return (name) => {
    signal?.throwIfAborted()
    progress.step = name
    progress.stepStartedAt = Date.now()
  }
}

/**
 * `work`'s result. Once `signal` is aborted, whatever `work` throws (the aborted wait's error, or
 * the stepper's) becomes an InterruptedError saying, from `progress`, what was left.
 */
export async function reportingInterruption<P, T>(signal: AbortSignal | undefined, progress: P, describe: (progress: P) => InterruptionParts, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (signal?.aborted) throw InterruptedError.of(abortedBy(signal), describe(progress), {cause: error})
    throw error
  }
}

/** How far a deploy got; updated by the deployer as it goes. */
export interface DeployProgress {
  namespace: string
  step: 'lock' | 'terminating' | 'fresh' | 'capacity' | 'namespace' | 'apply' | 'rollout'
  /** When the current step began (ms since epoch). */
  stepStartedAt: number
  /** The branch lock: not yet taken, held, released, or could not be released (it expires). */
  lock: 'none' | 'held' | 'released' | 'expires'
  /** The namespace existed before this deploy (an update in place). */
  existed: boolean
  /** This deploy deleted the namespace (--fresh) and had not created it again. */
  deletedFresh: boolean
  /** This deploy created or changed the namespace or what is in it. */
  changed: boolean
}

export function deployProgress(namespace: string, now = Date.now()): DeployProgress {
  return {namespace, step: 'lock', stepStartedAt: now, lock: 'none', existed: false, deletedFresh: false, changed: false}
}

const CLEANUP_HINT = 'delete it with `shopsys-ci cleanup`, or deploy again'

function lockReleased(lock: DeployProgress['lock'] | 'none'): string[] {
  return lock === 'released' ? ['the branch lock'] : []
}

function lockLeft(lock: DeployProgress['lock']): string {
  return lock === 'expires' ? '; the branch lock could not be released and expires within 30 s' : ''
}

/** Pure: what to say about a deploy stopped by a signal. */
export function deployInterruption(p: DeployProgress, now = Date.now()): InterruptionParts {
  const after = ` (after ${formatDuration(Math.max(0, now - p.stepStartedAt))})`
  const during = {
    lock: 'waiting for the branch lock',
    terminating: `waiting for namespace ${p.namespace} (Terminating) to go`,
    fresh: `waiting for namespace ${p.namespace} to be deleted (--fresh)`,
    capacity: 'waiting for a capacity slot',
    namespace: `creating namespace ${p.namespace}`,
    apply: 'applying the manifests',
    rollout: 'waiting for the rollout',
  }[p.step]
  let left: string
  if (p.deletedFresh) left = `namespace ${p.namespace} was deleted by --fresh (it may still be terminating) and not created again: deploy again`
  else if (!p.changed) left = p.existed ? `nothing was changed: namespace ${p.namespace} stays as it was` : 'nothing was changed'
  else if (p.step === 'rollout') left = `namespace ${p.namespace} stays as it is, its workloads not all ready: ${CLEANUP_HINT}`
  else left = `namespace ${p.namespace} stays as it is, ${p.step === 'apply' ? 'part of the manifests applied' : 'the manifests not applied'}: ${CLEANUP_HINT}`
  return {what: `deploy of ${p.namespace}`, during: `${during}${after}`, released: lockReleased(p.lock), left: left + lockLeft(p.lock)}
}

/** How far a cleanup got. */
export interface CleanupProgress {
  namespace: string
  step: 'lock' | 'check' | 'wait'
  stepStartedAt: number
  lock: DeployProgress['lock']
  /** This cleanup asked the API server to delete the namespace (or found it Terminating already). */
  deleting: boolean
}

export function cleanupProgress(namespace: string, now = Date.now()): CleanupProgress {
  return {namespace, step: 'lock', stepStartedAt: now, lock: 'none', deleting: false}
}

/** Pure: what to say about a cleanup stopped by a signal. */
export function cleanupInterruption(p: CleanupProgress, now = Date.now()): InterruptionParts {
  const during = {lock: 'waiting for the branch lock', check: `checking namespace ${p.namespace}`, wait: `waiting for namespace ${p.namespace} to go`}[p.step]
  const left = p.deleting
    ? `namespace ${p.namespace} is still being deleted by the cluster (its capacity slot frees itself once it is gone); \`shopsys-ci cleanup\` again waits for it`
    : `nothing was deleted: namespace ${p.namespace} stays; \`shopsys-ci cleanup\` again deletes it`
  return {what: `cleanup of ${p.namespace}`, during: `${during} (after ${formatDuration(Math.max(0, now - p.stepStartedAt))})`, released: lockReleased(p.lock), left: left + lockLeft(p.lock)}
}

/** Pure: what to say about a gc stopped by a signal. */
export function gcInterruption(project: string, done: {deleted: string[]; deleting: string[]; locksReleased: number}): InterruptionParts {
  const list = (names: string[]) => [...names].sort().join(', ')
  const left = [
    done.deleted.length ? `deleted ${list(done.deleted)}` : 'deleted nothing',
    done.deleting.length ? `still being deleted by the cluster (not waited for): ${list(done.deleting)}` : undefined,
    'started no other deletion; the next gc goes on',
  ].filter(Boolean)
  return {what: `gc of ${project}`, released: done.locksReleased > 0 ? [`${done.locksReleased} branch lock(s)`] : [], left: left.join('; ')}
}

/** Pure: what to say about a logs export stopped by a signal. */
export function logsInterruption(namespace: string, dir: string, done: {written: number; total: number}): InterruptionParts {
  return {
    what: `logs export of ${namespace}`,
    left: `${done.written} of ${done.total} log(s) written into ${dir} (the last ones may be cut short); no events.log; nothing in the cluster was changed`,
  }
}

/** Pure: what to say about a phase stopped by a signal. */
export function phaseInterruption(phase: string, namespace: string, at: {pod?: string; startedAt: number; stopped?: boolean}, now = Date.now()): InterruptionParts {
  if (!at.pod) return {what: `phase ${phase}`, during: `waiting for a Ready pod in ${namespace}`, left: 'nothing was run'}
  const during = `running in pod ${at.pod} (after ${formatDuration(Math.max(0, now - at.startedAt))})`
  if (at.stopped) return {what: `phase ${phase}`, during, left: `stopped the command there (SIGTERM; it has ended); no artifacts copied; namespace ${namespace} stays as it is`}
  return {
    what: `phase ${phase}`,
    during,
    released: ['the exec connection'],
    left: `no artifacts copied; the command may still run in pod ${at.pod} (it did not end after a SIGTERM, or could not be sent one)`,
  }
}
