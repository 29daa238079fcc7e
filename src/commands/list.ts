import {CiCommand} from '../base-command.js'
import type {ListResult} from '../kube/inventory.js'

export default class List extends CiCommand<typeof List> {
  static summary = 'List the project\'s environments: branch, namespace, commit, age, expiry, ready workloads, URL.'
  static examples = [
    '<%= config.bin %> list',
    {description: 'Everything the cluster records, URLs and owners included:', command: '<%= config.bin %> list --json'},
  ]

  async run(): Promise<ListResult> {
    const {config} = this.loadConfig()
    const {listEnvironments, formatEnvironmentTable} = await import('../kube/inventory.js')
    const result = await this.untilInterrupted(listEnvironments({config}), `list of ${config.project}`)
    if (!this.jsonEnabled()) {
      this.log(result.environments.length === 0 ? `no environments of ${config.project}` : formatEnvironmentTable(result.environments))
    }
    return result
  }
}
