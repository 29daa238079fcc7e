/**
 * Phases (DESIGN §2 step 7): a configured command run in a Ready pod of the environment, output
 * streamed live with the phase name as prefix, its exit code deciding the outcome (exit 7), and its
 * artifacts (JUnit XML, screenshots) copied out into `<workspace>/shopsys-ci/artifacts/<phase>/`,
 * failed or not.
 *
 * Only `sh`, `env`, `cd` and `tar` are needed in the container (the kwok test stack runs exec'd
 * commands on the host, so nothing fancier is assumed).
 */
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'

import type {PhaseConfig} from '../config/model.js'
import {reportDir} from '../conventions.js'
import {abortedBy, InterruptedError, partialResultOf, PhaseError, withPartialResult} from '../errors.js'
import {formatDuration} from '../util/duration.js'
import {addTotals, formatTotals, junitTotals, type TestTotals} from '../util/junit.js'
import {apiMessage, getKube, type Kube, isNotFound} from './client.js'
import {BufferWriter, execInPod, LineWriter} from './exec.js'
import {phaseInterruption} from './interruption.js'
import {readEnvironment, toMillis} from './metadata.js'
import {readNamespace} from './namespace.js'
import {startOwnerHeartbeat} from './owner.js'
import {parsePhaseTarget, selectorToString} from './selector.js'
import {TarExtractor} from './tar.js'
import type {PhaseContext, PhaseResult} from './types.js'
import {isPodReady, type KObject, podProblems} from './workload-status.js'
import {watchUntil} from './watch.js'

export interface PhaseRunner {
  run(ctx: PhaseContext): Promise<PhaseResult>
}

/** How long to wait for a Ready pod of the target before giving up. */
const POD_WAIT_MS = 60_000

/** Where a phase's artifacts go. */
export function artifactsDir(workspace: string, phase: string): string {
  return path.join(reportDir(workspace), 'artifacts', phase)
}

/** Pure: the argv exec'd for a phase: its command, with its environment and working directory. */
export function phaseCommand(phase: Pick<PhaseConfig, 'command' | 'env' | 'workingDir'>): string[] {
  const env = Object.entries(phase.env).map(([k, v]) => `${k}=${v}`)
  const withEnv = env.length > 0 ? ['env', ...env, ...phase.command] : [...phase.command]
  if (!phase.workingDir) return withEnv
  // `cd` is a shell builtin; "$0" is the directory, "$@" the command, never re-parsed by the shell.
  return ['sh', '-c', 'cd "$0" && exec "$@"', phase.workingDir, ...withEnv]
}

/**
 * Pure: `argv` behind a shell that first writes its PID to stderr (`shopsys-ci-pid <n>`) and then
 * execs it, so the command keeps that PID: an interrupted phase can end it with `stopCommand`.
 */
export function reportingPid(argv: string[]): string[] {
  return ['sh', '-c', 'echo "shopsys-ci-pid $$" >&2 && exec "$@"', 'sh', ...argv]
}

export const PID_LINE = /^shopsys-ci-pid (\d+)$/

/** Pure: the argv that sends SIGTERM to the phase's command (`kill` is a shell builtin). */
export function stopCommand(pid: string): string[] {
  return ['sh', '-c', 'kill -TERM "$0"', pid]
}

/**
 * Pure: the argv that writes a tar of the artifacts to stdout. Patterns may use shell globs; one
 * that matches nothing is reported on stderr (`shopsys-ci: no artifact matches <p>`), not an error.
 */
export function artifactCommand(patterns: string[], workingDir?: string): string[] {
  const script = [
    'cd "$0" || exit 90',
    'n=$#',
    'for pat in "$@"; do',
    '  for f in $pat; do',
    '    if [ -e "$f" ]; then set -- "$@" "$f"; else echo "shopsys-ci: no artifact matches $pat" >&2; fi',
    '  done',
    'done',
    'shift $n',
    '[ $# -gt 0 ] || exit 0',
    'exec tar cf - -- "$@"',
  ].join('\n')
  return ['sh', '-c', script, workingDir ?? '.', ...patterns]
}

/** Pure: the pod to exec into: Ready, not terminating, with the container; the newest first. */
export function pickPod(pods: KObject[], container?: string): KObject | undefined {
  return pods
    .filter((p) => isPodReady(p))
    .filter((p) => !container || (p.spec?.containers as Array<{name: string}> | undefined)?.some((c) => c.name === container))
    .sort((a, b) => (toMillis(b.metadata?.creationTimestamp) ?? 0) - (toMillis(a.metadata?.creationTimestamp) ?? 0) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)))[0]
}

/**
 * Pure: a configured container that no Ready pod of the target has (a typo, or a container renamed in
 * the manifests), as a message naming the containers there are; waiting would not bring it.
 */
export function missingContainer(pods: KObject[], container?: string): string | undefined {
  const ready = pickPod(pods)
  if (!container || !ready || pickPod(pods, container)) return undefined
  const names = ((ready.spec?.containers ?? []) as Array<{name: string}>).map((c) => c.name)
  const init = ((ready.spec?.initContainers ?? []) as Array<{name: string}>).map((c) => c.name)
  return `pod ${ready.metadata?.name} has no container ${container}; its containers: ${names.join(', ')}${init.length ? ` (init containers, which cannot run a phase: ${init.join(', ')})` : ''}`
}

/** Pure: what the target's pods were doing when none became Ready, e.g. `web-1: Pending (Unschedulable)`. */
export function podsSummary(pods: KObject[]): string {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp)
  if (live.length === 0) return 'it has no pods'
  const state = (p: KObject) => {
    const problem = podProblems(p)[0]
    const ready = (p.status?.conditions as Array<{type: string; status?: string}> | undefined)?.find((c) => c.type === 'Ready')
    const why = problem ? `${problem.container ? `${problem.container}: ` : ''}${problem.reason}` : ready ? `Ready=${ready.status}` : ''
    return `${p.metadata?.name}: ${p.status?.phase ?? 'Unknown'}${why ? ` (${why})` : ''}`
  }
  const shown = live.slice(0, 5).map(state)
  return `its pods: ${shown.join(', ')}${live.length > shown.length ? `, and ${live.length - shown.length} more` : ''}`
}

/** The container a phase runs in: the configured one, else the pod's default container, else its first. */
export function containerFor(pod: KObject, configured?: string): string {
  if (configured) return configured
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container']
  if (annotated) return annotated
  return (pod.spec?.containers as Array<{name: string}> | undefined)?.[0]?.name ?? ''
}

/**
 * Pure: what a shell's exit code says beyond "failed", for the codes that are not the tests' own:
 * 126/127 (not executable / not found in the container) and 128+N (killed by signal N).
 */
export function exitCodeHint(code: number): string | undefined {
  if (code === 126) return 'exit code 126: the command was found in the container but is not executable (chmod +x, or run it with sh)'
  if (code === 127) return 'exit code 127: the command was not found in the container (check the phase\'s command, the container and its PATH)'
  if (code === 137) return 'exit code 137: killed by SIGKILL, usually for going over the container\'s memory limit: `kubectl describe pod` shows OOMKilled; raise the limit or lower the tests\' memory use'
  if (code === 143) return 'exit code 143: terminated by SIGTERM (the pod was stopped, or something in it ended the command)'
  if (code > 128 && code < 128 + 65) return `exit code ${code}: killed by signal ${code - 128}`
  return undefined
}

/** The JUnit totals of the copied artifacts (`*.xml` that are JUnit reports), if there are any. */
function testTotals(files: string[]): TestTotals | undefined {
  const totals = files
    .filter((f) => f.endsWith('.xml'))
    .map((f) => junitTotals(readFileSync(f, 'utf8')))
    .filter((t): t is TestTotals => t !== undefined)
  return totals.length > 0 ? addTotals(totals) : undefined
}

/** The result of a failed phase (its artifacts, exit code) carried by the PhaseError thrown. */
export function phaseResultOf(error: unknown): PhaseResult | undefined {
  return partialResultOf<PhaseResult>(error)
}

export class ExecPhaseRunner implements PhaseRunner {
  /** `pingMs`: the execs' ping interval (tests; default EXEC_PING_MS). */
  constructor(private readonly options: {kube?: Kube; podWaitMs?: number; pingMs?: number} = {}) {}

  async run(ctx: PhaseContext): Promise<PhaseResult> {
    const {identity, phase, logger} = ctx
    const ns = identity.namespace
    const kube = this.options.kube ?? (await getKube())
    const started = Date.now()

    // The workload's read goes with the namespace's (one round trip less); its failure counts only
    // once the namespace is known to be there.
    const selector = this.podSelector(kube, ns, phase)
    selector.catch(() => undefined)
    const namespace = await readNamespace(kube, ns)
    if (!namespace) throw new PhaseError(`phase ${phase.name}: namespace ${ns} does not exist`, {suggestions: ['run `shopsys-ci deploy` first']})
    const info = readEnvironment(namespace)
    const ownerChecked = identity.ownerSource !== 'generated'
    if (ownerChecked && info.owner && info.owner !== identity.owner) {
      // Usually a newer build of the branch deployed over this one; but a separate job under another
      // BUILD_TAG (or --owner) never deployed at all, so the message does not claim which it was.
      throw new PhaseError(`phase ${phase.name}: namespace ${ns} now belongs to build ${info.owner}, not to this one (${identity.owner}); a phase run there would test that build's deployment, not this one's`, {
        suggestions: [
          'if a newer build of the branch deployed it, let that build finish; disableConcurrentBuilds(abortPrevious: true) in the Jenkinsfile stops older builds',
          `to run a phase in that environment on purpose: shopsys-ci run ${phase.name} --owner ${info.owner}`,
        ],
      })
    }
    const heartbeat = ownerChecked && !ctx.ownerLeaseKept ? startOwnerHeartbeat(kube, ns, identity.owner, logger) : undefined
    const running: {pod?: string; startedAt: number; stopped?: boolean} = {startedAt: started}
    try {
      const pod = await this.findPod(kube, ns, phase, await selector, ctx.signal)
      const podName = pod.metadata?.name ?? ''
      ctx.signal?.throwIfAborted()
      running.pod = podName
      running.startedAt = Date.now()
      const container = containerFor(pod, phase.container)
      const command = reportingPid(phaseCommand(phase))
      logger.info(`phase ${phase.name}: running in pod ${podName}${container ? `, container ${container}` : ''}: ${phase.command.join(' ')}`)

      let pid: string | undefined
      const outcome = await execInPod(kube, {
        namespace: ns,
        pod: podName,
        container,
        command,
        stdout: new LineWriter((line) => logger.line(phase.name, line)),
        stderr: new LineWriter((line) => {
          const reported = pid === undefined ? PID_LINE.exec(line) : null
          if (reported) pid = reported[1]
          else logger.line(phase.name, line)
        }),
        timeout: phase.timeout,
        signal: ctx.signal,
        pingMs: this.options.pingMs,
        // Interrupted or timed out: SIGTERM to the command, then the connection closes when it has
        // ended (closing it alone leaves the command running in the pod).
        stop: async () => {
          if (pid === undefined) return false
          const killed = await execInPod(kube, {namespace: ns, pod: podName, container, command: stopCommand(pid), stdout: new BufferWriter(), stderr: new BufferWriter(), timeout: 10_000})
          return killed.exitCode === 0
        },
      })
      running.stopped = outcome.stopped
      const durationMs = Date.now() - started
      // Interrupted: stop here (no artifacts copied), the connection is closed.
      if (outcome.aborted) throw InterruptedError.of(abortedBy(ctx.signal), phaseInterruption(phase.name, ns, running))

      // Artifacts are copied whatever the outcome: a failed test run is when the JUnit XML matters.
      const dest = artifactsDir(ctx.workspace, phase.name)
      const copied = phase.artifacts.length > 0 ? await this.copyArtifacts(kube, ns, podName, container, phase, dest, logger, ctx.signal) : {files: [], missing: []}
      ctx.signal?.throwIfAborted()

      const result: PhaseResult = {
        phase: phase.name,
        namespace: ns,
        pod: podName,
        ...(container ? {container} : {}),
        exitCode: outcome.exitCode,
        durationMs,
        artifacts: copied.files.map((f) => path.relative(ctx.workspace, path.join(dest, f))),
        artifactsDir: path.relative(ctx.workspace, dest) || '.',
        missingArtifacts: copied.missing,
      }
      const tests = testTotals(copied.files.map((f) => path.join(dest, f)))
      if (tests) result.tests = tests
      if (outcome.timedOut) {
        const fate = outcome.stopped ? 'the command was stopped (SIGTERM)' : 'the command may still be running there'
        throw withResult(new PhaseError(`phase ${phase.name} timed out after ${formatDuration(phase.timeout)} in pod ${podName}; ${fate}`, {suggestions: ['raise the phase timeout in the config, or look for a hanging command']}), result)
      }
      if (outcome.lost) {
        throw withResult(
          new PhaseError(`phase ${phase.name}: the connection to pod ${podName} was lost after ${formatDuration(durationMs)}: it answered nothing, not even pings; the command may still be running there`, {
            suggestions: ['something between the agent and the API server (a load balancer, a proxy, NAT) dropped the connection; run the build again', `kubectl -n ${ns} logs ${podName}${container ? ` -c ${container}` : ''} shows what the pod was doing`],
          }),
          result,
        )
      }
      if (outcome.exitCode !== 0) {
        const why = outcome.exitCode === -1 ? `could not run: ${outcome.message}` : `failed with exit code ${outcome.exitCode}${tests ? `: ${formatTotals(tests)}` : ''}`
        const hint = exitCodeHint(outcome.exitCode)
        throw withResult(new PhaseError(`phase ${phase.name} ${why} (pod ${podName}${container ? `, container ${container}` : ''})`, {suggestions: hint ? [hint] : []}), result)
      }
      logger.info(`phase ${phase.name} passed in ${formatDuration(durationMs)}${tests ? `: ${formatTotals(tests)}` : ''}${result.artifacts.length ? `; ${result.artifacts.length} artifact file(s) in ${result.artifactsDir}` : ''}`)
      return result
    } catch (error) {
      if (ctx.signal?.aborted && !(error instanceof InterruptedError && error.parts)) throw InterruptedError.of(abortedBy(ctx.signal), phaseInterruption(phase.name, ns, running), {cause: error})
      throw error
    } finally {
      heartbeat?.stop()
    }
  }

  /** The label selector of the phase's pods: its target's own, or that of the workload it names. */
  private async podSelector(kube: Kube, ns: string, phase: PhaseConfig): Promise<string> {
    const target = parsePhaseTarget(phase.target)
    if (target.kind === 'selector') return target.selector
    let workload: KObject
    try {
      const read = {Deployment: () => kube.apps.readNamespacedDeployment({name: target.name, namespace: ns}), StatefulSet: () => kube.apps.readNamespacedStatefulSet({name: target.name, namespace: ns}), DaemonSet: () => kube.apps.readNamespacedDaemonSet({name: target.name, namespace: ns})}[target.kind]
      workload = (await read()) as KObject
    } catch (error) {
      if (isNotFound(error)) throw new PhaseError(`phase ${phase.name}: ${phase.target} does not exist in namespace ${ns}`, {suggestions: ['check the phase target in the config against the manifests']})
      throw new PhaseError(`phase ${phase.name}: cannot read ${phase.target}: ${apiMessage(error)}`, {cause: error})
    }
    return selectorToString(workload.spec?.selector)
  }

  private async findPod(kube: Kube, ns: string, phase: PhaseConfig, selector: string, signal?: AbortSignal): Promise<KObject> {
    let pod: KObject | undefined
    let missing: string | undefined
    let seen: KObject[] = []
    const found = await watchUntil(kube, {
      kind: 'Pod',
      path: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: selector,
      // From the watch cache: a consistent list right after the deploy's last write (the lock's
      // release) waited 60-100 ms for the cache to catch up (ListQuery). Where consistent lists are
      // served by the cache (1.31+), this one is no older than what the deploy's rollout saw; and a
      // pod deleted since is Terminating for its grace period before it is gone, which exec reaches.
      list: () => kube.listJSON(`/api/v1/namespaces/${ns}/pods`, {labelSelector: selector, resourceVersion: '0'}) as never,
      deadline: Date.now() + (this.options.podWaitMs ?? POD_WAIT_MS),
      signal,
      done: (pods) => {
        seen = pods
        pod = pickPod(pods, phase.container)
        missing = pod ? undefined : missingContainer(pods, phase.container)
        return pod !== undefined || missing !== undefined
      },
    })
    if (missing) {
      throw new PhaseError(`phase ${phase.name}: ${phase.target} in namespace ${ns}: ${missing}`, {suggestions: [`set the phase's container to one of the pod's containers (or leave it out for the pod's default container)`]})
    }
    if (!found || !pod) {
      throw new PhaseError(`phase ${phase.name}: no Ready pod of ${phase.target}${phase.container ? ` with container ${phase.container}` : ''} in namespace ${ns} (waited ${formatDuration(this.options.podWaitMs ?? POD_WAIT_MS)}); ${podsSummary(seen)}`, {
        suggestions: [`kubectl -n ${ns} describe pods -l '${selector}'`, '`shopsys-ci status` shows the workloads; did the deploy succeed?'],
      })
    }
    return pod
  }

  private async copyArtifacts(kube: Kube, ns: string, pod: string, container: string, phase: PhaseConfig, dest: string, logger: PhaseContext['logger'], signal?: AbortSignal): Promise<{files: string[]; missing: string[]}> {
    rmSync(dest, {recursive: true, force: true})
    const extractor = new TarExtractor(dest)
    const stderr = new BufferWriter()
    let outcome
    try {
      outcome = await execInPod(kube, {namespace: ns, pod, container, command: artifactCommand(phase.artifacts, phase.workingDir), stdout: extractor, stderr, timeout: 10 * 60_000, signal, pingMs: this.options.pingMs})
    } catch (error) {
      logger.warn(`phase ${phase.name}: copying artifacts failed: ${(error as Error).message}`)
      return {files: [], missing: []}
    }
    const missing = [...stderr.text.matchAll(/^shopsys-ci: no artifact matches (.*)$/gm)].map((m) => m[1])
    for (const m of missing) logger.warn(`phase ${phase.name}: no artifact matches ${m}`)
    if (outcome.exitCode !== 0) {
      const other = stderr.text.split('\n').filter((l) => l && !l.startsWith('shopsys-ci: no artifact') && !/Removing leading/.test(l))
      logger.warn(`phase ${phase.name}: copying artifacts exited with ${outcome.exitCode}${other.length ? `: ${other.slice(-3).join(' / ')}` : ''}`)
    }
    if (extractor.skipped.length) logger.warn(`phase ${phase.name}: skipped ${extractor.skipped.length} artifact entr(ies) that are links or lie outside the artifacts directory`)
    return {files: extractor.entries.filter((e) => e.type === 'file').map((e) => e.path), missing}
  }
}

function withResult(error: PhaseError, result: PhaseResult): PhaseError {
  return withPartialResult(error, result)
}

export async function runPhase(ctx: PhaseContext): Promise<PhaseResult> {
  return new ExecPhaseRunner().run(ctx)
}
