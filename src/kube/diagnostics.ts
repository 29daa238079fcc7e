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

/** Pure: the events that concern a workload (itself, its pods, its ReplicaSets), newest last. */
export function eventsFor(events: EventLike[], workload: {kind: string; name: string}, podNames: string[]): EventLike[] {
  const names = new Set([workload.name, ...podNames])
  return events
    .filter((e) => {
      const name = e.involvedObject?.name ?? e.regarding?.name ?? ''
      const kind = e.involvedObject?.kind ?? e.regarding?.kind ?? ''
      return names.has(name) || (workload.kind === 'Deployment' && kind === 'ReplicaSet' && name.startsWith(`${workload.name}-`))
    })
    .sort((a, b) => eventTime(a) - eventTime(b))
    .slice(-EVENTS_PER_WORKLOAD)
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
async function containerLog(kube: Kube, namespace: string, problem: PodProblem): Promise<{title: string; text: string}> {
  const read = (previous: boolean) =>
    kube.core.readNamespacedPodLog({name: problem.pod, namespace, container: problem.container, tailLines: LOG_TAIL_LINES, previous})
  const what = `${problem.init ? 'init container' : 'container'} ${problem.pod}/${problem.container}`
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
    const related = eventsFor(events, w, w.pods)
    lines.push(`  events (${related.length === 0 ? 'none' : `last ${related.length}`}):`)
    for (const e of related) lines.push(`    ${formatEvent(e, now)}`)
    const failing = [...w.problems].filter((p) => p.container).sort((a, b) => Number(b.fatal) - Number(a.fatal)).slice(0, CONTAINERS_PER_WORKLOAD)
    const logs = await Promise.all(failing.map((p) => containerLog(kube, namespace, p)))
    for (const log of logs) {
      lines.push(`  ${log.title}:`)
      const text = log.text.trimEnd()
      lines.push(text ? indent(text, '    | ') : '    (empty)')
    }
    sections.push(lines.join('\n'))
  }
  return sections.join('\n\n')
}
