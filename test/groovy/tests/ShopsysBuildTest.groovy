/** vars/shopsysBuild.groovy in the recording harness. */
class ShopsysBuildTest {
  static final String URLS = 'http://feature-x.ci.example.com:8000\nhttp://2.feature-x.ci.example.com:8000\n'
  /** A read-only registry account for the image pull secret (pullCredentialsId), as the harness stores it. */
  static final String PULL_ID = 'registry-reader'
  static final String PULL_USER = 'r-SECRET-reader'
  static final String PULL_PASSWORD = 'rp-SECRET-`id`"\'pull'
  /** "Secret text" credentials for secretCredentials, as the harness stores them. */
  static final String DB_ID = 'review-db-password'
  static final String DB_PASSWORD = 'db-SECRET-$(id)"\'`x`'
  static final String MAILER_ID = 'review-mailer-dsn'
  static final String MAILER_DSN = 'smtp://mailer:m-SECRET-pw@mail.example.com:25'
  static final Map SECRETS = [APP_DATABASE_PASSWORD: DB_ID, APP_MAILER_DSN: MAILER_ID]

  /** A harness whose `names --urls` prints two URLs and whose other commands exit with `codes[cli]` (0 if absent). */
  static PipelineHarness harness(Map<String, Object> codes = [:]) {
    PipelineHarness h = PipelineHarness.create()
    h.shResponder = { StepCall c ->
      if (codes.containsKey(c.cli)) {
        Object answer = codes[c.cli]
        if (answer instanceof Throwable) {
          throw (Throwable) answer
        }
        return answer
      }
      return c.cli == 'names --urls' ? URLS : 0
    }
    h.credentials[PULL_ID] = [username: PULL_USER, password: PULL_PASSWORD]
    h.credentials[DB_ID] = [secret: DB_PASSWORD]
    h.credentials[MAILER_ID] = [secret: MAILER_DSN]
    return h
  }

  static Throwable failure(Closure body) {
    try {
      body.call()
    } catch (Throwable e) {
      return e
    }
    assert false: 'expected the step to fail'
  }

  static void noViolations(PipelineHarness h) {
    assert h.violations == []
  }

  @Test
  void 'default run: steps in order, exact sh scripts'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    assert h.trace() == [
      'withEnv',
      'sh names --urls',
      'withCredentials',
      'sh build',
      'archiveArtifacts',
      'junit',
      'sh cleanup',
    ]
    for (String cli in ['names --urls', 'build', 'cleanup']) {
      StepCall sh = h.cliCall(cli)
      assert sh.script == PipelineHarness.expectedScript(cli)
      assert sh.script instanceof String
      assert sh.named.label == 'shopsys-ci ' + cli
    }
    assert h.cliCall('names --urls').named.returnStdout == true
    for (String cli in ['build', 'cleanup']) {
      assert h.cliCall(cli).named.returnStatus == true
    }
    noViolations(h)
  }

  @Test
  void 'default run: the CLI is npx of the pinned version, no image'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    Map env = h.cliCall('build').env
    assert env.SHOPSYS_CI_CLI == 'npx --yes shopsys-kube-ci@' + Repo.packageVersion()
    assert !env.containsKey('SHOPSYS_CI_IMAGE')
    assert !env.containsKey('SHOPSYS_CI_ENV_NAMES')
    assert !env.containsKey('SHOPSYS_CI_CONFIG')
  }

  @Test
  void 'the environment of the CLI comes from env'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    List<String> withEnv = h.calls('withEnv')[0].args[0]
    assert withEnv == [
      'WORKSPACE=/agent/workspace/shop_feature-x',
      'DEVELOPMENT_SERVER_DOMAIN=ci.example.com',
      'GIT_COMMIT=0123456789abcdef0123456789abcdef01234567',
      'BRANCH_NAME=feature/x',
      'JOB_NAME=shop/feature%2Fx',
      'NGINX_INGRESS_CONTROLLER_HOST_PORT=8000',
      'BUILD_URL=https://jenkins.example.com/job/shop/job/feature%252Fx/7/',
      'BUILD_TAG=jenkins-shop-feature%2Fx-7',
      'SHOPSYS_CI_CLI=npx --yes shopsys-kube-ci@' + Repo.packageVersion(),
    ]
    Map env = h.cliCall('build').env
    assert !env.containsKey('DOCKER_REGISTRY')
  }

  @Test
  void 'config keys override env, environment adds variables'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [
      developmentServerDomain: 'preview.example.org',
      ingressHostPort: 8080,
      dockerRegistry: 'registry.example.org:5000',
      branch: 'release/2.0',
      commit: 'fedcba9876543210fedcba9876543210fedcba98',
      config: 'ci/shopsys ci.yaml',
      environment: [APP_ENV: 'ci', SHOPSYS_CI_DEBUG: 1],
    ])
    Map env = h.cliCall('build --config "$SHOPSYS_CI_CONFIG"').env
    assert env.DEVELOPMENT_SERVER_DOMAIN == 'preview.example.org'
    assert env.NGINX_INGRESS_CONTROLLER_HOST_PORT == '8080'
    assert env.DOCKER_REGISTRY == 'registry.example.org:5000'
    assert env.BRANCH_NAME == 'release/2.0'
    assert env.GIT_COMMIT == 'fedcba9876543210fedcba9876543210fedcba98'
    assert env.SHOPSYS_CI_CONFIG == 'ci/shopsys ci.yaml'
    assert env.APP_ENV == 'ci'
    assert env.SHOPSYS_CI_DEBUG == '1'
    // --config goes to every command, as a reference to the variable: the value is never in the script
    assert h.cliCalls() == [
      'names --urls --config "$SHOPSYS_CI_CONFIG"',
      'build --config "$SHOPSYS_CI_CONFIG"',
      'cleanup --config "$SHOPSYS_CI_CONFIG"',
    ]
    assert h.cliCall('build --config "$SHOPSYS_CI_CONFIG"').named.label == 'shopsys-ci build'
    noViolations(h)
    // after a failed build, the fallback logs export gets --config too
    PipelineHarness failed = harness('build --config "$SHOPSYS_CI_CONFIG"': 7)
    failure { failed.run('shopsysBuild', [config: 'ci/shopsys ci.yaml']) }
    assert failed.cliCalls() == [
      'names --urls --config "$SHOPSYS_CI_CONFIG"',
      'build --config "$SHOPSYS_CI_CONFIG"',
      'logs export --config "$SHOPSYS_CI_CONFIG"',
      'cleanup --config "$SHOPSYS_CI_CONFIG"',
    ]
    assert failed.cliCall('logs export --config "$SHOPSYS_CI_CONFIG"').env.SHOPSYS_CI_CONFIG == 'ci/shopsys ci.yaml'
    noViolations(failed)
  }

  @Test
  void 'registry credential is bound around build only, in single-quoted sh'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    StepCall creds = h.calls('withCredentials')[0]
    assert creds.args[0] == [[$class: 'UsernamePasswordMultiBinding', credentialsId: 'docker-registry',
                              usernameVariable: 'DOCKER_USERNAME', passwordVariable: 'DOCKER_PASSWORD']]
    StepCall build = h.cliCall('build')
    assert build.secrets == ['DOCKER_USERNAME', 'DOCKER_PASSWORD']
    assert build.env.DOCKER_PASSWORD == PipelineHarness.REGISTRY_PASSWORD
    assert build.blocks == ['withEnv', 'withCredentials']
    for (String cli in ['names --urls', 'cleanup']) {
      assert h.cliCall(cli).secrets == []
      assert !h.cliCall(cli).env.containsKey('DOCKER_PASSWORD')
    }
    noViolations(h)
    // the fallback logs export of a failed build runs outside it too
    PipelineHarness failed = harness(build: 3)
    failure { failed.run('shopsysBuild') }
    assert failed.cliCall('logs export').secrets == []
    assert !failed.cliCall('logs export').env.containsKey('DOCKER_PASSWORD')
    assert failed.cliCall('logs export').blocks == ['withEnv']
    noViolations(failed)
  }

  @Test
  void 'kubeconfig credential is bound around every command'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [kubeconfigCredentialsId: 'ci-kubeconfig'])
    assert h.calls('withCredentials')[0].args[0] == [[$class: 'FileBinding', credentialsId: 'ci-kubeconfig', variable: 'KUBECONFIG']]
    for (String cli in ['names --urls', 'build', 'cleanup']) {
      StepCall sh = h.cliCall(cli)
      assert sh.env.KUBECONFIG == PipelineHarness.KUBECONFIG_PATH
      assert 'KUBECONFIG' in sh.secrets
      assert sh.script instanceof String
    }
    assert h.cliCall('build').secrets == ['KUBECONFIG', 'DOCKER_USERNAME', 'DOCKER_PASSWORD']
    noViolations(h)
    // the fallback logs export of a failed build reads the cluster with it too
    PipelineHarness failed = harness(build: 3)
    failure { failed.run('shopsysBuild', [kubeconfigCredentialsId: 'ci-kubeconfig']) }
    for (String cli in ['names --urls', 'build', 'logs export', 'cleanup']) {
      StepCall sh = failed.cliCall(cli)
      assert sh.env.KUBECONFIG == PipelineHarness.KUBECONFIG_PATH
      assert 'KUBECONFIG' in sh.secrets
    }
    assert failed.cliCall('logs export').secrets == ['KUBECONFIG']
    noViolations(failed)
  }

  @Test
  void 'no registry credential when registryCredentialsId is null'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [registryCredentialsId: null])
    assert h.calls('withCredentials') == []
    assert h.cliCall('build').secrets == []
    assert h.trace().contains('sh build')
  }

  @Test
  void 'pull credential is bound to DOCKER_PULL_USERNAME and DOCKER_PULL_PASSWORD around build only'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [pullCredentialsId: PULL_ID])
    assert h.trace() == [
      'withEnv',
      'sh names --urls',
      'withCredentials',
      'withCredentials',
      'sh build',
      'archiveArtifacts',
      'junit',
      'sh cleanup',
    ]
    assert h.calls('withCredentials')*.args*.getAt(0) == [
      [[$class: 'UsernamePasswordMultiBinding', credentialsId: 'docker-registry',
        usernameVariable: 'DOCKER_USERNAME', passwordVariable: 'DOCKER_PASSWORD']],
      [[$class: 'UsernamePasswordMultiBinding', credentialsId: PULL_ID,
        usernameVariable: 'DOCKER_PULL_USERNAME', passwordVariable: 'DOCKER_PULL_PASSWORD']],
    ]
    StepCall build = h.cliCall('build')
    assert build.secrets == ['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD']
    assert build.env.DOCKER_PULL_USERNAME == PULL_USER
    assert build.env.DOCKER_PULL_PASSWORD == PULL_PASSWORD
    assert build.env.DOCKER_PASSWORD == PipelineHarness.REGISTRY_PASSWORD
    assert build.blocks == ['withEnv', 'withCredentials', 'withCredentials']
    assert build.script == PipelineHarness.expectedScript('build')
    assert build.script instanceof String
    for (String cli in ['names --urls', 'cleanup']) {
      assert h.cliCall(cli).secrets == []
      assert !h.cliCall(cli).env.containsKey('DOCKER_PULL_USERNAME')
      assert !h.cliCall(cli).env.containsKey('DOCKER_PULL_PASSWORD')
    }
    // the names only ever reach the shell through the environment
    assert !h.calls('withEnv')[0].args[0].any { it.startsWith('DOCKER_PULL_') }
    noViolations(h)
  }

  @Test
  void 'pull credential without a registry credential, and with keep and a kubeconfig'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [pullCredentialsId: PULL_ID, registryCredentialsId: null])
    assert h.calls('withCredentials').size() == 1
    assert h.calls('withCredentials')[0].args[0] == [[$class: 'UsernamePasswordMultiBinding', credentialsId: PULL_ID,
      usernameVariable: 'DOCKER_PULL_USERNAME', passwordVariable: 'DOCKER_PULL_PASSWORD']]
    assert h.cliCall('build').secrets == ['DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD']
    assert !h.cliCall('build').env.containsKey('DOCKER_PASSWORD')
    noViolations(h)

    // a failing build, so that the fallback logs export runs: with the kubeconfig only
    PipelineHarness h2 = harness('build --keep': 6)
    failure { h2.run('shopsysBuild', [pullCredentialsId: PULL_ID, kubeconfigCredentialsId: 'ci-kubeconfig', keep: true]) }
    assert h2.cliCall('build --keep').secrets ==
      ['KUBECONFIG', 'DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD']
    assert h2.cliCall('logs export').secrets == ['KUBECONFIG']
    noViolations(h2)
  }

  @Test
  void 'no pull credential by default: nothing is bound to the DOCKER_PULL variables'() {
    for (Map config in [[:], [pullCredentialsId: null], [pullCredentialsId: '']]) {
      PipelineHarness h = harness()
      h.run('shopsysBuild', config)
      assert h.calls('withCredentials').size() == 1
      assert h.calls('withCredentials')[0].args[0]*.credentialsId == ['docker-registry']
      assert h.calls('usernamePassword').size() == 1
      for (String cli in ['names --urls', 'build', 'cleanup']) {
        assert !h.cliCall(cli).secrets.any { it.startsWith('DOCKER_PULL_') }
        assert !h.cliCall(cli).env.containsKey('DOCKER_PULL_USERNAME')
        assert !h.cliCall(cli).env.containsKey('DOCKER_PULL_PASSWORD')
      }
    }
  }

  @Test
  void 'secretCredentials: Secret text credentials bound around build only, in one withCredentials'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [secretCredentials: SECRETS])
    assert h.trace() == [
      'withEnv',
      'sh names --urls',
      'withCredentials',
      'withCredentials',
      'sh build',
      'archiveArtifacts',
      'junit',
      'sh cleanup',
    ]
    assert h.calls('withCredentials')*.args*.getAt(0) == [
      [[$class: 'UsernamePasswordMultiBinding', credentialsId: 'docker-registry',
        usernameVariable: 'DOCKER_USERNAME', passwordVariable: 'DOCKER_PASSWORD']],
      [[$class: 'StringBinding', credentialsId: DB_ID, variable: 'APP_DATABASE_PASSWORD'],
       [$class: 'StringBinding', credentialsId: MAILER_ID, variable: 'APP_MAILER_DSN']],
    ]
    assert h.calls('string').size() == 2
    StepCall build = h.cliCall('build')
    assert build.secrets == ['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'APP_DATABASE_PASSWORD', 'APP_MAILER_DSN']
    assert build.env.APP_DATABASE_PASSWORD == DB_PASSWORD
    assert build.env.APP_MAILER_DSN == MAILER_DSN
    assert build.blocks == ['withEnv', 'withCredentials', 'withCredentials']
    assert build.script == PipelineHarness.expectedScript('build')
    assert build.script instanceof String
    for (String cli in ['names --urls', 'cleanup']) {
      assert h.cliCall(cli).secrets == []
      assert !h.cliCall(cli).env.containsKey('APP_DATABASE_PASSWORD')
      assert !h.cliCall(cli).env.containsKey('APP_MAILER_DSN')
    }
    // no value in any step's arguments (the harness checks every call), not even in withEnv
    noViolations(h)
    assert !h.calls('withEnv')[0].args[0].any { it.startsWith('APP_') || it.contains('SECRET') }

    // with every other credential: innermost, still one withCredentials for all of them; a failing
    // build, so that the fallback logs export runs: with the kubeconfig only
    PipelineHarness h2 = harness('build --keep': 6)
    failure {
      h2.run('shopsysBuild', [secretCredentials: [APP_DATABASE_PASSWORD: DB_ID], pullCredentialsId: PULL_ID,
                              kubeconfigCredentialsId: 'ci-kubeconfig', keep: true])
    }
    StepCall kept = h2.cliCall('build --keep')
    assert kept.secrets == ['KUBECONFIG', 'DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME',
                            'DOCKER_PULL_PASSWORD', 'APP_DATABASE_PASSWORD']
    assert kept.blocks == ['withEnv', 'withCredentials', 'withCredentials', 'withCredentials', 'withCredentials']
    assert h2.calls('withCredentials')[-1].args[0] == [[$class: 'StringBinding', credentialsId: DB_ID, variable: 'APP_DATABASE_PASSWORD']]
    assert h2.cliCall('logs export').secrets == ['KUBECONFIG']
    assert !h2.cliCall('logs export').env.containsKey('APP_DATABASE_PASSWORD')
    noViolations(h2)
  }

  @Test
  void 'secretCredentials empty or left out: no string binding, no extra withCredentials'() {
    for (Map config in [[:], [secretCredentials: [:]], [secretCredentials: null]]) {
      PipelineHarness h = harness()
      h.run('shopsysBuild', config)
      assert h.calls('string') == []
      assert h.calls('withCredentials').size() == 1
      assert h.calls('withCredentials')[0].args[0]*.credentialsId == ['docker-registry']
      assert h.cliCall('build').secrets == ['DOCKER_USERNAME', 'DOCKER_PASSWORD']
      assert h.cliCall('build').blocks == ['withEnv', 'withCredentials']
      noViolations(h)
    }
    PipelineHarness none = harness()
    none.run('shopsysBuild', [secretCredentials: [:], registryCredentialsId: null])
    assert none.calls('withCredentials') == []
    assert none.cliCall('build').blocks == ['withEnv']
  }

  @Test
  void 'secretCredentials: not a map, bad names, empty IDs and clashes are errors naming them, nothing runs'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [secretCredentials: 'APP_DATABASE_PASSWORD=' + DB_ID]) }
    assert e instanceof hudson.AbortException
    assert e.message.startsWith('shopsysBuild: secretCredentials must be a map of variable names to IDs of "Secret text" credentials')
    assert h.trace() == ['error']
    Throwable list = failure { harness().run('shopsysBuild', [secretCredentials: [DB_ID]]) }
    assert list.message.startsWith('shopsysBuild: secretCredentials must be a map')

    Map<Map, String> cases = [
      ([secretCredentials: ['NOT OK': DB_ID, '9X': DB_ID, OK_1: DB_ID]]):
        'invalid variable names NOT OK, 9X',
      ([secretCredentials: ['APP-X': DB_ID]]):
        'invalid variable name APP-X',
      ([secretCredentials: [A: '', B: '  ', C: null, D: 42, E: DB_ID]]):
        'no credentials ID (a non-empty String) for A, B, C, D',
      ([environment: [APP_ENV: 'ci', APP_DATABASE_PASSWORD: 'x'], secretCredentials: SECRETS]):
        'also set by environment: APP_DATABASE_PASSWORD',
      ([secretCredentials: [DOCKER_PASSWORD: DB_ID, KUBECONFIG: DB_ID, APP_X: DB_ID]]):
        'set by the library itself: DOCKER_PASSWORD, KUBECONFIG',
      ([secretCredentials: ['1A': '', BRANCH_NAME: DB_ID]]):
        'invalid variable name 1A; no credentials ID (a non-empty String) for 1A; set by the library itself: BRANCH_NAME',
    ]
    cases.each { Map config, String problem ->
      PipelineHarness bad = harness()
      Throwable error = failure { bad.run('shopsysBuild', config) }
      assert error instanceof hudson.AbortException
      assert error.message == 'shopsysBuild: secretCredentials: ' + problem
      assert !error.message.contains(DB_ID) && !error.message.contains(MAILER_ID)
      assert bad.trace() == ['error']
    }
    // every variable the library sets itself: the credentials', the CLI's and the runner's
    for (String name in ['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD',
                         'KUBECONFIG', 'WORKSPACE', 'DEVELOPMENT_SERVER_DOMAIN', 'GIT_COMMIT', 'BRANCH_NAME',
                         'JOB_NAME', 'NGINX_INGRESS_CONTROLLER_HOST_PORT', 'DOCKER_REGISTRY', 'BUILD_URL',
                         'BUILD_TAG', 'SHOPSYS_CI_CLI', 'SHOPSYS_CI_IMAGE', 'SHOPSYS_CI_DOCKER_ARGS',
                         'SHOPSYS_CI_ENV_NAMES', 'SHOPSYS_CI_CONFIG']) {
      Throwable clash = failure { harness().run('shopsysBuild', [secretCredentials: [(name): DB_ID]]) }
      assert clash.message == 'shopsysBuild: secretCredentials: set by the library itself: ' + name
    }
  }

  @Test
  void 'an unknown pull credential fails like an unknown registry credential, and still archives'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [pullCredentialsId: 'nope']) }
    assert e instanceof hudson.AbortException
    assert e.message.contains("'nope'")
    PipelineHarness registry = harness()
    Throwable expected = failure { registry.run('shopsysBuild', [registryCredentialsId: 'nope']) }
    assert e.message == expected.message
    assert h.trace() == ['withEnv', 'sh names --urls', 'withCredentials', 'withCredentials',
                         'sh logs export', 'archiveArtifacts', 'junit', 'sh cleanup']
    assert !h.cliCalls().contains('build')
    noViolations(h)
  }

  @Test
  void 'a missing credential fails the build and still archives'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [registryCredentialsId: 'nope']) }
    assert e instanceof hudson.AbortException
    assert e.message.contains("'nope'")
    assert h.trace() == ['withEnv', 'sh names --urls', 'withCredentials', 'sh logs export', 'archiveArtifacts', 'junit', 'sh cleanup']
  }

  @Test
  void 'failed build: logs, archive, junit and cleanup still run, the error names the exit code'() {
    PipelineHarness h = harness(build: 7)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e instanceof hudson.AbortException
    assert e.message.startsWith('shopsys-ci build failed with exit code 7: a phase (tests, checks) failed.')
    assert h.trace() == [
      'withEnv', 'sh names --urls', 'withCredentials', 'sh build', 'error',
      'sh logs export', 'archiveArtifacts', 'junit', 'sh cleanup',
    ]
    StepCall logs = h.cliCall('logs export')
    assert logs.script == PipelineHarness.expectedScript('logs export')
    assert logs.script instanceof String
    assert logs.named.label == 'shopsys-ci logs export'
    assert logs.named.returnStatus == true
    noViolations(h)
  }

  @Test
  void 'a successful build: no second logs export (build exported them itself)'() {
    for (Map config in [[:], [keep: true], [kubeconfigCredentialsId: 'ci-kubeconfig', config: 'ci.yaml']]) {
      PipelineHarness h = harness()
      h.run('shopsysBuild', config)
      assert !h.cliCalls().any { it.startsWith('logs') }
      assert h.trace().containsAll(['archiveArtifacts', 'junit'])
      noViolations(h)
    }
    // also when the cleanup after it fails: the build itself succeeded
    PipelineHarness h = harness(cleanup: 8)
    failure { h.run('shopsysBuild') }
    assert h.trace() == ['withEnv', 'sh names --urls', 'withCredentials', 'sh build',
                         'archiveArtifacts', 'junit', 'sh cleanup', 'error']
  }

  @Test
  void 'aborted build (sh interrupted): the finally block runs and the abort propagates'() {
    InterruptedException abort = new InterruptedException('aborted by a newer build')
    PipelineHarness h = harness(build: abort)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.is(abort)
    assert h.trace() == ['withEnv', 'sh names --urls', 'withCredentials', 'sh build',
                         'sh logs export', 'archiveArtifacts', 'junit', 'sh cleanup']
  }

  @Test
  void 'archive and junit patterns'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    assert h.calls('archiveArtifacts')[0].named == [
      artifacts: 'shopsys-ci/report.json, .shopsys-ci/manifests.yaml, shopsys-ci/logs/**, shopsys-ci/artifacts/**',
      allowEmptyArchive: true,
    ]
    assert h.calls('junit')[0].named == [testResults: 'shopsys-ci/artifacts/**/*.xml', allowEmptyResults: true]
  }

  @Test
  void 'archive: false and junit: null switch them off'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [archive: false, junit: null])
    assert h.calls('archiveArtifacts') == []
    assert h.calls('junit') == []
    PipelineHarness h2 = harness()
    h2.run('shopsysBuild', [junit: 'shopsys-ci/artifacts/phpunit/*.xml'])
    assert h2.calls('junit')[0].named.testResults == 'shopsys-ci/artifacts/phpunit/*.xml'
  }

  @Test
  void 'keep: true builds with --keep, skips cleanup and tells shopsysCleanup'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [keep: true])
    assert h.trace() == ['withEnv', 'sh names --urls', 'withCredentials', 'sh build --keep',
                         'archiveArtifacts', 'junit']
    assert h.env.SHOPSYS_CI_KEEP == 'true'
    assert h.echoes().any { it.contains('keep: true') }
  }

  @Test
  void 'keep: true and a failing build: still no cleanup'() {
    PipelineHarness h = harness('build --keep': 6)
    Throwable e = failure { h.run('shopsysBuild', [keep: true]) }
    assert e.message.startsWith('shopsys-ci build failed with exit code 6: deploy or rollout failed')
    assert !h.cliCalls().contains('cleanup')
    assert h.trace()[-3..-1] == ['sh logs export', 'archiveArtifacts', 'junit']
  }

  @Test
  void 'description is the environment URLs'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild')
    assert h.currentBuild.description == URLS.trim()
  }

  @Test
  void 'description: false does not ask for names'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [description: false])
    assert !h.cliCalls().contains('names --urls')
    assert h.currentBuild.description == null
  }

  @Test
  void 'names failing is only a warning, build reports the problem'() {
    PipelineHarness h = harness('names --urls': 2, build: 2)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.message.startsWith('shopsys-ci build failed with exit code 2: usage or configuration error')
    assert h.currentBuild.description == null
    assert h.echoes().any { it.contains('could not compute the environment\'s URLs') }
  }

  @Test
  void 'an abort during names is not swallowed'() {
    InterruptedException abort = new InterruptedException('aborted')
    PipelineHarness h = harness('names --urls': abort)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.is(abort)
    assert !h.cliCalls().contains('build')
  }

  @Test
  void 'cleanup failing after a good build fails the build, after archiving'() {
    PipelineHarness h = harness(cleanup: 8)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.message.startsWith('shopsys-ci cleanup failed with exit code 8: cleanup failed')
    assert h.trace()[-4..-1] == ['archiveArtifacts', 'junit', 'sh cleanup', 'error']
  }

  @Test
  void 'cleanup failing after a failed build keeps the build error'() {
    PipelineHarness h = harness(build: 4, cleanup: 8)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.message.startsWith('shopsys-ci build failed with exit code 4: image build failed')
    assert h.echoes().any { it.contains('cleanup failed with exit code 8') }
  }

  @Test
  void 'every exit code has its meaning in the message'() {
    Map<Integer, String> expected = [
      1: 'unexpected error', 2: 'usage or configuration error', 3: 'environment', 4: 'image build failed',
      5: 'registry', 6: 'deploy or rollout failed', 7: 'a phase (tests, checks) failed', 8: 'cleanup failed',
      9: 'timed out waiting for the branch lock or a capacity slot', 127: 'the CLI command was not found',
      143: 'terminated (SIGTERM', 42: 'the command failed',
    ]
    expected.each { int code, String meaning ->
      PipelineHarness h = harness(build: code)
      Throwable e = failure { h.run('shopsysBuild') }
      assert e.message.startsWith("shopsys-ci build failed with exit code ${code}: ${meaning}")
    }
  }

  @Test
  void 'junit failing still cleans up and its error is the one reported'() {
    PipelineHarness h = harness(cleanup: 8)
    h.steps.junit = { StepCall c -> throw new hudson.AbortException('Failed to read test report file') }
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.message == 'Failed to read test report file'
    assert h.trace()[-3..-1] == ['archiveArtifacts', 'junit', 'sh cleanup']
    assert h.echoes().any { it.contains('cleanup failed with exit code 8') }
  }

  @Test
  void 'logs export failing is a warning only'() {
    // it runs after a failed build only; the build's error stays the one reported
    PipelineHarness h = harness(build: 6, 'logs export': 1)
    Throwable e = failure { h.run('shopsysBuild') }
    assert e.message.startsWith('shopsys-ci build failed with exit code 6: deploy or rollout failed')
    assert h.echoes().any { it.startsWith('shopsysBuild: warning: shopsys-ci logs export failed with exit code 1') }
    assert h.trace()[-4..-1] == ['sh logs export', 'archiveArtifacts', 'junit', 'sh cleanup']
  }

  @Test
  void 'unknown keys fail with error naming them and the known keys, nothing runs'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [kubeconfig: 'x', keepp: true]) }
    assert e instanceof hudson.AbortException
    assert e.message.startsWith('shopsysBuild: unknown configuration keys kubeconfig, keepp. Known keys: cli, image,')
    assert e.message.contains('kubeconfigCredentialsId')
    assert e.message.contains('registryCredentialsId')
    assert e.message.contains('pullCredentialsId')
    assert e.message.contains(' keep,')
    assert h.calls('sh') == []
    assert h.trace() == ['error']
  }

  @Test
  void 'one unknown key'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [imagee: 'x']) }
    assert e.message.startsWith('shopsysBuild: unknown configuration key imagee. Known keys: ')
  }

  @Test
  void 'cli and image together are an error'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [cli: 'shopsys-ci', image: 'acme/buildpack:1']) }
    assert e.message == 'shopsysBuild: give either cli or image, not both'
    assert h.calls('sh') == []
  }

  @Test
  void 'bad environment names are an error'() {
    PipelineHarness h = harness()
    Throwable e = failure { h.run('shopsysBuild', [environment: ['OK': '1', 'NOT OK': '2', '9X': '3']]) }
    assert e.message == 'shopsysBuild: environment: invalid variable names NOT OK, 9X'
    Throwable e2 = failure { harness().run('shopsysBuild', [environment: 'A=1']) }
    assert e2.message.startsWith('shopsysBuild: environment must be a map')
  }

  @Test
  void 'flags must be booleans, null is allowed'() {
    Throwable e = failure { harness().run('shopsysBuild', [keep: 'false']) }
    assert e.message == "shopsysBuild: keep must be true or false, not 'false'"
    assert e instanceof hudson.AbortException
    PipelineHarness h = harness()
    h.run('shopsysBuild', [keep: null])   // params.KEEP_ENVIRONMENT on a branch's first build
    assert h.cliCalls().contains('build')
    assert h.cliCalls().contains('cleanup')
  }

  @Test
  void 'cli: overrides the command'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [cli: '/opt/shopsys-ci/bin/run.js'])
    assert h.cliCall('build').env.SHOPSYS_CI_CLI == '/opt/shopsys-ci/bin/run.js'
    assert h.cliCall('build').script == PipelineHarness.expectedScript('build')
  }

  @Test
  void 'image: sets the runner variables, the variable list has names only'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [image: 'acme/shopsys-ci-buildpack:0.1.0', environment: [APP_ENV: 'ci']])
    Map env = h.cliCall('build').env
    assert env.SHOPSYS_CI_IMAGE == 'acme/shopsys-ci-buildpack:0.1.0'
    assert env.SHOPSYS_CI_DOCKER_ARGS == '--network host'
    assert env.SHOPSYS_CI_ENV_NAMES == 'WORKSPACE DEVELOPMENT_SERVER_DOMAIN GIT_COMMIT BRANCH_NAME JOB_NAME ' +
      'NGINX_INGRESS_CONTROLLER_HOST_PORT DOCKER_REGISTRY BUILD_URL BUILD_TAG APP_ENV DOCKER_USERNAME DOCKER_PASSWORD'
    // same script as without image: the runner resource decides
    assert h.cliCall('build').script == PipelineHarness.expectedScript('build')
    noViolations(h)
  }

  @Test
  void 'image: the pull credential is passed by name, only when pullCredentialsId is set'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [image: 'acme/shopsys-ci-buildpack:0.1.0', pullCredentialsId: PULL_ID])
    String names = h.cliCall('build').env.SHOPSYS_CI_ENV_NAMES
    assert names == 'WORKSPACE DEVELOPMENT_SERVER_DOMAIN GIT_COMMIT BRANCH_NAME JOB_NAME ' +
      'NGINX_INGRESS_CONTROLLER_HOST_PORT DOCKER_REGISTRY BUILD_URL BUILD_TAG DOCKER_USERNAME DOCKER_PASSWORD ' +
      'DOCKER_PULL_USERNAME DOCKER_PULL_PASSWORD'
    assert !names.contains('=')
    assert h.cliCall('build').script == PipelineHarness.expectedScript('build')
    noViolations(h)

    for (Map config in [[:], [pullCredentialsId: null]]) {
      PipelineHarness without = harness()
      without.run('shopsysBuild', [image: 'acme/shopsys-ci-buildpack:0.1.0'] + config)
      for (String cli in ['names --urls', 'build', 'cleanup']) {
        List<String> list = without.cliCall(cli).env.SHOPSYS_CI_ENV_NAMES.tokenize(' ')
        assert !list.contains('DOCKER_PULL_USERNAME') && !list.contains('DOCKER_PULL_PASSWORD')
        assert list[-2..-1] == ['DOCKER_USERNAME', 'DOCKER_PASSWORD']
      }
    }
  }

  @Test
  void 'image: the secretCredentials variables are passed by name, only when given'() {
    PipelineHarness h = harness()
    h.run('shopsysBuild', [image: 'acme/shopsys-ci-buildpack:0.1.0', secretCredentials: SECRETS])
    String names = h.cliCall('build').env.SHOPSYS_CI_ENV_NAMES
    assert names == 'WORKSPACE DEVELOPMENT_SERVER_DOMAIN GIT_COMMIT BRANCH_NAME JOB_NAME ' +
      'NGINX_INGRESS_CONTROLLER_HOST_PORT DOCKER_REGISTRY BUILD_URL BUILD_TAG DOCKER_USERNAME DOCKER_PASSWORD ' +
      'APP_DATABASE_PASSWORD APP_MAILER_DSN'
    assert !names.contains('=') && !names.contains('SECRET') && !names.contains(DB_ID)
    assert h.cliCall('build').script == PipelineHarness.expectedScript('build')
    noViolations(h)

    for (Map config in [[:], [secretCredentials: [:]], [secretCredentials: null]]) {
      PipelineHarness without = harness()
      without.run('shopsysBuild', [image: 'acme/shopsys-ci-buildpack:0.1.0'] + config)
      List<String> list = without.cliCall('build').env.SHOPSYS_CI_ENV_NAMES.tokenize(' ')
      assert list[-2..-1] == ['DOCKER_USERNAME', 'DOCKER_PASSWORD']
      assert !list.any { it.startsWith('APP_') }
    }
  }

  @Test
  void 'secrets never appear in any step argument, also with every option on'() {
    PipelineHarness h = harness('build --config "$SHOPSYS_CI_CONFIG"': 7)
    failure {
      h.run('shopsysBuild', [image: 'acme/buildpack:1', kubeconfigCredentialsId: 'ci-kubeconfig',
                             pullCredentialsId: PULL_ID, config: 'ci.yaml', environment: [A: 'b'],
                             secretCredentials: SECRETS])
    }
    noViolations(h)
    assert h.cliCall('build --config "$SHOPSYS_CI_CONFIG"').secrets.containsAll(SECRETS.keySet())
    for (StepCall sh in h.calls('sh')) {
      assert sh.script instanceof String && !(sh.script instanceof GString)
      assert !sh.script.contains(PipelineHarness.REGISTRY_PASSWORD)
      assert !sh.script.contains(PULL_PASSWORD) && !sh.script.contains(PULL_USER)
      assert !sh.script.contains(DB_PASSWORD) && !sh.script.contains(MAILER_DSN)
    }
    for (StepCall call in h.calls('withEnv')) {
      assert !call.args[0].any { it.contains('SECRET') }
    }
  }

  @Test
  void 'the harness itself flags a GString sh while secrets are bound'() {
    // Guards the guard: a step written the wrong way must be caught.
    PipelineHarness h = harness()
    Script bad = new GroovyShell(PipelineHarness.classLoader, h.binding,
      new org.codehaus.groovy.control.CompilerConfiguration(scriptBaseClass: PipelineScript.name)).parse('''
        withCredentials([usernamePassword(credentialsId: 'docker-registry', usernameVariable: 'U', passwordVariable: 'P')]) {
          sh "docker login -u ${env.U} -p ${env.P}"
        }
      ''')
    bad.run()
    assert h.violations.any { it.startsWith('secret value appears in the arguments of sh') }
    assert h.violations.any { it.startsWith('sh got a GString while [U, P] were bound') }
  }
}
