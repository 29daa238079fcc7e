/**
 * Pure: is a workload ready, still progressing, or failed for good? Works on plain objects as the API
 * (or a watch) returns them, so every rule here is unit-tested on status snapshots.
 *
 * Readiness follows `kubectl rollout status`; the fail-fast rules are ours: a container waiting with
 * one of FATAL_REASONS fails the rollout at once instead of at the deadline.
 */
import {type ManagedFieldsEntry, toolApplies} from './metadata.js'
import {selectorMatches, type LabelSelectorLike} from './selector.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface KObject {
  apiVersion?: string
  kind?: string
  metadata?: {
    name?: string
    namespace?: string
    generation?: number
    labels?: Record<string, string>
    annotations?: Record<string, string>
    ownerReferences?: Array<{kind?: string; name?: string; uid?: string; controller?: boolean}>
    deletionTimestamp?: Date | string
    creationTimestamp?: Date | string
    managedFields?: ManagedFieldsEntry[]
    uid?: string
    resourceVersion?: string
  }
  spec?: any
  status?: any
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'] as const
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number]

/** Waiting reasons that will not fix themselves: the rollout fails as soon as one is seen. */
export const FATAL_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'InvalidImageName',
  'ErrImageNeverPull',
])

export interface WorkloadState {
  kind: string
  name: string
  ready: boolean
  /** Human status: `1/2 ready`, `complete`, `waiting for the controller`. */
  summary: string
  /** Set when the workload itself reports a permanent failure (failed Job, progress deadline). */
  failure?: string
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const replicasOf = (obj: KObject): number => (typeof obj.spec?.replicas === 'number' ? obj.spec.replicas : 1)

function condition(obj: KObject, type: string): {status?: string; reason?: string; message?: string} | undefined {
  return (obj.status?.conditions as Array<{type: string; status?: string; reason?: string; message?: string}> | undefined)?.find((c) => c.type === type)
}

function generationObserved(obj: KObject): boolean {
  const gen = obj.metadata?.generation
  const observed = obj.status?.observedGeneration
  if (typeof observed !== 'number') return false
  return typeof gen !== 'number' || observed >= gen
}

export function workloadState(obj: KObject): WorkloadState {
  const kind = obj.kind ?? '?'
  const name = obj.metadata?.name ?? '?'
  const state = (ready: boolean, summary: string, failure?: string): WorkloadState => ({kind, name, ready, summary, ...(failure ? {failure} : {})})
  const s = obj.status ?? {}
  switch (kind) {
    case 'Deployment': {
      const desired = replicasOf(obj)
      // First, as `kubectl rollout status` does: until the controller has seen the applied spec, the
      // conditions are those of the previous rollout (a redeploy that fixes one stuck past its
      // progress deadline would fail on the old verdict).
      if (!generationObserved(obj)) return state(false, 'waiting for the controller')
      const progressing = condition(obj, 'Progressing')
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        return state(false, 'progress deadline exceeded', `progress deadline exceeded: ${progressing.message ?? ''}`.trim())
      }
      // The ReplicaSet cannot create pods (admission refused them: a quota without requests, a
      // policy). Only "exceeded quota" can clear by itself, when the pods of an old revision go.
      const replicaFailure = condition(obj, 'ReplicaFailure')
      if (replicaFailure?.status === 'True') {
        const why = `pods cannot be created: ${replicaFailure.message ?? replicaFailure.reason ?? ''}`.trim()
        if (!/exceeded quota/.test(replicaFailure.message ?? '')) return state(false, 'pods cannot be created', why)
        return state(false, why)
      }
      if (n(s.updatedReplicas) < desired) return state(false, `${n(s.readyReplicas)}/${desired} ready, ${n(s.updatedReplicas)}/${desired} updated`)
      if (n(s.replicas) > n(s.updatedReplicas)) return state(false, `${n(s.replicas) - n(s.updatedReplicas)} old replica(s) terminating`)
      if (n(s.availableReplicas) < n(s.updatedReplicas)) return state(false, `${n(s.availableReplicas)}/${desired} ready`)
      return state(true, `${desired}/${desired} ready`)
    }
    case 'StatefulSet': {
      const desired = replicasOf(obj)
      if (!generationObserved(obj)) return state(false, 'waiting for the controller')
      if (n(s.readyReplicas) < desired) return state(false, `${n(s.readyReplicas)}/${desired} ready`)
      const strategy = obj.spec?.updateStrategy
      if (strategy?.type === 'OnDelete') return state(true, `${desired}/${desired} ready`)
      const partition = n(strategy?.rollingUpdate?.partition)
      if (partition > 0) {
        if (n(s.updatedReplicas) < desired - partition) return state(false, `${n(s.updatedReplicas)}/${desired - partition} updated`)
        return state(true, `${desired}/${desired} ready`)
      }
      if (s.updateRevision && s.currentRevision !== s.updateRevision) return state(false, `${n(s.updatedReplicas)}/${desired} updated`)
      return state(true, `${desired}/${desired} ready`)
    }
    case 'DaemonSet': {
      if (!generationObserved(obj)) return state(false, 'waiting for the controller')
      const desired = n(s.desiredNumberScheduled)
      if (n(s.updatedNumberScheduled) < desired) return state(false, `${n(s.updatedNumberScheduled)}/${desired} updated`)
      if (n(s.numberAvailable) < desired) return state(false, `${n(s.numberAvailable)}/${desired} ready`)
      return state(true, `${desired}/${desired} ready`)
    }
    case 'Job': {
      const failed = condition(obj, 'Failed')
      if (failed?.status === 'True') return state(false, 'failed', `job failed: ${[failed.reason, failed.message].filter(Boolean).join(': ')}`)
      const complete = condition(obj, 'Complete')
      if (complete?.status === 'True') return state(true, 'complete')
      if (obj.spec?.suspend === true) return state(true, 'suspended')
      const completions = typeof obj.spec?.completions === 'number' ? obj.spec.completions : 1
      return state(false, `${n(s.succeeded)}/${completions} complete, ${n(s.active)} running${n(s.failed) ? `, ${n(s.failed)} failed` : ''}`)
    }
    default:
      return state(true, 'not waited for')
  }
}

export interface PodProblem {
  pod: string
  container: string
  init: boolean
  reason: string
  message?: string
  fatal: boolean
  restartCount: number
}

/** Containers of a pod that are not well, with the reason; `fatal` ones fail the rollout. */
export function podProblems(pod: KObject): PodProblem[] {
  const name = pod.metadata?.name ?? '?'
  const problems: PodProblem[] = []
  const scan = (statuses: any[] | undefined, init: boolean) => {
    for (const cs of statuses ?? []) {
      const waiting = cs.state?.waiting
      const terminated = cs.state?.terminated
      const restartCount = n(cs.restartCount)
      if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
        problems.push({pod: name, container: cs.name, init, reason: waiting.reason, message: waiting.message, fatal: FATAL_REASONS.has(waiting.reason), restartCount})
      } else if (terminated && n(terminated.exitCode) !== 0 && !(init && cs.ready)) {
        problems.push({
          pod: name,
          container: cs.name,
          init,
          reason: terminated.reason ?? 'Error',
          message: `exited with code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ''}`,
          fatal: false,
          restartCount,
        })
      }
    }
  }
  scan(pod.status?.initContainerStatuses, true)
  scan(pod.status?.containerStatuses, false)
  const scheduled = condition(pod, 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason) {
    problems.push({pod: name, container: '', init: false, reason: scheduled.reason, message: scheduled.message, fatal: false, restartCount: 0})
  }
  return problems
}

export function isPodReady(pod: KObject): boolean {
  return pod.status?.phase === 'Running' && condition(pod, 'Ready')?.status === 'True' && !pod.metadata?.deletionTimestamp
}

/** One line per pod for diagnostics: phase, readiness and each container's state. */
export function describePod(pod: KObject): string {
  const parts: string[] = [`pod/${pod.metadata?.name}: ${pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Unknown')}`]
  const ready = condition(pod, 'Ready')
  if (ready) parts.push(`Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}`)
  const describe = (cs: any, init: boolean) => {
    const st = cs.state ?? {}
    const what = st.waiting
      ? `waiting: ${st.waiting.reason ?? ''}${st.waiting.message ? ` - ${st.waiting.message}` : ''}`
      : st.terminated
        ? `terminated: ${st.terminated.reason ?? ''} (exit ${st.terminated.exitCode})`
        : st.running
          ? 'running'
          : 'unknown'
    return `    ${init ? 'init ' : ''}container ${cs.name}: ${what}, ready=${Boolean(cs.ready)}, restarts=${n(cs.restartCount)}`
  }
  const lines = [parts.join(', ')]
  for (const cs of pod.status?.initContainerStatuses ?? []) lines.push(describe(cs, true))
  for (const cs of pod.status?.containerStatuses ?? []) lines.push(describe(cs, false))
  const scheduled = condition(pod, 'PodScheduled')
  if (scheduled?.status === 'False') lines.push(`    not scheduled: ${scheduled.reason ?? ''} ${scheduled.message ?? ''}`.trimEnd())
  return lines.join('\n')
}

export interface WorkloadEvaluation extends WorkloadState {
  /** The workload's current (non-terminating, current revision) pods. */
  pods: string[]
  problems: PodProblem[]
  /** Why this workload failed for good, if it did. */
  fatal?: string
}

export interface RolloutEvaluation {
  workloads: WorkloadEvaluation[]
  allReady: boolean
  failed: WorkloadEvaluation[]
}

/** A core/v1 Event, as far as the rollout reads it. */
export interface KEvent extends KObject {
  type?: string
  reason?: string
  message?: string
  involvedObject?: {kind?: string; name?: string; uid?: string}
  firstTimestamp?: Date | string
  lastTimestamp?: Date | string
  eventTime?: Date | string
  series?: {lastObservedTime?: Date | string}
}

export interface Snapshot {
  workloads: KObject[]
  replicaSets: KObject[]
  pods: KObject[]
  /** `FailedCreate` events of the namespace (only those are read). */
  events?: KEvent[]
  /**
   * Server time of this deploy: when it applied the namespace. Events up to it belong to an earlier
   * deploy (see refusedCreation).
   */
  since?: Date
}

const seconds = (time: Date | string | undefined): number | undefined => {
  if (time === undefined) return undefined
  const ms = new Date(time).getTime()
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/**
 * Why the pods of a StatefulSet, DaemonSet or Job cannot be created, if admission refuses them (a
 * quota without requests, a pod security policy): their controllers say so only in `FailedCreate`
 * events (a Deployment has its ReplicaFailure condition). An exceeded quota may clear when other
 * pods go, so it is not a reason to give up.
 *
 * Only an event from a later second than this deploy, the workload's creation and its last apply
 * counts: event times have whole seconds, and a controller may still report on the previous spec
 * within the second it was replaced. A refusal that lasts is reported again within a second or two
 * (the controller retries with a growing backoff, each try updating the event).
 */
export function refusedCreation(workload: KObject, events: KEvent[], since?: Date): string | undefined {
  if (!['StatefulSet', 'DaemonSet', 'Job'].includes(workload.kind ?? '')) return undefined
  const applied = toolApplies(workload).map((f) => f.time)
  const from = Math.max(...[since, workload.metadata?.creationTimestamp, ...applied].map((t) => seconds(t) ?? 0))
  const refused = events
    .filter((e) => e.reason === 'FailedCreate' && e.type !== 'Normal' && e.involvedObject?.kind === workload.kind && e.involvedObject?.name === workload.metadata?.name)
    .filter((e) => !workload.metadata?.uid || !e.involvedObject?.uid || e.involvedObject.uid === workload.metadata.uid)
    .map((e) => ({message: e.message ?? 'FailedCreate', at: seconds(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp) ?? 0}))
    .filter((e) => e.at > from && !/exceeded quota/.test(e.message))
    .sort((a, b) => b.at - a.at)
  return refused[0] ? `pods cannot be created: ${refused[0].message}` : undefined
}

const REVISION = 'deployment.kubernetes.io/revision'

/**
 * Pods that belong to the workload's current revision: for a Deployment those of its newest
 * ReplicaSet, for a StatefulSet those with the update revision's hash. Old pods that are being
 * replaced (a redeploy that fixes a crash loop) do not fail the new rollout.
 */
export function currentPods(workload: KObject, snapshot: Snapshot): KObject[] {
  const selector = workload.spec?.selector as LabelSelectorLike | undefined
  const live = snapshot.pods.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.namespace === workload.metadata?.namespace && selectorMatches(selector, p.metadata?.labels))
  const owned = (p: KObject, kind: string, name?: string) => p.metadata?.ownerReferences?.some((o) => o.kind === kind && (name === undefined || o.name === name)) ?? false
  switch (workload.kind) {
    case 'Deployment': {
      const revision = workload.metadata?.annotations?.[REVISION]
      const sets = snapshot.replicaSets.filter((rs) => owned(rs, 'Deployment', workload.metadata?.name))
      const current = revision ? sets.find((rs) => rs.metadata?.annotations?.[REVISION] === revision) : undefined
      if (!current) return live.filter((p) => sets.length === 0 || sets.some((rs) => owned(p, 'ReplicaSet', rs.metadata?.name)))
      return live.filter((p) => owned(p, 'ReplicaSet', current.metadata?.name))
    }
    case 'StatefulSet': {
      const revision = workload.status?.updateRevision
      const mine = live.filter((p) => owned(p, 'StatefulSet', workload.metadata?.name))
      return revision ? mine.filter((p) => !p.metadata?.labels?.['controller-revision-hash'] || p.metadata.labels['controller-revision-hash'] === revision) : mine
    }
    case 'DaemonSet':
      return live.filter((p) => owned(p, 'DaemonSet', workload.metadata?.name))
    case 'Job':
      return snapshot.pods.filter((p) => owned(p, 'Job', workload.metadata?.name) && p.metadata?.namespace === workload.metadata?.namespace)
    default:
      return []
  }
}

export function evaluateRollout(snapshot: Snapshot): RolloutEvaluation {
  const workloads = snapshot.workloads
    .filter((w) => (WORKLOAD_KINDS as readonly string[]).includes(w.kind ?? ''))
    .map((w): WorkloadEvaluation => {
      const state = workloadState(w)
      const pods = currentPods(w, snapshot)
      const problems = state.ready ? [] : pods.flatMap((p) => podProblems(p))
      const fatalProblem = problems.find((p) => p.fatal)
      const refused = state.ready ? undefined : refusedCreation(w, snapshot.events ?? [], snapshot.since)
      const fatal = state.failure ?? refused ?? (fatalProblem ? `${fatalProblem.init ? 'init ' : ''}container ${fatalProblem.container} of pod ${fatalProblem.pod}: ${fatalProblem.reason}${fatalProblem.message ? ` (${fatalProblem.message})` : ''}` : undefined)
      return {...state, pods: pods.map((p) => p.metadata?.name ?? '?'), problems, ...(fatal ? {fatal} : {})}
    })
    .sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
  return {workloads, allReady: workloads.every((w) => w.ready), failed: workloads.filter((w) => w.fatal !== undefined)}
}

/** `pod/container: reason` (or `pod: reason` for the pod itself, e.g. Unschedulable). */
export function problemText(p: PodProblem): string {
  return `${p.container ? `${p.pod}/${p.container}` : p.pod}: ${p.reason}`
}

/** A short line for the progress log, e.g. `deployment/web: 1/2 ready (pod web-x: ErrImagePull)`. */
export function progressLine(w: WorkloadEvaluation): string {
  const problem = w.problems[0]
  const extra = !w.ready && problem ? ` (${problemText(problem)})` : ''
  return `${w.kind.toLowerCase()}/${w.name}: ${w.summary}${extra}`
}
