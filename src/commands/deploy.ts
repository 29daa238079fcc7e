import path from 'node:path'

import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag, ownerFlag} from '../flags.js'
import {durationFlag, resolveIdentity, withDeployOverrides} from '../kube/cli.js'
import type {DeployResult} from '../kube/types.js'

export default class Deploy extends CiCommand<typeof Deploy> {
  static summary = 'Deploy the rendered manifests into the branch\'s namespace and wait until every workload is ready.'
  static description = `Takes the branch lock and a capacity slot (capacity.maxEnvironments), waits for a namespace that is still being deleted to go, creates or updates the namespace with its labels and annotations (owner, commit, build URL, expiry), applies every object of the manifests with server-side apply (field manager shopsys-ci; in place, an object already live as its manifest says is not sent again), deletes what an earlier deploy applied and the manifests no longer have (deploy.prune), with deploy.imagePullSecret makes the namespace's image pull secret from the registry credentials, makes the app's Secrets of deploy.secrets from the environment variables it names, then waits for all Deployments, StatefulSets, DaemonSets and Jobs at once with one deadline. A container in CrashLoopBackOff, ImagePullBackOff, ErrImagePull or CreateContainerConfigError, a failed Job, or pods that admission refuses to create fail the deploy at once with pod status, events and log lines.

Never deploys into a namespace that is not this project's environment of this branch, nor into default or kube-*. Refuses cluster-scoped objects unless deploy.allowClusterScoped is set. Locks and capacity slots live in the namespace $SHOPSYS_CI_SYSTEM_NAMESPACE (default shopsys-ci-system).`
  static examples = [
    {description: 'Deploy what `render` wrote to .shopsys-ci/manifests.yaml:', command: 'BRANCH_NAME=feature/x DEVELOPMENT_SERVER_DOMAIN=ci.example.com <%= config.bin %> deploy'},
    {description: 'Recreate the namespace from scratch (the original system\'s behaviour):', command: '<%= config.bin %> deploy --fresh'},
    {description: 'Keep the environment for review for two days:', command: '<%= config.bin %> deploy --keep --ttl 48h'},
    {description: 'Other manifests, a shorter deadline, JSON result:', command: '<%= config.bin %> deploy --manifests build/manifests.yaml --timeout 5m --json'},
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    manifests: Flags.string({char: 'm', summary: 'Rendered manifests (default: <workspace>/<output>/manifests.yaml, i.e. .shopsys-ci/manifests.yaml).'}),
    fresh: Flags.boolean({summary: 'Delete and recreate the namespace first (default: deploy.fresh).', allowNo: true}),
    keep: Flags.boolean({summary: 'Keep the environment for review until the ttl; the build\'s cleanup leaves it (default: deploy.keep).', allowNo: true}),
    ttl: Flags.string({summary: 'How long the environment lives after this deploy, e.g. 24h (default: deploy.ttl).'}),
    timeout: Flags.string({summary: 'Deadline for all workloads to become ready, e.g. 10m (default: deploy.timeout).'}),
    owner: ownerFlag,
  }

  async run(): Promise<DeployResult> {
    const loaded = this.loadConfig()
    const {ctx, identity} = await resolveIdentity({
      loaded,
      workspace: this.workspace,
      env: process.env,
      branchFlag: this.flags.branch,
      namespaceFlag: this.flags.namespace,
      ownerFlag: this.flags.owner,
      needsDomain: true,
      needsCommit: true,
    })
    const config = withDeployOverrides(ctx.config, {ttl: durationFlag('ttl', this.flags.ttl), timeout: durationFlag('timeout', this.flags.timeout)})
    const manifestsFile = this.flags.manifests ? path.resolve(this.flags.manifests) : path.join(ctx.workspace, config.output, 'manifests.yaml')
    const {deployEnvironment} = await import('../kube/deployer.js')
    const {deploySecretsFromEnv} = await import('../kube/app-secrets.js')
    const secrets = deploySecretsFromEnv(config, process.env)
    const result = await deployEnvironment({identity, config, manifestsFile, logger: this.logger, fresh: this.flags.fresh, keep: this.flags.keep, ...secrets, signal: this.interruption})
    for (const [name, url] of Object.entries(result.urls)) this.logger.info(`${name}: ${url}`)
    return result
  }
}
