import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag} from '../flags.js'
import {resolveIdentity} from '../kube/cli.js'
import type {StatusResult} from '../kube/inventory.js'

export default class Status extends CiCommand<typeof Status> {
  static summary = 'Show one branch\'s environment: commit, owner, age, expiry, URLs and every workload\'s state.'
  static examples = [
    'BRANCH_NAME=feature/x <%= config.bin %> status',
    '<%= config.bin %> status --branch feature/x --json',
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
  }

  async run(): Promise<StatusResult> {
    const {ctx, identity} = await resolveIdentity({loaded: this.loadConfig(), workspace: this.workspace, env: process.env, branchFlag: this.flags.branch, namespaceFlag: this.flags.namespace})
    const {environmentStatus, formatStatus} = await import('../kube/inventory.js')
    const result = await this.untilInterrupted(environmentStatus({config: ctx.config, namespace: identity.namespace}), `status of ${identity.namespace}`)
    if (!this.jsonEnabled()) this.log(formatStatus(result))
    return result
  }
}
