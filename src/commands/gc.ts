import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {durationFlag} from '../kube/cli.js'
import type {GcResult} from '../kube/gc.js'

export default class Gc extends CiCommand<typeof Gc> {
  static summary = 'Delete the project\'s environments that are expired, whose branch is gone, or whose build died.'
  static description = `Looks at every namespace labelled app.kubernetes.io/managed-by=shopsys-ci and shopsys-ci/project=<project> and deletes it when:
  - expired: its shopsys-ci/expires-at is in the past (every deploy sets it to now + deploy.ttl);
  - branch-deleted: its branch is no longer a head on the remote (git ls-remote --heads <remote>);
  - owner-gone: it is not kept for review, is older than --grace, and the build that owns it has not renewed its owner lease for the lease's duration plus --grace.
Never touches default, kube-*, unlabelled namespaces or other projects' namespaces; skips a namespace whose branch is being deployed or cleaned up right now. --dry-run prints the decision and reason for every namespace and deletes nothing.`
  static examples = [
    {description: 'What would go, and why:', command: '<%= config.bin %> gc --dry-run'},
    {description: 'The periodic job (shopsysGc): branches from origin, 2 h grace:', command: '<%= config.bin %> gc --grace 2h'},
    {description: 'No git remote to ask (only the config file at hand): expiry and dead builds only:', command: '<%= config.bin %> gc --no-branch-check --json'},
  ]
  static flags = {
    remote: Flags.string({summary: 'Git remote (name or URL) whose branches still exist.', default: 'origin'}),
    'branch-check': Flags.boolean({summary: 'Delete environments of branches gone from the remote.', default: true, allowNo: true}),
    'dry-run': Flags.boolean({summary: 'Only print what would be deleted, and why.'}),
    grace: Flags.string({summary: 'Grace period before an environment without a live owner counts as left over, e.g. 1h.', default: '1h'}),
    timeout: Flags.string({summary: 'Deadline for each namespace to disappear (default: deploy.timeout).'}),
  }

  async run(): Promise<GcResult> {
    const {config} = this.loadConfig()
    const {gcEnvironments} = await import('../kube/gc.js')
    return gcEnvironments({
      config,
      workspace: this.workspace,
      logger: this.logger,
      remote: this.flags['branch-check'] ? this.flags.remote : undefined,
      dryRun: this.flags['dry-run'],
      grace: durationFlag('grace', this.flags.grace),
      timeout: durationFlag('timeout', this.flags.timeout),
      signal: this.interruption,
    })
  }
}
