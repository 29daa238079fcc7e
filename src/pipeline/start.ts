/**
 * `build` from its flags to its report: the config, the context (branch, names) and the commit,
 * then the stages (runBuild). A missing domain or commit is left to the check stage, which names it
 * with every other problem; what fails before the stages (the config, the branch) still gets a
 * report, with the step that failed, so that Jenkins archives one for every build.
 */
import type {Env, LoadedConfig} from '../config/load.js'
import {CiError, EnvironmentError, ExitCode} from '../errors.js'
import type {Logger} from '../util/log.js'
import {type BuildFlags, buildOptions, type BuildResult, type BuildStages, runBuild} from './build.js'
import {type BuildContext, identityFor, resolveCommit, resolveContext} from './context.js'
import {defaultReportFile, newReport, redactReport, saveReport} from './report.js'

export interface BuildRequest {
  workspace: string
  env: Env
  /** Reads and validates the config (the command's own loader: --config, SHOPSYS_CI_CONFIG). */
  loadConfig(): LoadedConfig
  branchFlag?: string
  namespaceFlag?: string
  flags: BuildFlags
  logger: Logger
  signal: AbortSignal
}

/** A build's result; a failure before the stages is the original error (not a StageError). */
export type StartedBuild = Omit<BuildResult, 'error'> & {error?: Error}

/** What runs before the stages; the name of the one that failed is the report's `error.stage`. */
export type PreparationStep = 'config' | 'names'

export async function startBuild(request: BuildRequest, stages: BuildStages): Promise<StartedBuild> {
  const startedAt = new Date()
  const t0 = performance.now()
  let step: PreparationStep = 'config'
  let loaded: LoadedConfig | undefined
  let ctx: BuildContext
  try {
    loaded = request.loadConfig()
    step = 'names'
    ctx = await resolveContext({loaded, workspace: request.workspace, env: request.env, branchFlag: request.branchFlag, namespaceFlag: request.namespaceFlag, deferProblems: true})
  } catch (error) {
    return failedBeforeStages(request, error, step, {project: loaded?.config.project, startedAt, durationMs: performance.now() - t0})
  }
  const commit = await resolveCommit(ctx.workspace, ctx.env).catch((error: unknown) => {
    if (!(error instanceof EnvironmentError)) throw error
    ctx.deferred = [...(ctx.deferred ?? []), error]
    return ''
  })
  const options = buildOptions(request.flags, ctx.config.deploy)
  return runBuild({ctx, commit, identity: identityFor(ctx, commit), options, logger: request.logger, signal: request.signal}, stages)
}

/** The report of a build that stopped before its stages; the error thrown is the original one, unwrapped. */
async function failedBeforeStages(request: BuildRequest, error: unknown, step: PreparationStep, known: {project?: string; startedAt: Date; durationMs: number}): Promise<StartedBuild> {
  const report = newReport({project: known.project}, known.startedAt)
  const ci = error instanceof CiError ? error : undefined
  report.result = 'failure'
  report.exitCode = ci?.exitCode ?? ExitCode.unexpected
  report.error = {stage: step, code: ci?.code ?? 'UNEXPECTED', message: error instanceof Error ? error.message : String(error)}
  report.durationMs = Math.round(known.durationMs)
  const reportFile = request.flags.reportFile ?? defaultReportFile(request.workspace)
  const failure = error instanceof Error ? error : new Error(String(error))
  try {
    return {report: await saveReport(report, {workspace: request.workspace, file: request.flags.reportFile, env: request.env}), reportFile, reportWritten: true, error: failure}
  } catch (saveError) {
    request.logger.warn(`${(saveError as Error).message}; the build failed before it (${step}), see the error below`)
    return {report: redactReport(report, request.env), reportFile, reportWritten: false, error: failure}
  }
}
