/**
 * `logs export` (DESIGN §2 step 8): every container of every pod of the namespace — init containers
 * and the previous instance of restarted ones too — into `<workspace>/shopsys-ci/logs/<pod>/<container>.log`
 * (`<container>.previous.log`), and the namespace's events into `events.log` next to them. The build
 * runs it before cleanup, and always when something failed.
 */
import {createWriteStream, mkdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {finished, pipeline} from 'node:stream/promises'

import {reportDir} from '../conventions.js'
import {abortedBy, InterruptedError} from '../errors.js'
import {mapLimit} from '../util/concurrency.js'
import {formatDuration} from '../util/duration.js'
import {apiMessage, getKube, type Kube} from './client.js'
import {type EventLike, formatEventLog} from './diagnostics.js'
import {logsInterruption} from './interruption.js'
import {readNamespace} from './namespace.js'
import type {LogFile, LogsContext, LogsResult} from './types.js'
import type {KObject} from './workload-status.js'

export function logsDir(workspace: string): string {
  return path.join(reportDir(workspace), 'logs')
}

export interface LogTarget {
  pod: string
  container: string
  previous: boolean
}

/** Pure: which logs a pod has: each init, regular and ephemeral container, plus previous instances of restarted ones. */
export function logTargets(pod: KObject): LogTarget[] {
  const name = pod.metadata?.name ?? ''
  const statuses = new Map<string, {restartCount?: number; lastState?: {terminated?: unknown}}>()
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])]) statuses.set(cs.name, cs)
  const containers: string[] = [
    ...((pod.spec?.initContainers ?? []) as Array<{name: string}>).map((c) => c.name),
    ...((pod.spec?.containers ?? []) as Array<{name: string}>).map((c) => c.name),
    ...((pod.spec?.ephemeralContainers ?? []) as Array<{name: string}>).map((c) => c.name),
  ]
  const targets: LogTarget[] = []
  for (const container of containers) {
    targets.push({pod: name, container, previous: false})
    const st = statuses.get(container)
    if ((st?.restartCount ?? 0) > 0 || st?.lastState?.terminated) targets.push({pod: name, container, previous: true})
  }
  return targets
}

/** A file name that cannot leave the directory (pod and container names are DNS labels already). */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_')

async function writeLog(kube: Kube, namespace: string, target: LogTarget, file: string, signal?: AbortSignal): Promise<void> {
  const query: Record<string, string> = {container: target.container}
  if (target.previous) query.previous = 'true'
  const opened = await kube.openStream(`/api/v1/namespaces/${namespace}/pods/${target.pod}/log`, query, signal)
  if (opened) {
    if (opened.status !== 200) {
      // The API's Status, as the generated API would have thrown it (whyNoLog reads its message).
      const answer = Buffer.concat(await opened.body.toArray()).toString('utf8')
      throw Object.assign(new Error(`HTTP-Code: ${opened.status}\nMessage: Error occurred in log request`), {code: opened.status, body: answer})
    }
    const out = createWriteStream(file)
    try {
      await pipeline(opened.body, out)
    } catch (error) {
      // Interrupted: what was written is kept, as with client-node's Log below.
      if (!signal?.aborted) {
        rmSync(file, {force: true})
        throw error
      }
    }
    return
  }
  const out = createWriteStream(file)
  const done = finished(out)
  let controller: AbortController
  try {
    const log = new kube.k8s.Log(kube.kc)
    controller = await log.log(namespace, target.pod, target.container, out, {previous: target.previous, timestamps: false})
  } catch (error) {
    out.destroy()
    await done.catch(() => undefined)
    rmSync(file, {force: true})
    throw error
  }
  // One listener per log while it streams, removed after: a namespace has more logs than the
  // signal's default listener limit, and Node warns into the Jenkins log about a "leak".
  const onAbort = () => {
    controller.abort()
    // An aborted request leaves the file open: end it, so that what was written is kept.
    out.end()
  }
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort, {once: true})
  try {
    await done
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Why a log cannot be read. client-node's `Log` drops the API's answer to anything but a 500 and says
 * only "Error occurred in log request (HTTP 400)"; a one-byte read through the generated API gets the
 * message back (`previous terminated container "app" in pod "web-1" not found`, `container "app" in
 * pod "web-1" is waiting to start: ContainerCreating`).
 */
async function whyNoLog(kube: Kube, namespace: string, target: LogTarget, error: unknown): Promise<string> {
  const message = apiMessage(error)
  if (!message.startsWith('Error occurred in log request')) return message
  try {
    await kube.core.readNamespacedPodLog({name: target.pod, namespace, container: target.container, previous: target.previous, limitBytes: 1})
    return message
  } catch (again) {
    return apiMessage(again)
  }
}

/** The namespace's events into `<dir>/events.log`; a failure to read them is a warning, not an error. */
async function writeEvents(kube: Kube, namespace: string, dir: string, workspace: string, logger: LogsContext['logger']): Promise<LogsResult['events']> {
  let events: EventLike[]
  try {
    events = (await kube.listJSON<{items?: EventLike[]}>(`/api/v1/namespaces/${namespace}/events`)).items ?? []
  } catch (error) {
    logger.warn(`cannot list the events of ${namespace}: ${apiMessage(error)}; no events.log`)
    return undefined
  }
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, 'events.log')
  writeFileSync(file, formatEventLog(events))
  return {path: path.relative(workspace, file), count: events.length}
}

export async function exportLogs(ctx: LogsContext & {kube?: Kube; concurrency?: number}): Promise<LogsResult> {
  const kube = ctx.kube ?? (await getKube())
  const started = Date.now()
  const dir = logsDir(ctx.workspace)
  const result: LogsResult = {namespace: ctx.namespace, dir: path.relative(ctx.workspace, dir) || '.', files: [], skipped: []}
  let pods: KObject[]
  try {
    pods = (await kube.listJSON<{items?: KObject[]}>(`/api/v1/namespaces/${ctx.namespace}/pods`)).items ?? []
  } catch (error) {
    ctx.logger.warn(`cannot list the pods of ${ctx.namespace}: ${apiMessage(error)}; no logs exported`)
    return result
  }
  // Listing pods of a namespace that does not exist is not an error: say why there is nothing.
  if (pods.length === 0 && !(await readNamespace(kube, ctx.namespace).catch(() => true))) {
    ctx.logger.warn(`namespace ${ctx.namespace} does not exist: no logs to export`)
    return result
  }
  const targets = pods.flatMap((p) => logTargets(p))
  // The events meanwhile. Eight logs at once: each listens to the signal while it streams, and
  // Node warns into the Jenkins log about a "leak" beyond ten listeners.
  const events = writeEvents(kube, ctx.namespace, dir, ctx.workspace, ctx.logger)
  await mapLimit(targets, ctx.concurrency ?? 8, async (target) => {
    if (ctx.signal?.aborted) return
    const podDir = path.join(dir, safe(target.pod))
    mkdirSync(podDir, {recursive: true})
    const file = path.join(podDir, `${safe(target.container)}${target.previous ? '.previous' : ''}.log`)
    try {
      await writeLog(kube, ctx.namespace, target, file, ctx.signal)
      const entry: LogFile = {...target, path: path.relative(ctx.workspace, file), bytes: statSync(file).size}
      result.files.push(entry)
    } catch (error) {
      if (ctx.signal?.aborted) return
      result.skipped.push({...target, reason: await whyNoLog(kube, ctx.namespace, target, error)})
    }
  })
  if (ctx.signal?.aborted) {
    await events.catch(() => undefined)
    throw InterruptedError.of(abortedBy(ctx.signal), logsInterruption(ctx.namespace, result.dir, {written: result.files.length, total: targets.length}))
  }
  result.files.sort((a, b) => a.path.localeCompare(b.path))
  result.events = await events
  const eventCount = result.events ? ` and ${result.events.count} event(s)` : ''
  ctx.logger.info(`exported ${result.files.length} log(s) of ${pods.length} pod(s)${eventCount} from ${ctx.namespace} into ${result.dir} in ${formatDuration(Date.now() - started)}${result.skipped.length ? ` (${result.skipped.length} not available)` : ''}`)
  return result
}
