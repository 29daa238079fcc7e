/**
 * Waiting for a namespace's workloads: every Deployment, StatefulSet, DaemonSet and Job at once,
 * with one deadline, driven by watches (no fixed sleeps). A progress line is printed whenever a
 * workload's state changes; a container stuck in CrashLoopBackOff, ImagePullBackOff, ErrImagePull or
 * CreateContainerConfigError, a failed Job, or pods that admission refuses (a Deployment's
 * ReplicaFailure, the other kinds' FailedCreate events) fail the rollout at once with diagnostics.
 */
import {abortedBy, DeployError, InterruptedError} from '../errors.js'
import {formatDuration} from '../util/duration.js'
import type {Logger} from '../util/log.js'
import type {Kube} from './client.js'
import {collectDiagnostics} from './diagnostics.js'
import {ListWatcher} from './watch.js'
import {evaluateRollout, progressLine, type RolloutEvaluation, type WorkloadEvaluation} from './workload-status.js'

const FAILED_CREATE = 'reason=FailedCreate'

/** A workload that failed (or is stuck) because its nodes cannot pull an image. */
const pullFailed = (w: WorkloadEvaluation) => /ImagePullBackOff|ErrImagePull/.test(w.fatal ?? '') || w.problems.some((p) => /ImagePullBackOff|ErrImagePull/.test(p.reason))
const PULL_HINT =
  'the nodes cannot pull an image: from a private registry they need credentials in the namespace (deploy.imagePullSecret: true; in Jenkins, pullCredentialsId); a wrong name or tag says "not found" in the events above'

export interface RolloutContext {
  namespace: string
  /** ms */
  timeout: number
  /** Server time of this deploy (see Snapshot.since): older FailedCreate events are not its own. */
  since?: Date
  logger: Logger
  signal?: AbortSignal
  /**
   * The kinds this deploy sent objects of (Deployment, Job, ...): their lists are consistent, so
   * that they show what was sent, not an older state that looks ready. The rest (and everything
   * when a deploy in place sent nothing) is listed from the API server's watch cache, at once: a
   * consistent list after the deploy's writes to other kinds waits up to ~100 ms (ListQuery).
   * Undefined: every list consistent.
   */
  sentKinds?: ReadonlySet<string>
}

export interface RolloutWaiter {
  /** Resolves when every workload is ready; throws DeployError (exit 6) on failure or at the deadline. */
  wait(ctx: RolloutContext): Promise<RolloutEvaluation>
}

export class WatchRolloutWaiter implements RolloutWaiter {
  constructor(private readonly kube: Kube) {}

  async wait(ctx: RolloutContext): Promise<RolloutEvaluation> {
    const {kube} = this
    const ns = ctx.namespace
    const started = Date.now()
    const printed = new Map<string, string>()
    let timer: NodeJS.Timeout | undefined
    let scheduled = false
    let settled = false
    let settle!: (outcome: {kind: 'ready' | 'failed' | 'timeout' | 'error'; evaluation?: RolloutEvaluation; error?: unknown}) => void
    const outcome = new Promise<Parameters<typeof settle>[0]>((resolve) => {
      settle = (value) => {
        settled = true
        resolve(value)
      }
    })

    const evaluate = () => {
      scheduled = false
      const evaluation = evaluateRollout(snapshot())
      for (const w of evaluation.workloads) {
        const key = `${w.kind}/${w.name}`
        const line = progressLine(w)
        if (printed.get(key) !== line) {
          printed.set(key, line)
          ctx.logger.line('rollout', `${line}  [${formatDuration(Date.now() - started)}]`)
        }
      }
      if (evaluation.failed.length > 0) settle({kind: 'failed', evaluation})
      else if (evaluation.allReady) settle({kind: 'ready', evaluation})
    }
    const onChange = () => {
      if (!ready || scheduled) return
      scheduled = true
      setImmediate(evaluate)
    }
    const onError = (error: unknown) => ctx.logger.debug(`watch error (reconnecting): ${(error as Error)?.message ?? error}`)
    // Lists as JSON, like the watches' objects: the client's models cost CPU and give nothing here.
    const fromCache = (kind: string) => ctx.sentKinds !== undefined && !ctx.sentKinds.has(kind)
    const watcher = (kind: string, path: string, fieldSelector?: string) =>
      new ListWatcher(kube, {kind, path, list: () => kube.listJSON(path, {fieldSelector, ...(fromCache(kind) ? {resourceVersion: '0' as const} : {})}) as never, onChange, onError, fieldSelector})
    const watchers = {
      Deployment: watcher('Deployment', `/apis/apps/v1/namespaces/${ns}/deployments`),
      StatefulSet: watcher('StatefulSet', `/apis/apps/v1/namespaces/${ns}/statefulsets`),
      DaemonSet: watcher('DaemonSet', `/apis/apps/v1/namespaces/${ns}/daemonsets`),
      Job: watcher('Job', `/apis/batch/v1/namespaces/${ns}/jobs`),
      ReplicaSet: watcher('ReplicaSet', `/apis/apps/v1/namespaces/${ns}/replicasets`),
      Pod: watcher('Pod', `/api/v1/namespaces/${ns}/pods`),
      // Admission refusing the pods of a StatefulSet, DaemonSet or Job shows only in these.
      Event: watcher('Event', `/api/v1/namespaces/${ns}/events`, FAILED_CREATE),
    }
    const snapshot = () => ({
      workloads: [...watchers.Deployment.items, ...watchers.StatefulSet.items, ...watchers.DaemonSet.items, ...watchers.Job.items],
      replicaSets: watchers.ReplicaSet.items,
      pods: watchers.Pod.items,
      events: watchers.Event.items,
      since: ctx.since,
    })
    let ready = false
    const onAbort = () => settle({kind: 'error', error: ctx.signal?.reason ?? new Error('aborted')})
    if (ctx.signal?.aborted) onAbort()
    else ctx.signal?.addEventListener('abort', onAbort, {once: true})
    try {
      timer = setTimeout(() => settle({kind: 'timeout', evaluation: evaluateRollout(snapshot())}), ctx.timeout)
      // The events only make a refusal fail fast; an account that may not read them waits for the
      // deadline instead, as before they were watched.
      const {Event: events, ...required} = watchers
      let watchEvents = true
      try {
        await Promise.all([
          ...Object.values(required).map((w) => w.list()),
          events.list().catch((error: unknown) => {
            watchEvents = false
            ctx.logger.debug(`not watching the events of ${ns} (${(error as Error).message}); a refused pod fails at the deadline`)
          }),
        ])
      } catch (error) {
        throw new DeployError(`cannot watch the workloads of namespace ${ns}: ${(error as Error).message}`, {cause: error})
      }
      ready = true
      const initial = evaluateRollout(snapshot())
      ctx.logger.info(`waiting for ${initial.workloads.length} workload(s) in ${ns} (deadline ${formatDuration(ctx.timeout)})`)
      evaluate()
      // A redeploy that changed no workload is ready in its lists: no watch is opened then.
      if (!settled) for (const w of [...Object.values(required), ...(watchEvents ? [events] : [])]) w.watch()
      const result = await outcome
      const evaluation = result.evaluation ?? evaluateRollout(snapshot())
      const elapsed = formatDuration(Date.now() - started)
      if (result.kind === 'ready') {
        ctx.logger.info(`all ${evaluation.workloads.length} workload(s) ready in ${elapsed}`)
        return evaluation
      }
      if (result.kind === 'error' && ctx.signal?.aborted) {
        throw InterruptedError.of(abortedBy(ctx.signal), {what: `waiting for the rollout in ${ns}`, during: `after ${elapsed}`}, {cause: result.error})
      }
      if (result.kind === 'error') {
        const reason = result.error instanceof Error ? result.error.message : String(result.error)
        throw new DeployError(`waiting for the rollout in ${ns} was interrupted after ${elapsed} (${reason})`, {cause: result.error})
      }
      const failing = result.kind === 'failed' ? evaluation.failed : evaluation.workloads.filter((w) => !w.ready)
      const details = await collectDiagnostics(kube, ns, failing, snapshot().pods)
      const names = failing.map((w) => `${w.kind.toLowerCase()}/${w.name}`).join(', ')
      const message =
        result.kind === 'failed'
          ? `rollout in ${ns} failed after ${elapsed}: ${failing.map((w) => `${w.kind.toLowerCase()}/${w.name}: ${w.fatal}`).join('; ')}`
          : `rollout in ${ns} timed out after ${elapsed} (deadline ${formatDuration(ctx.timeout)}): not ready: ${names}`
      throw new DeployError(message, {
        details,
        suggestions: [
          ...(result.kind === 'failed'
            ? ['see the pod status, events and logs above', 'fix the image or configuration and push again']
            : ['see the pod status and events above', 'raise deploy.timeout if the application is just slow to start']),
          ...(failing.some(pullFailed) ? [PULL_HINT] : []),
        ],
      })
    } finally {
      clearTimeout(timer)
      ctx.signal?.removeEventListener('abort', onAbort)
      for (const w of Object.values(watchers)) w.stop()
    }
  }
}
