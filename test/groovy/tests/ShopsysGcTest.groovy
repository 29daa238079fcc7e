/** vars/shopsysGc.groovy in the recording harness. */
class ShopsysGcTest {
  static Throwable failure(Closure body) {
    try {
      body.call()
    } catch (Throwable e) {
      return e
    }
    assert false: 'expected the step to fail'
  }

  @Test
  void 'runs gc'() {
    PipelineHarness h = PipelineHarness.create()
    h.run('shopsysGc')
    assert h.trace() == ['withEnv', 'sh gc']
    assert h.cliCall('gc').script == PipelineHarness.expectedScript('gc')
    assert !h.cliCall('gc').env.containsKey('SHOPSYS_CI_GC_REMOTE')
  }

  @Test
  void 'dryRun and remote: the URL only through the environment'() {
    PipelineHarness h = PipelineHarness.create()
    String url = 'https://git.example.com/acme/shop.git'
    h.run('shopsysGc', [dryRun: true, remote: url, kubeconfigCredentialsId: 'ci-kubeconfig'])
    assert h.trace() == ['withEnv', 'withCredentials', 'sh gc --dry-run --remote "$SHOPSYS_CI_GC_REMOTE"']
    StepCall sh = h.calls('sh')[0]
    assert sh.script == PipelineHarness.expectedScript('gc --dry-run --remote "$SHOPSYS_CI_GC_REMOTE"')
    assert !sh.script.contains(url)
    assert sh.env.SHOPSYS_CI_GC_REMOTE == url
    assert sh.named.label == 'shopsys-ci gc --dry-run --remote'
    assert sh.secrets == ['KUBECONFIG']
    assert h.violations == []
  }

  @Test
  void 'a failing gc is an error with the exit code'() {
    PipelineHarness h = PipelineHarness.create()
    h.shResponder = { StepCall c -> 9 }
    Throwable e = failure { h.run('shopsysGc') }
    assert e.message.startsWith('shopsys-ci gc failed with exit code 9: timed out waiting for the branch lock or a capacity slot.')
  }

  @Test
  void 'build-only keys are unknown to gc'() {
    PipelineHarness h = PipelineHarness.create()
    Throwable e = failure { h.run('shopsysGc', [registryCredentialsId: 'docker-registry', pullCredentialsId: 'registry-reader', keep: true]) }
    assert e.message.startsWith('shopsysGc: unknown configuration keys registryCredentialsId, pullCredentialsId, keep. Known keys: cli, ')
    assert e.message.endsWith(', dryRun, remote')
    Throwable secrets = failure { PipelineHarness.create().run('shopsysGc', [secretCredentials: [:]]) }
    assert secrets.message.startsWith('shopsysGc: unknown configuration key secretCredentials. Known keys: ')
  }
}
