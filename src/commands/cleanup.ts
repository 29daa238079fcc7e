import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag, ownerFlag} from '../flags.js'
import {durationFlag, resolveIdentity} from '../kube/cli.js'
import type {CleanupResult} from '../kube/types.js'

export default class Cleanup extends CiCommand<typeof Cleanup> {
  static summary = 'Delete the branch\'s environment (its namespace) and wait until it is gone.'
  static description = `Only ever deletes a namespace labelled app.kubernetes.io/managed-by=shopsys-ci and shopsys-ci/project=<project>; never default or kube-* (refused by name, exit 2), nor an unlabelled namespace or another project's (exit 8), whatever the branch or --namespace. A namespace that does not exist is a success.

Leaves the environment alone (exit 0, with the reason) when it is kept for review (deploy --keep) or when a later build of the same branch has deployed it since (its owner annotation names another build); --force deletes it anyway. Without $BUILD_TAG or --owner (a person at a terminal) the owner check is skipped.`
  static examples = [
    {description: 'In the post { always } block of a Jenkins build:', command: '<%= config.bin %> cleanup'},
    {description: 'The branch was deleted: remove its environment whoever deployed it:', command: '<%= config.bin %> cleanup --branch feature/x --force'},
    {description: 'A longer deadline for the namespace to go:', command: '<%= config.bin %> cleanup --timeout 15m --json'},
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    timeout: Flags.string({summary: 'Deadline for the namespace to disappear, e.g. 10m (default: deploy.timeout).'}),
    force: Flags.boolean({summary: 'Delete even when kept for review or owned by another build (the guard still applies).'}),
    owner: ownerFlag,
  }

  async run(): Promise<CleanupResult> {
    const {ctx, identity} = await resolveIdentity({loaded: this.loadConfig(), workspace: this.workspace, env: process.env, branchFlag: this.flags.branch, namespaceFlag: this.flags.namespace, ownerFlag: this.flags.owner})
    const {cleanupEnvironment} = await import('../kube/deployer.js')
    const result = await cleanupEnvironment({identity, config: ctx.config, logger: this.logger, timeout: durationFlag('timeout', this.flags.timeout), force: this.flags.force, signal: this.interruption})
    if (result.outcome !== 'deleted') this.logger.info(result.reason)
    return result
  }
}
