import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag} from '../flags.js'
import type {BuildReport} from '../pipeline/build.js'
import {defaultStages} from '../pipeline/stages.js'
import {startBuild} from '../pipeline/start.js'
import {formatSummary} from '../pipeline/summary.js'

export default class Build extends CiCommand<typeof Build> {
  static summary = 'Run the whole pipeline for a branch: images, render, deploy, phases, logs, cleanup.'
  static description = `Checks the environment, the templates and the cluster (that the kubeconfig's account has every right the build will use, asked before any image is built), builds and pushes the images the registry does not have yet, renders the config templates and manifests, deploys the branch into its own namespace (lock, capacity slot, server-side apply, waits for every workload at once), runs the configured phases inside the cluster, exports every container's log to <workspace>/shopsys-ci/logs, and writes <workspace>/shopsys-ci/report.json: after every run, also one that failed at its config (docs/troubleshooting.md, report.json).

With --cleanup the namespace is deleted at the end whatever happened, also on SIGINT/SIGTERM, unless the environment is kept (--keep or deploy.keep) for review until its ttl.`
  static examples = [
    {description: 'The whole job in one process, deleting the namespace at the end whatever happened (shopsysBuild() runs `build`, then archives and runs `cleanup` as a step of its own, with `logs export` first when `build` failed):', command: '<%= config.bin %> build --cleanup'},
    {description: 'Keep the environment for review (expires after deploy.ttl):', command: '<%= config.bin %> build --keep'},
    {description: 'Recreate the namespace from scratch, like the original script:', command: '<%= config.bin %> build --fresh --cleanup'},
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    cleanup: Flags.boolean({summary: 'Delete the environment at the end, whatever happened (not when kept).'}),
    keep: Flags.boolean({summary: 'Keep the environment for review until deploy.ttl (default: deploy.keep).', allowNo: true}),
    fresh: Flags.boolean({summary: 'Delete and recreate the namespace before deploying (default: deploy.fresh).', allowNo: true}),
    'force-build': Flags.boolean({summary: 'Build every image even if the registry already has its tag.'}),
    'report-file': Flags.string({summary: 'Where to write the JSON report (default: <workspace>/shopsys-ci/report.json).'}),
  }

  protected interruptionNotice = 'stopping; logs and cleanup still run'

  async run(): Promise<BuildReport> {
    const {report, reportFile, reportWritten, error} = await startBuild(
      {
        workspace: this.workspace,
        env: process.env,
        loadConfig: () => this.loadConfig(),
        branchFlag: this.flags.branch,
        namespaceFlag: this.flags.namespace,
        flags: {cleanup: this.flags.cleanup, keep: this.flags.keep, fresh: this.flags.fresh, forceBuild: this.flags['force-build'], reportFile: this.flags['report-file']},
        logger: this.logger,
        signal: this.interruption,
      },
      defaultStages,
    )
    this.logger.info(formatSummary(report, reportWritten ? reportFile : undefined))
    if (error) throw error
    return report
  }
}
