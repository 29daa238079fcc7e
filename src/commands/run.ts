import {Args, Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {branchFlag, namespaceFlag, ownerFlag} from '../flags.js'
import {durationFlag, resolveIdentity} from '../kube/cli.js'
import type {PhaseResult} from '../kube/types.js'

export default class Run extends CiCommand<typeof Run> {
  static summary = 'Run one configured phase (fixtures, tests, checks) inside the branch\'s environment.'
  static description = `Execs the phase's command in a Ready, non-terminating pod of its target (deployment/<name>, statefulset/<name>, daemonset/<name> or a label selector), in its container, with its environment and working directory. Output is streamed live, each line prefixed with the phase name; the command's exit code decides (exit 7 when it is not 0). The phase's artifacts (JUnit XML, screenshots) are copied out into <workspace>/shopsys-ci/artifacts/<phase>/, whether the phase passed or not.`
  static examples = [
    {description: 'Run the tests phase of the current branch:', command: 'BRANCH_NAME=feature/x <%= config.bin %> run tests'},
    {description: 'With a shorter timeout, JSON result (artifacts listed):', command: '<%= config.bin %> run acceptance --timeout 20m --json'},
  ]
  static args = {
    phase: Args.string({required: true, description: 'Name of a phase in the config (phases[].name).'}),
  }
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    timeout: Flags.string({summary: 'Override the phase\'s timeout, e.g. 30m.'}),
    owner: ownerFlag,
  }

  async run(): Promise<PhaseResult> {
    const {ctx, identity} = await resolveIdentity({loaded: this.loadConfig(), workspace: this.workspace, env: process.env, branchFlag: this.flags.branch, namespaceFlag: this.flags.namespace, ownerFlag: this.flags.owner})
    const phase = ctx.config.phases.find((p) => p.name === this.args.phase)
    if (!phase) {
      const known = ctx.config.phases.map((p) => p.name)
      throw new UsageError(`no phase "${this.args.phase}" in the config`, {suggestions: [known.length ? `phases: ${known.join(', ')}` : 'declare phases under `phases:` in .ci/shopsys-ci.yaml']})
    }
    const timeout = durationFlag('timeout', this.flags.timeout)
    const {runPhase} = await import('../kube/phase.js')
    return runPhase({identity, config: ctx.config, phase: timeout ? {...phase, timeout} : phase, workspace: ctx.workspace, logger: this.logger, signal: this.interruption})
  }
}
