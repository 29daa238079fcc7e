/** vars/shopsysCleanup.groovy in the recording harness. */
class ShopsysCleanupTest {
  static Throwable failure(Closure body) {
    try {
      body.call()
    } catch (Throwable e) {
      return e
    }
    assert false: 'expected the step to fail'
  }

  @Test
  void 'runs cleanup with the CLI environment'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysCleanup')
    assert h.trace() == ['withEnv', 'sh cleanup']
    StepCall sh = h.cliCall('cleanup')
    assert sh.script == PipelineHarness.expectedScript('cleanup')
    assert sh.named.returnStatus == true
    assert sh.env.BRANCH_NAME == 'feature/x'
    assert sh.env.SHOPSYS_CI_CLI == 'npx --yes shopsys-kube-ci@' + Repo.packageVersion()
    assert h.violations == []
  }

  @Test
  void 'binds the kubeconfig, never the registry credential'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysCleanup', [kubeconfigCredentialsId: 'ci-kubeconfig', registryCredentialsId: 'docker-registry'])
    assert h.trace() == ['withEnv', 'withCredentials', 'sh cleanup']
    StepCall sh = h.cliCall('cleanup')
    assert sh.secrets == ['KUBECONFIG']
    assert sh.script instanceof String
    assert !sh.env.containsKey('DOCKER_PASSWORD')
    assert h.violations == []
  }

  @Test
  void 'accepts pullCredentialsId and never binds it'() {
    PipelineHarness h = PipelineHarness.create()
    h.credentials['registry-reader'] = [username: 'r-SECRET-reader', password: 'rp-SECRET-pull']
    h.run('shopsysCleanup', [kubeconfigCredentialsId: 'ci-kubeconfig', pullCredentialsId: 'registry-reader'])
    assert h.trace() == ['withEnv', 'withCredentials', 'sh cleanup']
    StepCall sh = h.cliCall('cleanup')
    assert sh.secrets == ['KUBECONFIG']
    assert !sh.env.containsKey('DOCKER_PULL_USERNAME')
    assert !sh.env.containsKey('DOCKER_PULL_PASSWORD')
    assert h.violations == []
  }

  @Test
  void 'accepts secretCredentials, checks it like shopsysBuild and never binds it'() {
    PipelineHarness h = PipelineHarness.create()
    h.credentials['review-db-password'] = [secret: 'db-SECRET-pw']
    h.run('shopsysCleanup', [kubeconfigCredentialsId: 'ci-kubeconfig', secretCredentials: [APP_DATABASE_PASSWORD: 'review-db-password']])
    assert h.trace() == ['withEnv', 'withCredentials', 'sh cleanup']
    assert h.calls('string') == []
    StepCall sh = h.cliCall('cleanup')
    assert sh.secrets == ['KUBECONFIG']
    assert !sh.env.containsKey('APP_DATABASE_PASSWORD')
    assert h.violations == []
    Throwable e = failure { PipelineHarness.create().run('shopsysCleanup', [secretCredentials: [KUBECONFIG: 'review-db-password']]) }
    assert e.message == 'shopsysCleanup: secretCredentials: set by the library itself: KUBECONFIG'
  }

  @Test
  void 'a failing cleanup is an error with the exit code'() {
    PipelineHarness h = PipelineHarness.create()
    h.shResponder = { StepCall c -> 8 }
    Throwable e = failure { h.run('shopsysCleanup') }
    assert e instanceof hudson.AbortException
    assert e.message.startsWith('shopsys-ci cleanup failed with exit code 8: cleanup failed.')
  }

  @Test
  void 'keep: true does nothing, force: true deletes anyway'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysCleanup', [keep: true])
    assert h.calls('sh') == []
    assert h.echoes() == ['shopsysCleanup: the environment is kept (keep: true); give force: true to delete it anyway']
    PipelineHarness h2 = PipelineHarness.create()
    h2.run('shopsysCleanup', [keep: true, force: true])
    assert h2.cliCalls() == ['cleanup --force']
  }

  @Test
  void 'after shopsysBuild with keep: true, post cleanup keeps the environment'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysBuild', [keep: true])
    h.run('shopsysCleanup')
    assert !h.cliCalls().contains('cleanup')
  }

  @Test
  void 'after a normal shopsysBuild, post cleanup runs again (idempotent in the CLI)'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysBuild')
    h.run('shopsysCleanup')
    assert h.cliCalls().findAll { it == 'cleanup' }.size() == 2
  }

  @Test
  void 'accepts the same map as shopsysBuild'() {
    Map shared = [registryCredentialsId: 'docker-registry', kubeconfigCredentialsId: 'ci-kubeconfig',
                  pullCredentialsId: 'registry-reader',
                  image: 'acme/buildpack:1', junit: null, archive: false, description: false, keep: false]
    PipelineHarness h = PipelineHarness.create()
    h.credentials['registry-reader'] = [username: 'r-SECRET-reader', password: 'rp-SECRET-pull']
    h.run('shopsysBuild', shared)
    h.run('shopsysCleanup', shared)
    assert h.violations == []
    assert h.calls('sh')[-1].env.SHOPSYS_CI_IMAGE == 'acme/buildpack:1'
  }

  @Test
  void 'branch: names the branch of a deleted-branch job'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysCleanup', [branch: 'feature/gone', force: true])
    assert h.cliCall('cleanup --force').env.BRANCH_NAME == 'feature/gone'
  }

  @Test
  void 'branch given but empty (a blank job parameter) is an error, not the job name'() {
    for (Object blank in ['', '  ', null]) {
      PipelineHarness h = PipelineHarness.create()
      Throwable e = failure { h.run('shopsysCleanup', [branch: blank, force: true]) }
      assert e.message.startsWith('shopsysCleanup: branch is empty')
      assert h.calls('sh') == []
    }
  }

  @Test
  void 'unknown key is an error listing the known keys'() {
    PipelineHarness h = PipelineHarness.create()
    Throwable e = failure { h.run('shopsysCleanup', [forse: true]) }
    assert e.message.startsWith('shopsysCleanup: unknown configuration key forse. Known keys: cli, ')
    assert e.message.endsWith(', force')
    assert h.calls('sh') == []
  }
}
