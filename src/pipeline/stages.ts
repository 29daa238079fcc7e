/** The real stages of `build`: Docker and the registry for images, kustomize, the Kubernetes API. */
// app-secrets.js (and pull-secret.js it uses) is light (no client), so it is loaded eagerly.
import {deploySecretsFromEnv} from '../kube/app-secrets.js'
import {type BuildRun, buildPhaseNames, type BuildStages} from './build.js'
import {kustomizeCacheLine, preflightRender, renderStage} from './render-stage.js'

export const defaultStages: BuildStages = {
  async preflight(run) {
    const clusterAccess = async () => {
      const {preflightClusterAccess} = await import('../kube/index.js')
      const {config} = run.ctx
      const phases = buildPhaseNames(config).length > 0
      const secrets = config.deploy.imagePullSecret || Object.keys(config.deploy.secrets).length > 0
      await preflightClusterAccess({namespace: run.identity.namespace, phases, cleanup: run.options.cleanup && !run.options.keep, secrets, pullSecret: config.deploy.imagePullSecret, logger: run.logger, env: run.ctx.env})
    }
    // Both run to their end; a problem of the app (render) is reported before one of the cluster.
    const [render, cluster] = await Promise.allSettled([preflightRender(run.ctx, run.commit), clusterAccess()])
    for (const outcome of [render, cluster]) if (outcome.status === 'rejected') throw outcome.reason
  },

  async images(run) {
    const {buildImages, formatImageResults} = await import('../images/index.js')
    const results = await buildImages({
      config: run.ctx.config,
      configFile: run.ctx.configFile,
      workspace: run.ctx.workspace,
      env: run.ctx.env,
      commit: run.commit,
      logger: run.logger,
      push: true,
      forceBuild: run.options.forceBuild,
      branch: run.ctx.branch.branch,
      signal: run.signal,
    })
    if (results.length > 0) run.logger.info(formatImageResults(results))
    return results
  },

  async render(run, images) {
    const result = await renderStage({ctx: run.ctx, commit: run.commit, images})
    for (const t of result.templates) run.logger.info(`rendered ${t.source} -> ${t.target}`)
    const cacheLine = kustomizeCacheLine(result.kustomizeCache)
    if (cacheLine) run.logger.info(cacheLine)
    if (result.manifestsFile) run.logger.info(`manifests: ${result.manifestsFile} (${result.objects.length} objects)`)
    return result
  },

  async deploy(run, manifestsFile, manifests) {
    const {deployEnvironment} = await import('../kube/index.js')
    const secrets = deploySecretsFromEnv(run.ctx.config, run.ctx.env)
    return deployEnvironment({identity: run.identity, config: run.ctx.config, manifestsFile, manifests, logger: run.logger, fresh: run.options.fresh, keep: run.options.keep, ...secrets, signal: run.signal})
  },

  async phase(run, name) {
    const {runPhase} = await import('../kube/index.js')
    const phase = run.ctx.config.phases.find((p) => p.name === name)!
    // The build's heartbeat (below) keeps the owner lease for the phases too.
    return runPhase({identity: run.identity, config: run.ctx.config, phase, workspace: run.ctx.workspace, logger: run.logger, signal: run.signal, ownerLeaseKept: true})
  },

  async logs(run: BuildRun) {
    const {exportLogs} = await import('../kube/index.js')
    return exportLogs({namespace: run.identity.namespace, workspace: run.ctx.workspace, logger: run.logger, signal: run.signal})
  },

  async heartbeat(run) {
    const {startEnvironmentHeartbeat} = await import('../kube/index.js')
    // Started right after the deploy, whose own heartbeat has just renewed the lease.
    return startEnvironmentHeartbeat({identity: run.identity, logger: run.logger, renewNow: false})
  },

  async cleanup(run) {
    const {cleanupEnvironment} = await import('../kube/index.js')
    return cleanupEnvironment({identity: run.identity, config: run.ctx.config, logger: run.logger, signal: run.signal})
  },
}
