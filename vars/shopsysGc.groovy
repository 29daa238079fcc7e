/*
 * shopsysGc: deletes the environments nobody needs any more, for a periodic job.
 *
 *   triggers { cron('H * * * *') }
 *   ...
 *   shopsysGc(kubeconfigCredentialsId: 'ci-kubeconfig', remote: 'https://git.example.com/acme/shop.git')
 *
 * Runs `shopsys-ci gc`: deletes this project's namespaces whose keep time has expired, that a crashed
 * or aborted build left behind, and those whose branch no longer exists on `remote` (default: the
 * checkout's origin; the rule is skipped with a warning when the branches cannot be listed). Namespaces
 * that shopsys-ci did not create, or that belong to another project, are never touched.
 *
 * Help page: shopsysGc.txt; docs/jenkins.md of shopsys-kube-ci.
 */

/**
 * Every key shopsysGc accepts: the common keys of shopsysCi.commonDefaults() (cli, image, dockerArgs,
 * config, kubeconfigCredentialsId, developmentServerDomain, ingressHostPort, dockerRegistry, branch,
 * commit, environment), and:
 *
 * dryRun  true: only list what would be deleted (`gc --dry-run`).
 * remote  Git URL of the application repository (`gc --remote`; default: the checkout's origin);
 *         environments of branches that are not there any more are deleted. No credentials in the
 *         URL: git on the agent authenticates.
 */
Map defaults() {
  Map defaults = shopsysCi.commonDefaults()
  defaults.putAll([
    dryRun: false,
    remote: null,
  ])
  return defaults
}

def call(Map userConfig = [:]) {
  Map config = shopsysCi.configure('shopsysGc', defaults(), userConfig)
  List<String> words = ['gc']
  if (config.dryRun) {
    words.add('--dry-run')
  }
  if (config.remote) {
    words.addAll(['--remote', '"$SHOPSYS_CI_GC_REMOTE"'])
  }
  shopsysCi.withCliEnvironment(config, [SHOPSYS_CI_GC_REMOTE: config.remote]) {
    shopsysCi.withKubeconfig(config) {
      int status = shopsysCi.runCli(config, words)
      if (status != 0) {
        error(shopsysCi.failureMessage('gc', status))
      }
    }
  }
}
