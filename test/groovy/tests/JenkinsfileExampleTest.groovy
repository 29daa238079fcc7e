/** Jenkinsfile.example and Jenkinsfile.gc.example, run loosely: the steps they call accept their maps. */
class JenkinsfileExampleTest {
  @Test
  void 'Jenkinsfile example: library, options, build stage, cleanup in post always'() {
    String text = Repo.text('Jenkinsfile.example')
    assert text =~ /(?m)^@Library\('shopsys-kube-ci(@[^']+)?'\) _$/
    LooseDeclarative dsl = new LooseDeclarative()
    dsl.harness.env.setProperty('DEVELOPMENT_SERVER_DOMAIN', null)
    dsl.harness.env.setProperty('NGINX_INGRESS_CONTROLLER_HOST_PORT', null)
    dsl.run('Jenkinsfile.example')

    Map concurrency = dsl.calls('disableConcurrentBuilds')[0]
    assert concurrency.blocks == ['pipeline', 'options']
    assert concurrency.args == [[abortPrevious: true]]

    Map build = dsl.calls('shopsysBuild')[0]
    assert build.blocks == ['pipeline', 'stages', 'stage', 'steps']
    Map cleanup = dsl.calls('shopsysCleanup')[0]
    assert cleanup.blocks == ['pipeline', 'post', 'always']

    // the real steps ran with the example's maps and environment
    PipelineHarness h = dsl.harness
    assert h.violations == []
    // build exported the logs itself: no second logs export after it succeeded
    assert h.cliCalls() == ['names --urls', 'build', 'cleanup', 'cleanup']
    StepCall sh = h.cliCall('build')
    assert sh.env.DEVELOPMENT_SERVER_DOMAIN == 'ci.example.com'
    assert sh.env.NGINX_INGRESS_CONTROLLER_HOST_PORT == '8000'
    assert sh.secrets == ['KUBECONFIG', 'DOCKER_USERNAME', 'DOCKER_PASSWORD']
  }

  @Test
  void 'Jenkinsfile example with KEEP_ENVIRONMENT keeps it'() {
    LooseDeclarative dsl = new LooseDeclarative()
    dsl.harness.params.KEEP_ENVIRONMENT = true
    dsl.run('Jenkinsfile.example')
    assert dsl.harness.cliCalls() == ['names --urls', 'build --keep']
  }

  @Test
  void 'gc example: periodic, runs gc with the remote'() {
    LooseDeclarative dsl = new LooseDeclarative()
    dsl.run('Jenkinsfile.gc.example')
    assert dsl.calls('cron')[0].blocks == ['pipeline', 'triggers']
    assert dsl.calls('shopsysGc')[0].blocks == ['pipeline', 'stages', 'stage', 'steps']
    PipelineHarness h = dsl.harness
    assert h.cliCalls() == ['gc --remote "$SHOPSYS_CI_GC_REMOTE"']
    assert h.calls('sh')[0].env.SHOPSYS_CI_GC_REMOTE == 'https://git.example.com/acme/shop.git'
    assert h.calls('sh')[0].secrets == ['KUBECONFIG']
  }
}
