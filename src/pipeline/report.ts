/**
 * report.json (docs/jenkins.md, "The build report"): written after every build once the workspace is
 * known, also one that failed before its stages ran (a config error). Secret values never reach it.
 */
import {stat} from 'node:fs/promises'
import path from 'node:path'

import type {Env} from '../config/load.js'
import {secretValues, VARIABLES, variablesFor} from '../config/environment.js'
import type {Config} from '../config/model.js'
import {redactDeep, redactor} from '../util/redact.js'
import {reportDir} from '../conventions.js'
import {writeFileAtomic} from '../util/fs.js'
import type {BuildReport} from './build.js'

export function defaultReportFile(workspace: string): string {
  return path.join(reportDir(workspace), 'report.json')
}

/** Pure: a report of a build that has not got far yet; what is not known yet is empty. */
export function newReport(known: Partial<Pick<BuildReport, 'project' | 'branch' | 'slug' | 'namespace' | 'commit' | 'urls'>>, startedAt: Date): BuildReport {
  return {
    result: 'success',
    exitCode: 0,
    project: known.project ?? '',
    branch: known.branch ?? '',
    slug: known.slug ?? '',
    namespace: known.namespace ?? '',
    commit: known.commit ?? '',
    urls: known.urls ?? {},
    images: [],
    phases: [],
    stages: [],
    startedAt: startedAt.toISOString(),
    durationMs: 0,
  }
}

/**
 * Pure: the report with every secret variable's value replaced by `***` wherever it occurs, as in
 * docker's output; with the config, those of its deploy.secrets too.
 */
export function redactReport(report: BuildReport, env: Env, config?: Config): BuildReport {
  const secrets = secretValues(env, config ? variablesFor(config) : VARIABLES)
  return secrets.length === 0 ? report : redactDeep(report, redactor(secrets))
}

/**
 * Writes the report, redacted (and returns what it wrote). The default file's directory is only
 * made inside a workspace that exists: a mistyped WORKSPACE gets an error, not a stray tree.
 * Throws an Error saying which file could not be written, and why.
 */
export async function saveReport(report: BuildReport, options: {workspace: string; file?: string; env: Env; config?: Config}): Promise<BuildReport> {
  const file = options.file ?? defaultReportFile(options.workspace)
  const redacted = redactReport(report, options.env, options.config)
  try {
    if (!options.file) {
      const problem = await stat(options.workspace).then(
        (s) => (s.isDirectory() ? undefined : 'is not a directory'),
        (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : error.message),
      )
      if (problem) throw new Error(`the workspace ${options.workspace} ${problem}`)
    }
    await writeFileAtomic(file, `${JSON.stringify(redacted, null, 2)}\n`)
  } catch (error) {
    throw new Error(`cannot write the report ${file}: ${(error as Error).message}`, {cause: error})
  }
  return redacted
}
