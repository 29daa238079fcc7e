/** `list` and `status`: the project's environments as the cluster records them (DESIGN §5). */
import type {Config} from '../config/model.js'
import {formatDuration, formatRelative} from '../util/duration.js'
import {formatTable} from '../util/table.js'
import {getKube, type Kube} from './client.js'
import {deletionVerdict} from './guard.js'
import {type EnvironmentInfo, type NamespaceLike, projectSelector, readEnvironment, toMillis} from './metadata.js'
import {readNamespace} from './namespace.js'
import {readOwnerLease} from './owner.js'
import {leaseInfo} from './lease.js'
import type {WorkloadStatusSummary} from './types.js'
import {evaluateRollout, type KObject, problemText, workloadState} from './workload-status.js'

export interface EnvironmentRow {
  namespace: string
  branch?: string
  slug?: string
  commit?: string
  owner?: string
  buildUrl?: string
  createdAt?: string
  deployedAt?: string
  /** ms since created */
  ageMs?: number
  expiresAt?: string
  keep: boolean
  terminating: boolean
  urls: Record<string, string>
  workloads: {ready: number; total: number}
}

export interface ListContext {
  config: Config
  kube?: Kube
}

export interface ListResult {
  project: string
  environments: EnvironmentRow[]
}

export interface StatusContext {
  config: Config
  namespace: string
  kube?: Kube
}

export interface StatusResult {
  project: string
  namespace: string
  exists: boolean
  /** Set when a namespace of that name exists but is not this project's environment. */
  notOurs?: string
  environment?: EnvironmentRow
  workloads: WorkloadStatusSummary[]
  /** The owning build's last heartbeat (ISO), if any. */
  ownerSeenAt?: string
}

/**
 * The workloads of a namespace and their state. With `problems`, a workload that is not ready also
 * says why, from its current pods (two more lists, only when something is not ready).
 */
async function workloadsOf(kube: Kube, namespace: string, options: {problems?: boolean} = {}): Promise<WorkloadStatusSummary[]> {
  const [deployments, statefulSets, daemonSets, jobs] = await Promise.all([
    kube.apps.listNamespacedDeployment({namespace}),
    kube.apps.listNamespacedStatefulSet({namespace}),
    kube.apps.listNamespacedDaemonSet({namespace}),
    kube.batch.listNamespacedJob({namespace}),
  ])
  const all: KObject[] = [
    ...deployments.items.map((o) => ({...(o as KObject), kind: 'Deployment'})),
    ...statefulSets.items.map((o) => ({...(o as KObject), kind: 'StatefulSet'})),
    ...daemonSets.items.map((o) => ({...(o as KObject), kind: 'DaemonSet'})),
    ...jobs.items.map((o) => ({...(o as KObject), kind: 'Job'})),
  ]
  const summaries = all
    .map((o) => workloadState(o))
    .map((s): WorkloadStatusSummary => ({kind: s.kind, name: s.name, ready: s.ready, status: s.failure ?? s.summary}))
    .sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
  if (!options.problems || summaries.every((s) => s.ready)) return summaries
  const [pods, replicaSets] = await Promise.all([kube.core.listNamespacedPod({namespace}), kube.apps.listNamespacedReplicaSet({namespace})])
  const evaluation = evaluateRollout({workloads: all, pods: pods.items as KObject[], replicaSets: replicaSets.items.map((o) => ({...(o as KObject), kind: 'ReplicaSet'}))})
  const problems = new Map(evaluation.workloads.filter((w) => !w.ready && w.problems.length > 0).map((w) => [`${w.kind}/${w.name}`, problemText(w.problems[0])]))
  return summaries.map((s) => {
    const problem = problems.get(`${s.kind}/${s.name}`)
    return problem ? {...s, problem} : s
  })
}

/** Pure: the row of one environment. */
export function environmentRow(env: EnvironmentInfo, workloads: WorkloadStatusSummary[], now: number): EnvironmentRow {
  const created = toMillis(env.createdAt) ?? toMillis(env.creationTimestamp)
  return {
    namespace: env.namespace,
    ...(env.branch === undefined ? {} : {branch: env.branch}),
    ...(env.slug === undefined ? {} : {slug: env.slug}),
    ...(env.commit === undefined ? {} : {commit: env.commit}),
    ...(env.owner === undefined ? {} : {owner: env.owner}),
    ...(env.buildUrl === undefined ? {} : {buildUrl: env.buildUrl}),
    ...(env.createdAt === undefined ? {} : {createdAt: env.createdAt}),
    ...(env.deployedAt === undefined ? {} : {deployedAt: env.deployedAt}),
    ...(created === undefined ? {} : {ageMs: now - created}),
    ...(env.expiresAt === undefined ? {} : {expiresAt: env.expiresAt}),
    keep: env.keep,
    terminating: env.terminating,
    urls: env.urls,
    workloads: {ready: workloads.filter((w) => w.ready).length, total: workloads.length},
  }
}

export async function listEnvironments(ctx: ListContext): Promise<ListResult> {
  const kube = ctx.kube ?? (await getKube())
  const list = await kube.core.listNamespace({labelSelector: projectSelector(ctx.config.project)})
  const now = Date.now()
  const environments = await Promise.all(
    ((list.items ?? []) as NamespaceLike[]).map(async (ns) => {
      const env = readEnvironment(ns)
      const workloads = env.terminating ? [] : await workloadsOf(kube, env.namespace).catch(() => [])
      return environmentRow(env, workloads, now)
    }),
  )
  environments.sort((a, b) => a.namespace.localeCompare(b.namespace))
  return {project: ctx.config.project, environments}
}

export async function environmentStatus(ctx: StatusContext): Promise<StatusResult> {
  const kube = ctx.kube ?? (await getKube())
  const ns = await readNamespace(kube, ctx.namespace)
  if (!ns) return {project: ctx.config.project, namespace: ctx.namespace, exists: false, workloads: []}
  const verdict = deletionVerdict(ns, ctx.config.project)
  if (!verdict.ok) return {project: ctx.config.project, namespace: ctx.namespace, exists: true, notOurs: verdict.reason, workloads: []}
  const env = readEnvironment(ns)
  const [workloads, lease] = await Promise.all([workloadsOf(kube, ctx.namespace, {problems: true}), readOwnerLease(kube, ctx.namespace).catch(() => undefined)])
  const renew = leaseInfo(lease).renewTime
  return {
    project: ctx.config.project,
    namespace: ctx.namespace,
    exists: true,
    environment: environmentRow(env, workloads, Date.now()),
    workloads,
    ...(renew === undefined ? {} : {ownerSeenAt: new Date(renew).toISOString()}),
  }
}

function relative(iso: string | undefined, now: number): string {
  const ms = toMillis(iso)
  return ms === undefined ? '-' : formatRelative(ms - now)
}

export function formatEnvironmentTable(rows: EnvironmentRow[], now = Date.now()): string {
  return formatTable(
    ['BRANCH', 'NAMESPACE', 'COMMIT', 'AGE', 'EXPIRES', 'READY', 'URL'],
    rows.map((r) => [
      r.branch ?? '-',
      r.namespace + (r.terminating ? ' (terminating)' : r.keep ? ' (kept)' : ''),
      r.commit ? r.commit.slice(0, 12) : '-',
      r.ageMs === undefined ? '-' : formatDuration(r.ageMs),
      relative(r.expiresAt, now).replace(/^in /, ''),
      `${r.workloads.ready}/${r.workloads.total}`,
      Object.values(r.urls)[0] ?? '-',
    ]),
  )
}

export function formatStatus(status: StatusResult, now = Date.now()): string {
  if (status.notOurs) return `namespace ${status.namespace} exists but is not an environment of ${status.project}: ${status.notOurs}`
  if (!status.exists || !status.environment) return `namespace ${status.namespace} does not exist`
  const e = status.environment
  const lines = [
    `branch:     ${e.branch ?? '-'}`,
    `namespace:  ${e.namespace}${e.terminating ? ' (terminating)' : ''}`,
    `commit:     ${e.commit ?? '-'}`,
    `owner:      ${e.owner ?? '-'}${status.ownerSeenAt ? ` (last seen ${relative(status.ownerSeenAt, now)})` : ''}`,
    ...(e.buildUrl ? [`build:      ${e.buildUrl}`] : []),
    `created:    ${e.createdAt ?? '-'}${e.ageMs === undefined ? '' : ` (${formatDuration(e.ageMs)} ago)`}`,
    `deployed:   ${e.deployedAt ?? '-'}`,
    `expires:    ${e.expiresAt ?? '-'} (${relative(e.expiresAt, now)})${e.keep ? ', kept for review' : ''}`,
    `workloads:  ${e.workloads.ready}/${e.workloads.total} ready`,
  ]
  for (const w of status.workloads) lines.push(`  ${w.ready ? 'ok ' : '.. '} ${w.kind.toLowerCase()}/${w.name}: ${w.status}${w.problem ? ` (${w.problem})` : ''}`)
  const urls = Object.entries(e.urls)
  if (urls.length) {
    lines.push('urls:')
    for (const [k, v] of urls) lines.push(`  ${k}: ${v}`)
  }
  return lines.join('\n')
}
