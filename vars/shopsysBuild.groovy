/*
 * shopsysBuild: the whole per-branch Kubernetes build of an application, in one step.
 *
 *   shopsysBuild(registryCredentialsId: 'docker-registry', kubeconfigCredentialsId: 'ci-kubeconfig')
 *
 * Runs `shopsys-ci build` (images, manifests, deploy, phases, logs, report) with the registry
 * credential (and the pull credential and the secret texts of `secretCredentials`, when given) bound,
 * then always, also when the build failed or was aborted: exports the containers' logs unless the
 * build succeeded (it exported them itself), archives what the CLI wrote (report, manifests, logs,
 * artifacts), records the phases' JUnit reports, and deletes the branch's namespace unless
 * `keep: true`.
 * Sets the build's description to the environment's URLs.
 *
 * All logic lives in the CLI; this step only binds credentials, passes the environment and archives.
 * Help page: shopsysBuild.txt; docs/jenkins.md of shopsys-kube-ci.
 */

/**
 * Every key shopsysBuild accepts, with its default. The keys of shopsysCi.commonDefaults() come
 * first (cli, image, dockerArgs, config, kubeconfigCredentialsId, developmentServerDomain,
 * ingressHostPort, dockerRegistry, branch, commit, environment; documented there), then:
 *
 * registryCredentialsId  "Username with password" credential of the image registry, bound to
 *                        DOCKER_USERNAME / DOCKER_PASSWORD (the user is also the first part of every
 *                        image repository). null: no credential (a registry without authentication).
 * pullCredentialsId      "Username with password" credential bound to DOCKER_PULL_USERNAME /
 *                        DOCKER_PULL_PASSWORD for `build`: the account of the namespace's image pull
 *                        secret (deploy.imagePullSecret: true in the app's config; a private registry
 *                        the nodes pull from). Prefer a read-only account. null: none bound (the
 *                        CLI then falls back to DOCKER_USERNAME / DOCKER_PASSWORD).
 * secretCredentials      "Secret text" credentials bound for `build`, [VARIABLE_NAME: 'credentials-id'],
 *                        all in one withCredentials: the variables that the app's config names under
 *                        deploy.secrets, from which `build` creates the namespace's Secrets. A name must
 *                        not be a key of `environment` or a variable the library sets (DOCKER_*,
 *                        KUBECONFIG, BRANCH_NAME, SHOPSYS_CI_CLI, ...). [:]: none bound.
 * keep                   true: leave the environment running for review (`build --keep`; it expires
 *                        after the config's deploy.ttl and `shopsys-ci gc` deletes it). Also tells a
 *                        later shopsysCleanup() of this build to keep it.
 * archive                false: archive nothing.
 * junit                  Ant pattern of the phases' JUnit XML files; null: do not record test results.
 * description            false: leave currentBuild.description alone.
 */
Map defaults() {
  Map defaults = shopsysCi.commonDefaults()
  defaults.putAll([
    registryCredentialsId: 'docker-registry',
    pullCredentialsId: null,
    secretCredentials: [:],
    keep: false,
    archive: true,
    junit: 'shopsys-ci/artifacts/**/*.xml',
    description: true,
  ])
  return defaults
}

/** What `archiveArtifacts` collects: everything `shopsys-ci build` and `logs export` wrote. */
String archivePattern() {
  return 'shopsys-ci/report.json, .shopsys-ci/manifests.yaml, shopsys-ci/logs/**, shopsys-ci/artifacts/**'
}

def call(Map userConfig = [:]) {
  Map config = shopsysCi.configure('shopsysBuild', defaults(), userConfig)
  if (config.keep) {
    // Read by shopsysCleanup(), typically in post { always }, which then keeps the environment too.
    env.SHOPSYS_CI_KEEP = 'true'
  }

  shopsysCi.withCliEnvironment(config, [:]) {
    shopsysCi.withKubeconfig(config) {
      if (config.description) {
        describe(config)
      }
      boolean built = false
      try {
        shopsysCi.withRegistry(config) {
          shopsysCi.withPullCredentials(config) {
            shopsysCi.withSecretCredentials(config) {
              List<String> words = ['build']
              if (config.keep) {
                words.add('--keep')
              }
              int status = shopsysCi.runCli(config, words)
              if (status != 0) {
                error(shopsysCi.failureMessage('build', status))
              }
            }
          }
        }
        built = true
      } finally {
        // `build` exports every container's log itself (its logs stage runs once the deploy started,
        // also after a failure or a SIGTERM), so after a successful build a second export would only
        // fetch them all again. This one is the fallback for a build that failed, threw or was stopped
        // before its logs stage (killed hard): it must read them before the namespace goes. Then
        // archive, so an abort during a long cleanup still leaves the report and logs with the build;
        // and clean up even when archiving or recording the tests fails.
        if (!built) {
          int logs = shopsysCi.runCli(config, ['logs', 'export'])
          if (logs != 0) {
            echo('shopsysBuild: warning: ' + shopsysCi.failureMessage('logs export', logs))
          }
        }
        boolean recorded = false
        try {
          if (config.archive) {
            archiveArtifacts(artifacts: archivePattern(), allowEmptyArchive: true)
          }
          if (config.junit) {
            junit(testResults: config.junit, allowEmptyResults: true)
          }
          recorded = true
        } finally {
          int cleaned = 0
          if (config.keep) {
            echo('shopsysBuild: keep: true, the environment stays until it expires (shopsys-ci gc deletes it then)')
          } else {
            cleaned = shopsysCi.runCli(config, ['cleanup'])
          }
          if (cleaned != 0) {
            if (built && recorded) {
              error(shopsysCi.failureMessage('cleanup', cleaned))
            }
            // An earlier failure is the one to report; this one is only a warning.
            echo('shopsysBuild: warning: ' + shopsysCi.failureMessage('cleanup', cleaned))
          }
        }
      }
    }
  }
}

/**
 * Sets currentBuild.description to the environment's URLs (`shopsys-ci names --urls`). Best effort:
 * when the names cannot be computed, `build` reports the same problem with its exit code.
 */
def describe(Map config) {
  try {
    String urls = shopsysCi.cliOutput(config, ['names', '--urls']).trim()
    if (urls) {
      currentBuild.description = urls
    }
  } catch (hudson.AbortException failure) {
    echo('shopsysBuild: could not compute the environment\'s URLs: ' + failure.message)
  }
}
