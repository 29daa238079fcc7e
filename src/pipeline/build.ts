/**
 * `shopsys-ci build`: the whole pipeline of DESIGN §2 as one linear flow over stage interfaces.
 * Each failure is wrapped with its stage's name; whatever happens after the deploy started, the logs
 * are exported, the report is written and (with cleanup) the namespace is deleted — also when the
 * build is interrupted.
 */
import path from 'node:path'

import {checkEnvironment, environmentProblems} from '../config/environment.js'
import type {Config} from '../config/model.js'
import {abortedBy, type CiError, EnvironmentError, InterruptedError, interruptionOf, ManifestError, partialResultOf, StageError} from '../errors.js'
import type {ImageResult} from '../images/types.js'
import type {CleanupResult, DeployResult, EnvironmentIdentity, LogsResult, PhaseResult} from '../kube/types.js'
import type {ManifestObject} from '../manifests/parse.js'
import type {RenderResult} from '../manifests/render.js'
import type {Logger} from '../util/log.js'
import type {BuildContext} from './context.js'
import type {ImageRef} from './render-stage.js'
import {defaultReportFile, newReport, redactReport, saveReport} from './report.js'

/** The stages `build` runs; tests pass fakes, `defaultStages` (stages.ts) the real ones. */
export interface BuildStages {
  /** Part of the check stage: what render would refuse, found before the images are built. */
  preflight?(run: BuildRun): Promise<void>
  images(run: BuildRun): Promise<ImageResult[]>
  render(run: BuildRun, images: ImageRef[]): Promise<RenderResult>
  /** `manifests`: the parsed objects of the file, when render has them. */
  deploy(run: BuildRun, manifestsFile: string, manifests?: ManifestObject[]): Promise<DeployResult>
  phase(run: BuildRun, phase: string): Promise<PhaseResult>
  logs(run: BuildRun): Promise<LogsResult>
  cleanup(run: BuildRun): Promise<CleanupResult>
  /** Keeps the environment marked as owned by a live build between stages (gc spares it). */
  heartbeat?(run: BuildRun): Promise<{stop(): Promise<void> | void}>
}

export interface BuildOptions {
  /** Delete the environment at the end, whatever happened (unless it is kept). */
  cleanup: boolean
  keep: boolean
  fresh?: boolean
  forceBuild?: boolean
  /** Where the JSON report goes (default `<workspace>/shopsys-ci/report.json`). */
  reportFile?: string
}

/** `build`'s flags as given (undefined: not given); `--no-keep`/`--no-fresh` are false. */
export interface BuildFlags {
  cleanup: boolean
  keep?: boolean
  fresh?: boolean
  forceBuild?: boolean
  reportFile?: string
}

/** The options of a build: a flag that was given, also as `--no-…`, wins over the config's deploy default. */
export function buildOptions(flags: BuildFlags, deploy: {keep: boolean; fresh: boolean}): BuildOptions {
  return {cleanup: flags.cleanup, keep: flags.keep ?? deploy.keep, fresh: flags.fresh ?? deploy.fresh, forceBuild: flags.forceBuild, reportFile: flags.reportFile}
}

/** One build in progress: what every stage gets. */
export interface BuildRun {
  ctx: BuildContext
  commit: string
  identity: EnvironmentIdentity
  options: BuildOptions
  logger: Logger
  signal: AbortSignal
}

export type StageName = 'check' | 'images' | 'render' | 'deploy' | `phase ${string}` | 'logs' | 'cleanup'

export interface StageReport {
  name: StageName
  status: 'ok' | 'failed'
  durationMs: number
  error?: string
}

export interface BuildReport {
  result: 'success' | 'failure'
  exitCode: number
  error?: {stage?: string; code: string; message: string}
  project: string
  branch: string
  slug: string
  namespace: string
  commit: string
  urls: Record<string, string>
  images: ImageResult[]
  phases: PhaseResult[]
  deploy?: {created: boolean; keep: boolean; expiresAt: string; workloads: DeployResult['workloads']; pruned: DeployResult['pruned']}
  logs?: {dir: string; files: number}
  cleanup?: {outcome: string; reason: string}
  stages: StageReport[]
  startedAt: string
  durationMs: number
}

export interface BuildResult {
  report: BuildReport
  reportFile: string
  /** False when the report could not be written (a warning said why). */
  reportWritten: boolean
  /** The first failure, to be thrown by the command once everything is reported. */
  error?: CiError
}

/** The phases `build` runs, in order: `build.phases`, else every configured phase. */
export function buildPhaseNames(config: Pick<Config, 'build' | 'phases'>): string[] {
  return config.build.phases ?? config.phases.map((p) => p.name)
}

export async function runBuild(run: BuildRun, stages: BuildStages, now: () => number = () => performance.now()): Promise<BuildResult> {
  const {ctx, logger, options} = run
  const started = now()
  const report = newReport({project: ctx.config.project, branch: ctx.names.branch, slug: ctx.names.slug, namespace: ctx.names.namespace, commit: run.commit, urls: ctx.names.urls}, new Date())
  let failure: StageError | undefined
  let deployStarted = false
  let heartbeat: {stop(): Promise<void> | void} | undefined

  /** Runs one stage with a header, its timing in the report, and its failure wrapped with its name. */
  const stage = async <T>(name: StageName, fn: () => Promise<T>, always = false): Promise<T> => {
    const t0 = now()
    try {
      const value = await logger.stage(name, () => {
        if (run.signal.aborted && !always) throw interrupted(run.signal)
        return fn()
      })
      report.stages.push({name, status: 'ok', durationMs: Math.round(now() - t0)})
      return value
    } catch (error) {
      const wrapped = error instanceof StageError ? error : new StageError(name, error)
      report.stages.push({name, status: 'failed', durationMs: Math.round(now() - t0), error: wrapped.message})
      throw wrapped
    }
  }

  try {
    await stage('check', async () => {
      checkBuildEnvironment(run.ctx.config, run.ctx.env, run.ctx.deferred)
      await stages.preflight?.(run)
    })
    logger.info(`branch ${ctx.names.branch} -> namespace ${ctx.names.namespace}`)
    for (const [name, url] of Object.entries(ctx.names.urls)) logger.info(`  ${name}: ${url}`)
    try {
      report.images = await stage('images', () => stages.images(run))
    } catch (error) {
      // The images that were built, pushed or reused before one failed are in the registry: report them.
      report.images = partialResultOf<ImageResult[]>(error) ?? []
      throw error
    }
    const images = report.images.map((i) => ({name: i.name, placeholder: i.placeholder, repository: i.repository, tag: i.tag, reference: i.reference, digest: i.digest}))
    const rendered = await stage('render', () => stages.render(run, images))
    if (!rendered.manifestsFile) throw new StageError('render', new ManifestError('the config has no `kustomize` section, so there is nothing to deploy', {suggestions: ['add kustomize.base (docs/configuration.md)']}))
    deployStarted = true
    const deployed = await stage('deploy', () => stages.deploy(run, rendered.manifestsFile!, rendered.manifests))
    report.deploy = {created: deployed.created, keep: deployed.keep, expiresAt: deployed.expiresAt, workloads: deployed.workloads, pruned: deployed.pruned}
    heartbeat = await stages.heartbeat?.(run)
    for (const name of buildPhaseNames(ctx.config)) {
      try {
        report.phases.push(await stage(`phase ${name}`, () => stages.phase(run, name)))
      } catch (error) {
        // A failed phase still ran: its exit code and artifacts (the JUnit report) belong in the report.
        const partial = partialResultOf<PhaseResult>(error)
        if (partial) report.phases.push(partial)
        throw error
      }
    }
  } catch (error) {
    failure = error instanceof StageError ? error : new StageError('build', error)
  }

  // From here on, every step runs whatever happened before, even after an interruption (with a
  // signal of its own), and its own failure is only reported.
  const finalRun: BuildRun = {...run, signal: new AbortController().signal}
  await heartbeat?.stop()
  if (deployStarted) {
    try {
      const logs = await stage('logs', () => stages.logs(finalRun), true)
      // The stage's dir is relative to the workspace already (fakes give absolute ones): not to the cwd.
      report.logs = {dir: path.relative(ctx.workspace, path.resolve(ctx.workspace, logs.dir)) || '.', files: logs.files.length}
    } catch (error) {
      logger.warn(`could not export the logs: ${(error as Error).message}`)
    }
  }
  if (options.cleanup && deployStarted && !options.keep) {
    try {
      const cleaned = await stage('cleanup', () => stages.cleanup(finalRun), true)
      report.cleanup = {outcome: cleaned.outcome, reason: cleaned.reason}
    } catch (error) {
      failure ??= error instanceof StageError ? error : new StageError('cleanup', error)
    }
  } else if (deployStarted) {
    logger.info(options.keep ? `environment kept for review until ${report.deploy?.expiresAt ?? 'its ttl'}` : 'environment left running (no --cleanup); delete it with `shopsys-ci cleanup`')
  }

  if (failure && run.signal.aborted) failure = interruptedBuild(run, report, failure, deployStarted)
  if (failure) {
    report.result = 'failure'
    report.exitCode = failure.exitCode
    report.error = {stage: failure.stage, code: failure.code, message: failure.message}
  }
  report.durationMs = Math.round(now() - started)
  const reportFile = options.reportFile ?? defaultReportFile(ctx.workspace)
  try {
    return {report: await saveReport(report, {workspace: ctx.workspace, file: options.reportFile, env: ctx.env, config: ctx.config}), reportFile, reportWritten: true, error: failure}
  } catch (error) {
    // The build's own failure is the one to exit with; a report that cannot be written only adds to it.
    if (!failure) throw error
    logger.warn((error as Error).message)
    return {report: redactReport(report, ctx.env, ctx.config), reportFile, reportWritten: false, error: failure}
  }
}

/**
 * Stage 1: every variable the configured pipeline needs, all problems at once, with those resolving
 * the context deferred (a missing domain, no commit): each named once. Any deferred problem fails
 * it, so no stage runs on names made without a domain.
 */
export function checkBuildEnvironment(config: BuildContext['config'], env: BuildContext['env'], deferred: EnvironmentError[] = []): void {
  // The variables' rules cover deploy.imagePullSecret too (the push pair, or the whole pull pair),
  // so this and `env check` report the same problems.
  const problems = environmentProblems(checkEnvironment(config, env))
  for (const problem of deferred.flatMap((e) => e.problems)) {
    if (!problems.some((p) => p.name === problem.name)) problems.push(problem)
  }
  const suggestions = ['set them in the Jenkins job; `shopsys-ci env check` lists every variable', ...deferred.flatMap((e) => e.suggestions)]
  if (problems.length > 0) throw new EnvironmentError(problems, {suggestions})
}

function interrupted(signal: AbortSignal): InterruptedError {
  return InterruptedError.of(abortedBy(signal), {what: 'build'})
}

/**
 * The one line for a build stopped by a signal: where it was (the stage's own account: what it
 * waited for, what it released), then what the build still did (logs, cleanup) and what is left.
 */
function interruptedBuild(run: BuildRun, report: BuildReport, failure: StageError, deployStarted: boolean): StageError {
  const inner = interruptionOf(failure)
  const ns = report.namespace
  // The images stage's own account of what finished (in the registry) and that docker was stopped.
  const left: string[] = failure.stage === 'images' && inner?.parts?.left ? [inner.parts.left] : []
  if (report.logs) left.push(`exported the logs into ${report.logs.dir}`)
  if (report.cleanup) left.push(report.cleanup.reason)
  else if (report.stages.some((s) => s.name === 'cleanup')) left.push(`cleanup failed: namespace ${ns} may be left; \`shopsys-ci cleanup\` deletes it`)
  else if (!deployStarted) left.push('nothing was deployed')
  else left.push(run.options.keep ? `namespace ${ns} kept for review until its ttl` : `namespace ${ns} left as it is: delete it with \`shopsys-ci cleanup\``)
  const during = inner?.parts?.during ? `${failure.stage === 'deploy' ? '' : `${failure.stage}: `}${inner.parts.during}` : `running the ${failure.stage} stage`
  return new StageError(failure.stage, InterruptedError.of(abortedBy(run.signal), {what: `build of ${report.branch}`, during, released: inner?.parts?.released, left: left.join('; ')}, {cause: failure}))
}
