import {CiCommand} from '../../base-command.js'
import {checkEnvironment, environmentProblems, formatEnvironment, type VariableStatus} from '../../config/environment.js'
import {EnvironmentError} from '../../errors.js'
import {branchFlag} from '../../flags.js'
import {resolveBranch} from '../../names/index.js'
import {resolveCommit} from '../../pipeline/context.js'

export interface EnvCheckResult {
  ok: boolean
  variables: VariableStatus[]
  branch?: string
  commit?: string
}

export default class EnvCheck extends CiCommand<typeof EnvCheck> {
  static summary = 'Check the environment variables the configured pipeline needs.'
  static description = 'Lists every variable with what it is for, and reports every missing or malformed one at once (exit 3). Secret values are never printed.'
  static examples = ['<%= config.bin %> env check', '<%= config.bin %> env check --json']
  static flags = {branch: branchFlag}

  async run(): Promise<EnvCheckResult> {
    const {config} = this.loadConfig({optional: true})
    const env = process.env
    const variables = checkEnvironment(config, env)
    const problems = environmentProblems(variables)

    // Branch and commit may come from the checkout; only a failure of every source is a problem.
    let branch: string | undefined
    let commit: string | undefined
    try {
      branch = (await resolveBranch({flag: this.flags.branch, env, cwd: this.workspace})).branch
    } catch (error) {
      problems.push({name: 'BRANCH_NAME', purpose: 'the branch being built', problem: (error as Error).message})
    }
    try {
      commit = await resolveCommit(this.workspace, env)
    } catch (error) {
      if (error instanceof EnvironmentError) problems.push(...error.problems)
      else throw error
    }

    this.log(formatEnvironment(variables))
    if (branch) this.log(`branch: ${branch}`)
    if (commit) this.log(`commit: ${commit}`)
    if (problems.length > 0) throw new EnvironmentError(problems, {suggestions: ['set the variables above in the Jenkins job (see docs/configuration.md)']})
    this.log('environment OK')
    return {ok: true, variables, branch, commit}
  }
}
