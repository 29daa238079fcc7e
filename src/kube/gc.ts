/**
 * `gc`: deletes the project's environments that are no longer wanted. Rules, in order (docs/deploy.md):
 *
 * 1. expired: `shopsys-ci/expires-at` is in the past (every deploy sets it to now + deploy.ttl);
 * 2. branch-deleted: the branch (the `shopsys-ci/branch` annotation) is no longer a head on the remote
 *    (`git ls-remote --heads <remote>`); skipped when the remote cannot be read or lists no heads;
 * 3. owner-gone: not kept for review, older than the grace period, and its owner Lease
 *    (`shopsys-ci-owner` in the namespace, renewed by every command of the owning build) has not been
 *    renewed for the lease's duration plus the grace period: the build died before its cleanup.
 *
 * Only namespaces that pass the hard guard (managed-by + project, never default/kube-*) are
 * considered; a namespace whose branch lock is held (a deploy or cleanup is running) is skipped.
 */
import {abortedBy, CleanupError, InterruptedError} from '../errors.js'
import {formatDuration, formatRelative} from '../util/duration.js'
import type {Logger} from '../util/log.js'
import type {Config} from '../config/model.js'
import {releaseCapacitySlots} from './capacity.js'
import {apiMessage, getKube, type Kube} from './client.js'
import {systemNamespace as defaultSystemNamespace} from './constants.js'
import {deletionVerdict} from './guard.js'
import {gcInterruption} from './interruption.js'
import {type LeaseLike, leaseInfo} from './lease.js'
import {tryBranchLock} from './locks.js'
import {type EnvironmentInfo, type NamespaceLike, projectSelector, readEnvironment, toMillis} from './metadata.js'
import {deleteNamespace, readNamespace, waitNamespaceGone} from './namespace.js'
import {readOwnerLease} from './owner.js'

export type GcRule = 'expired' | 'branch-deleted' | 'owner-gone'

export interface GcDecision {
  namespace: string
  branch?: string
  action: 'delete' | 'keep' | 'skip'
  /** The rule that matched (for `delete`). */
  rule?: GcRule
  reason: string
}

export interface GcInputs {
  project: string
  /** ms since epoch */
  now: number
  /** Heads on the remote; undefined when the branch rule is off. */
  remoteBranches?: ReadonlySet<string>
  /** The namespace's owner Lease (undefined: none). */
  ownerLease?: LeaseLike
  /** ms */
  grace: number
  systemNamespace?: string
}

/** Pure: what gc does with one namespace, and why. */
export function gcDecision(ns: NamespaceLike, inputs: GcInputs): GcDecision {
  const env: EnvironmentInfo = readEnvironment(ns)
  const base = {namespace: env.namespace, ...(env.branch ? {branch: env.branch} : {})}
  const verdict = deletionVerdict(ns, inputs.project, inputs.systemNamespace)
  if (!verdict.ok) return {...base, action: 'skip', reason: verdict.reason}
  if (env.terminating) return {...base, action: 'skip', reason: 'already being deleted'}

  const expires = toMillis(env.expiresAt)
  if (expires !== undefined && expires <= inputs.now) {
    return {...base, action: 'delete', rule: 'expired', reason: `expired ${formatRelative(expires - inputs.now)} (${env.expiresAt})`}
  }
  if (inputs.remoteBranches && env.branch !== undefined && !inputs.remoteBranches.has(env.branch)) {
    return {...base, action: 'delete', rule: 'branch-deleted', reason: `branch "${env.branch}" no longer exists on the remote`}
  }
  const created = toMillis(env.createdAt) ?? toMillis(env.creationTimestamp) ?? inputs.now
  const age = inputs.now - created
  const lease = leaseInfo(inputs.ownerLease)
  const lastSeen = lease.renewTime !== undefined ? lease.renewTime + (lease.durationSeconds ?? 0) * 1000 : undefined
  if (!env.keep && age > inputs.grace && (lastSeen === undefined || inputs.now - lastSeen > inputs.grace)) {
    const when = lastSeen === undefined ? 'has no owner lease' : `owner lease of ${lease.holder ?? env.owner ?? '?'} lapsed ${formatDuration(inputs.now - lastSeen)} ago`
    return {...base, action: 'delete', rule: 'owner-gone', reason: `left over from a build that died: ${when} (grace ${formatDuration(inputs.grace)})`}
  }
  const why = [
    expires === undefined ? 'no expiry' : `expires ${formatRelative(expires - inputs.now)}`,
    inputs.remoteBranches ? 'branch exists' : undefined,
    env.keep ? 'kept for review' : lastSeen !== undefined && lastSeen > inputs.now ? `owner ${lease.holder ?? ''} alive`.trim() : `within the grace period`,
  ].filter(Boolean)
  return {...base, action: 'keep', reason: why.join(', ')}
}

/** Pure: the branch names in `git ls-remote --heads` output. */
export function parseLsRemoteHeads(output: string): Set<string> {
  const heads = new Set<string>()
  for (const line of output.split('\n')) {
    const m = /^[0-9a-f]+\s+refs\/heads\/(.+)$/.exec(line.trim())
    if (m) heads.add(m[1])
  }
  return heads
}

export interface GcContext {
  config: Config
  workspace: string
  logger: Logger
  /** Remote (name or URL) whose heads decide which branches exist; undefined: skip that rule. */
  remote?: string
  dryRun?: boolean
  /** ms; default 1h */
  grace?: number
  /** Deadline for each namespace to go (ms; default config.deploy.timeout). */
  timeout?: number
  signal?: AbortSignal
  kube?: Kube
  systemNamespace?: string
}

export interface GcResult {
  project: string
  dryRun: boolean
  /** `ok`, or why the branch rule was not applied. */
  branchCheck: string
  decisions: GcDecision[]
  deleted: string[]
  failed: Array<{namespace: string; error: string}>
}

export const DEFAULT_GC_GRACE = 60 * 60_000

async function remoteHeads(workspace: string, remote: string, signal?: AbortSignal): Promise<Set<string>> {
  const {simpleGit} = await import('simple-git')
  const output = await simpleGit({baseDir: workspace, abort: signal}).listRemote(['--heads', remote])
  return parseLsRemoteHeads(output)
}

export async function gcEnvironments(ctx: GcContext): Promise<GcResult> {
  const {config, logger} = ctx
  const kube = ctx.kube ?? (await getKube())
  const systemNamespace = ctx.systemNamespace ?? defaultSystemNamespace()
  const grace = ctx.grace ?? DEFAULT_GC_GRACE
  const result: GcResult = {project: config.project, dryRun: Boolean(ctx.dryRun), branchCheck: 'ok', decisions: [], deleted: [], failed: []}

  let remoteBranches: Set<string> | undefined
  if (ctx.remote === undefined) result.branchCheck = 'off'
  else {
    try {
      remoteBranches = await remoteHeads(ctx.workspace, ctx.remote, ctx.signal)
      if (remoteBranches.size === 0) {
        result.branchCheck = `remote ${ctx.remote} lists no branches; not trusted`
        remoteBranches = undefined
      }
    } catch (error) {
      result.branchCheck = `cannot list the branches of ${ctx.remote}: ${(error as Error).message.split('\n')[0]}`
    }
    if (ctx.signal?.aborted) throw InterruptedError.of(abortedBy(ctx.signal), gcInterruption(config.project, {deleted: [], deleting: [], locksReleased: 0}))
    if (!remoteBranches) logger.warn(`gc: branch rule skipped: ${result.branchCheck}`)
  }

  const list = await kube.core.listNamespace({labelSelector: projectSelector(config.project)})
  const namespaces = (list.items ?? []) as NamespaceLike[]
  const now = Date.now()
  result.decisions = await Promise.all(
    namespaces.map(async (ns) => {
      const ownerLease = await readOwnerLease(kube, ns.metadata?.name ?? '').catch(() => undefined)
      return gcDecision(ns, {project: config.project, now, remoteBranches, ownerLease, grace, systemNamespace})
    }),
  )
  result.decisions.sort((a, b) => a.namespace.localeCompare(b.namespace))
  for (const d of result.decisions) logger.info(`${ctx.dryRun && d.action === 'delete' ? 'would delete' : d.action}: ${d.namespace}${d.branch ? ` (${d.branch})` : ''}: ${d.reason}`)
  if (ctx.dryRun) return result

  const timeout = ctx.timeout ?? config.deploy.timeout
  const victims = result.decisions.filter((d) => d.action === 'delete')
  // Interrupted: no deletion is started any more, the waits end, the locks are released.
  const deleting: string[] = []
  let locksReleased = 0
  await Promise.all(
    victims.map(async (d) => {
      const env = readEnvironment(namespaces.find((n) => n.metadata?.name === d.namespace) ?? {})
      const identity = {project: config.project, slug: env.slug ?? '', namespace: d.namespace, owner: 'shopsys-ci-gc'}
      if (ctx.signal?.aborted) return
      const lock = await tryBranchLock(kube, {identity, systemNamespace, logger})
      if (!lock) {
        d.action = 'skip'
        d.reason = 'a deploy or cleanup of this branch is running'
        logger.info(`skip: ${d.namespace}: ${d.reason}`)
        return
      }
      try {
        // Check again under the lock: the namespace may have been redeployed meanwhile.
        const current = await readNamespace(kube, d.namespace)
        if (!current) return
        const again = gcDecision(current, {project: config.project, now: Date.now(), remoteBranches, ownerLease: await readOwnerLease(kube, d.namespace).catch(() => undefined), grace, systemNamespace})
        if (again.action !== 'delete') {
          Object.assign(d, again)
          return
        }
        if (ctx.signal?.aborted) return
        await deleteNamespace(kube, d.namespace, (current.metadata as {uid?: string} | undefined)?.uid)
        deleting.push(d.namespace)
        const gone = await waitNamespaceGone(kube, d.namespace, Date.now() + timeout, ctx.signal)
        if (gone === undefined) throw new Error(`still terminating after ${formatDuration(timeout)}`)
        await releaseCapacitySlots(kube, {project: config.project, namespace: d.namespace, systemNamespace})
        deleting.splice(deleting.indexOf(d.namespace), 1)
        result.deleted.push(d.namespace)
        logger.info(`deleted ${d.namespace}`)
      } catch (error) {
        if (!ctx.signal?.aborted) result.failed.push({namespace: d.namespace, error: apiMessage(error)})
      } finally {
        await lock.release().then(
          () => locksReleased++,
          () => undefined,
        )
      }
    }),
  )
  result.deleted.sort()
  if (ctx.signal?.aborted) throw InterruptedError.of(abortedBy(ctx.signal), gcInterruption(config.project, {deleted: result.deleted, deleting, locksReleased}))
  if (result.failed.length > 0) {
    throw new CleanupError(`gc could not delete ${result.failed.length} namespace(s): ${result.failed.map((f) => `${f.namespace}: ${f.error}`).join('; ')}`)
  }
  return result
}
