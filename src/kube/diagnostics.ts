/**
 * What a failed rollout prints, per failing workload: its pods' status, recent events, and the last
 * lines of the failing containers' logs (init containers too; the previous instance of a crashing one).
 */
import type {Kube} from './client.js'
import {apiMessage} from './client.js'
import {toMillis} from './metadata.js'
import {describePod, type KObject, type PodProblem, type WorkloadEvaluation} from './workload-status.js'

export const LOG_TAIL_LINES = 50
const EVENTS_PER_WORKLOAD = 12
const CONTAINERS_PER_WORKLOAD = 4

export interface EventLike {
  involvedObject?: {kind?: string; name?: string}
  regarding?: {kind?: string; name?: string}
  type?: string
  reason?: string
  message?: string
  count?: number
  lastTimestamp?: Date | string
  eventTime?: Date | string
  firstTimestamp?: Date | string
  metadata?: {creationTimestamp?: Date | string}
}

function eventTime(e: EventLike): number {
  return toMillis(e.lastTimestamp) ?? toMillis(e.eventTime) ?? toMillis(e.firstTimestamp) ?? toMillis(e.metadata?.creationTimestamp) ?? 0
}

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`
}

/**
 * Pure: the events that concern a workload (itself, its pods, its ReplicaSets, the claims its pods
 * mount: a pod Pending on an unbound claim says only "unbound PersistentVolumeClaims", the claim's
 * own events say why, e.g. a storage class that does not exist), newest last.
 */
export function eventsFor(events: EventLike[], workload: {kind: string; name: string}, podNames: string[], claims: string[] = []): EventLike[] {
  const names = new Set([workload.name, ...podNames])
  const claimNames = new Set(claims)
  return events
    .filter((e) => {
      const name = e.involvedObject?.name ?? e.regarding?.name ?? ''
      const kind = e.involvedObject?.kind ?? e.regarding?.kind ?? ''
      if (kind === 'PersistentVolumeClaim') return claimNames.has(name)
      return names.has(name) || (workload.kind === 'Deployment' && kind === 'ReplicaSet' && name.startsWith(`${workload.name}-`))
    })
    .sort((a, b) => eventTime(a) - eventTime(b))
    .slice(-EVENTS_PER_WORKLOAD)
}

/** Pure: the PersistentVolumeClaims the pods mount (generic ephemeral volumes: `<pod>-<volume>`). */
export function claimsOf(pods: KObject[]): string[] {
  const claims = new Set<string>()
  for (const p of pods) {
    for (const v of (p.spec?.volumes ?? []) as Array<{name: string; persistentVolumeClaim?: {claimName?: string}; ephemeral?: unknown}>) {
      if (v.persistentVolumeClaim?.claimName) claims.add(v.persistentVolumeClaim.claimName)
      else if (v.ephemeral) claims.add(`${p.metadata?.name}-${v.name}`)
    }
  }
  return [...claims]
}

/**
 * Pure: the containers whose last log lines the diagnostics show: the failing ones (fatal first),
 * then those running but not ready, init containers first (one that runs for ever holds the pod
 * back). At the deadline of a readiness that never comes, the latter's log says why.
 */
export function logContainers(problems: PodProblem[], pods: KObject[]): Array<PodProblem & {unready?: boolean}> {
  const failing = problems.filter((p) => p.container).sort((a, b) => Number(b.fatal) - Number(a.fatal))
  const seen = new Set(failing.map((p) => `${p.pod}/${p.container}`))
  const unready: Array<PodProblem & {unready: boolean}> = []
  for (const pod of pods) {
    const name = pod.metadata?.name ?? ''
    const scan = (statuses: Array<{name: string; ready?: boolean; restartCount?: number; state?: {running?: unknown}}> | undefined, init: boolean) => {
      for (const cs of statuses ?? []) {
        if (!cs.state?.running || cs.ready || seen.has(`${name}/${cs.name}`)) continue
        unready.push({pod: name, container: cs.name, init, reason: 'not ready', fatal: false, restartCount: cs.restartCount ?? 0, unready: true})
      }
    }
    scan(pod.status?.initContainerStatuses, true)
    scan(pod.status?.containerStatuses, false)
  }
  unready.sort((a, b) => Number(b.init) - Number(a.init))
  return [...failing, ...unready].slice(0, CONTAINERS_PER_WORKLOAD)
}

/** `Warning  BackOff  pod/web-1: message (x4)`: an event after its time; `typeWidth` aligns the type column. */
function eventText(e: EventLike, typeWidth = 0): string {
  const obj = e.involvedObject ?? e.regarding
  const count = e.count && e.count > 1 ? ` (x${e.count})` : ''
  return `${(e.type ?? '').padEnd(typeWidth)}  ${e.reason ?? ''}  ${(obj?.kind ?? '').toLowerCase()}/${obj?.name ?? ''}: ${(e.message ?? '').trim()}${count}`
}

export function formatEvent(e: EventLike, now: number): string {
  return `${ago(eventTime(e), now)}  ${eventText(e)}`
}

/**
 * Pure: every event of a namespace as the `events.log` that `logs export` writes, oldest first, with
 * absolute times: what `kubectl get events` would have shown, kept after the namespace is gone.
 */
export function formatEventLog(events: EventLike[]): string {
  return [...events]
    .sort((a, b) => eventTime(a) - eventTime(b))
    .map((e) => `${eventTime(e) ? new Date(eventTime(e)).toISOString() : '-'}  ${eventText(e, 'Warning'.length)}\n`)
    .join('')
}

function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n')
}

/** Reads the last lines of a container's log; for a restarted container, its previous instance. */
async function containerLog(kube: Kube, namespace: string, problem: PodProblem & {unready?: boolean}): Promise<{title: string; text: string}> {
  const read = (previous: boolean) =>
    kube.core.readNamespacedPodLog({name: problem.pod, namespace, container: problem.container, tailLines: LOG_TAIL_LINES, previous})
  const what = `${problem.init ? 'init container' : 'container'} ${problem.pod}/${problem.container}${problem.unready ? ' (running, not ready)' : ''}`
  if (problem.restartCount > 0) {
    try {
      return {title: `last ${LOG_TAIL_LINES} log lines of ${what} (previous instance)`, text: String(await read(true))}
    } catch {
      // fall through to the current instance
    }
  }
  try {
    return {title: `last ${LOG_TAIL_LINES} log lines of ${what}`, text: String(await read(false))}
  } catch (error) {
    return {title: `log of ${what}`, text: `(not available: ${apiMessage(error)})`}
  }
}

/** The diagnostics text for failing (or, at the deadline, unready) workloads. */
export async function collectDiagnostics(kube: Kube, namespace: string, workloads: WorkloadEvaluation[], pods: KObject[]): Promise<string> {
  const now = Date.now()
  let events: EventLike[] = []
  try {
    events = ((await kube.core.listNamespacedEvent({namespace})).items ?? []) as EventLike[]
  } catch (error) {
    events = []
    void error
  }
  const sections: string[] = []
  for (const w of workloads) {
    const lines: string[] = [`${w.kind.toLowerCase()}/${w.name}: ${w.fatal ?? w.summary}`]
    const podObjects = pods.filter((p) => w.pods.includes(p.metadata?.name ?? ''))
    lines.push('  pods:')
    if (podObjects.length === 0) lines.push('    (none)')
    for (const p of podObjects) lines.push(indent(describePod(p)))
    const related = eventsFor(events, w, w.pods, claimsOf(podObjects))
    lines.push(`  events (${related.length === 0 ? 'none' : `last ${related.length}`}):`)
    for (const e of related) lines.push(`    ${formatEvent(e, now)}`)
    const logs = await Promise.all(logContainers(w.problems, podObjects).map((p) => containerLog(kube, namespace, p)))
    for (const log of logs) {
      lines.push(`  ${log.title}:`)
      const text = log.text.trimEnd()
      lines.push(text ? indent(text, '    | ') : '    (empty)')
    }
    sections.push(lines.join('\n'))
  }
  return sections.join('\n\n')
}
