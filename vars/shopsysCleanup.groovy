/*
 * shopsysCleanup: deletes the branch's environment (its namespace) and waits until it is gone.
 *
 *   post { always { shopsysCleanup(kubeconfigCredentialsId: 'ci-kubeconfig') } }
 *
 * For `post { always }` of the build (a safety net: shopsysBuild already cleans up in its own
 * `finally`, and a second cleanup of a deleted namespace is a no-op), and for a job that deletes the
 * environment of a branch that is gone: shopsysCleanup(branch: params.BRANCH, force: true).
 * Only namespaces that shopsys-ci created for this project are ever deleted (the CLI checks).
 *
 * Help page: shopsysCleanup.txt; docs/jenkins.md of shopsys-kube-ci.
 */

/**
 * Every key shopsysCleanup accepts: all of shopsysBuild's (so one map can be passed to both; the
 * ones about building are ignored), and:
 *
 * keep   true: do nothing. Also when shopsysBuild(keep: true) ran earlier in this build.
 * force  true: delete even then (a job that removes an environment on request).
 */
Map defaults() {
  Map defaults = shopsysBuild.defaults()
  defaults.putAll([
    force: false,
  ])
  return defaults
}

def call(Map userConfig = [:]) {
  Map config = shopsysCi.configure('shopsysCleanup', defaults(), userConfig)
  boolean keep = config.keep || env.SHOPSYS_CI_KEEP == 'true'
  if (keep && !config.force) {
    echo('shopsysCleanup: the environment is kept (keep: true); give force: true to delete it anyway')
    return
  }
  shopsysCi.withCliEnvironment(config, [:]) {
    shopsysCi.withKubeconfig(config) {
      // --force: also when another build owns it (a deleted branch's job has a build tag of its own).
      int status = shopsysCi.runCli(config, config.force ? ['cleanup', '--force'] : ['cleanup'])
      if (status != 0) {
        error(shopsysCi.failureMessage('cleanup', status))
      }
    }
  }
}
