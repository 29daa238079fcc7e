import {CiCommand} from '../../base-command.js'
import {branchFlag, namespaceFlag} from '../../flags.js'
import {resolveIdentity} from '../../kube/cli.js'
import type {LogsResult} from '../../kube/types.js'

export default class LogsExport extends CiCommand<typeof LogsExport> {
  static summary = 'Save the log of every container of the branch\'s environment into the workspace.'
  static description = `Writes <workspace>/shopsys-ci/logs/<pod>/<container>.log for every container of every pod in the namespace, init containers included, and <container>.previous.log for the previous instance of a restarted container, and the namespace's events into events.log (oldest first). The build does this before cleanup, and always when something failed; Jenkins archives the directory.`
  static examples = [
    'BRANCH_NAME=feature/x <%= config.bin %> logs export',
    '<%= config.bin %> logs export --namespace shop-feature-x --json',
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
  }

  async run(): Promise<LogsResult> {
    const {ctx, identity} = await resolveIdentity({loaded: this.loadConfig(), workspace: this.workspace, env: process.env, branchFlag: this.flags.branch, namespaceFlag: this.flags.namespace})
    const {exportLogs} = await import('../../kube/logs.js')
    return exportLogs({namespace: identity.namespace, workspace: ctx.workspace, logger: this.logger, signal: this.interruption})
  }
}
