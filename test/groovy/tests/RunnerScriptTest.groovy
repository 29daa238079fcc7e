import java.net.StandardProtocolFamily
import java.net.UnixDomainSocketAddress
import java.nio.channels.ServerSocketChannel

/**
 * Runs the exact `sh` scripts the steps produce (set -- ... + resources/shopsys/ci/run.sh) with
 * /bin/sh -xe, as the Jenkins `sh` step does, in the environment recorded at that step, with stub
 * `docker` and CLI commands that write down what they were given.
 */
class RunnerScriptTest {
  File tmp = File.createTempDir('shopsys-ci-runner', '')
  File bin = new File(tmp, 'bin')
  File out = new File(tmp, 'out')
  File home = new File(tmp, 'home')
  File workspace = new File(tmp, 'work space')

  RunnerScriptTest() {
    [bin, out, home, workspace].each { it.mkdirs() }
    stub('docker')
    stub('fake cli')
  }

  /** A command that records its arguments (one per line) and environment, and exits with $STUB_EXIT. */
  void stub(String name) {
    String safe = name.replace(' ', '_')
    File f = new File(bin, name)
    f.text = """#!/bin/sh
for a in "\$@"; do printf '%s\\n' "\$a"; done > "\$STUB_OUT/${safe}.argv"
env > "\$STUB_OUT/${safe}.env"
echo "stdout of ${safe}"
exit "\${STUB_EXIT:-0}"
"""
    f.setExecutable(true)
  }

  List<String> argv(String name) {
    File f = new File(out, name.replace(' ', '_') + '.argv')
    return f.exists() ? f.readLines() : null
  }

  Map<String, String> stubEnv(String name) {
    Map<String, String> env = [:]
    for (String line in new File(out, name.replace(' ', '_') + '.env').readLines()) {
      int eq = line.indexOf('=')
      if (eq > 0) env[line.substring(0, eq)] = line.substring(eq + 1)
    }
    return env
  }

  /** Runs the script of `sh` like the sh step: `sh -xe <file>` with the step's environment. */
  Map execute(StepCall sh, Map<String, String> extra = [:]) {
    File script = new File(tmp, 'script.sh')
    script.text = sh.script
    ProcessBuilder pb = new ProcessBuilder('/bin/sh', '-xe', script.path)
    Map<String, String> env = pb.environment()
    env.clear()
    env.putAll(sh.env)
    env.PATH = bin.path + ':/usr/bin:/bin'
    env.HOME = home.path
    env.STUB_OUT = out.path
    env.WORKSPACE = workspace.path
    extra.each { k, v -> if (v == null) env.remove(k) else env[k] = v }
    File stdout = new File(tmp, 'stdout')
    File stderr = new File(tmp, 'stderr')
    pb.redirectOutput(stdout).redirectError(stderr).directory(workspace)
    int status = pb.start().waitFor()
    return [status: status, stdout: stdout.text, stderr: stderr.text]
  }

  static String sh(String command) {
    Process p = ['/bin/sh', '-c', command].execute()
    String text = p.text.trim()
    assert p.waitFor() == 0
    return text
  }

  /** A listening Unix socket, so `[ -S ]` holds as for the Docker daemon's. */
  ServerSocketChannel socket(File path) {
    ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
    channel.bind(UnixDomainSocketAddress.of(path.path))
    return channel
  }

  /** A read-only registry account for the image pull secret (pullCredentialsId), stored by recorded(). */
  static final String PULL_ID = 'registry-reader'
  static final String PULL_USER = 'r-SECRET-reader'
  static final String PULL_PASSWORD = 'rp-SECRET-`id` $(x)"\'pull'
  /** A "Secret text" credential for secretCredentials, stored by recorded(). */
  static final String DB_ID = 'review-db-password'
  static final String DB_PASSWORD = 'db-SECRET-`id` $(x)"\'pw'

  /** The `sh` call of `cli` from a run of `step` with `config` (its commands all succeed). */
  static StepCall recorded(String step, Map config, String cli) {
    PipelineHarness h = PipelineHarness.create()
    h.credentials[PULL_ID] = [username: PULL_USER, password: PULL_PASSWORD]
    h.credentials[DB_ID] = [secret: DB_PASSWORD]
    h.shResponder = { StepCall c -> c.cli.startsWith('names') ? 'http://x\n' : 0 }
    h.run(step, config)
    assert h.violations == []
    return h.cliCall(cli)
  }

  static final List<String> PASSED = ['WORKSPACE', 'DEVELOPMENT_SERVER_DOMAIN', 'GIT_COMMIT', 'BRANCH_NAME',
    'JOB_NAME', 'NGINX_INGRESS_CONTROLLER_HOST_PORT', 'DOCKER_REGISTRY', 'BUILD_URL', 'BUILD_TAG']

  @Test
  void 'cli mode: runs the command with the arguments intact and its exit code'() {
    StepCall build = recorded('shopsysBuild', [cli: '"' + bin.path + '/fake cli" --from-cli', config: 'ci/my config.yaml'],
      'build --config "$SHOPSYS_CI_CONFIG"')
    Map r = execute(build, [STUB_EXIT: '7'])
    assert r.status == 7
    assert argv('fake cli') == ['--from-cli', 'build', '--config', 'ci/my config.yaml']
    assert stubEnv('fake cli').DOCKER_PASSWORD == PipelineHarness.REGISTRY_PASSWORD
    assert r.stdout == 'stdout of fake_cli\n'
    assert r.stderr.contains('[shopsys-ci] "' + bin.path + '/fake cli" --from-cli build --config ci/my config.yaml')
  }

  @Test
  void 'cli mode: the CLI gets the pull credential from its environment'() {
    StepCall build = recorded('shopsysBuild', [cli: '"' + bin.path + '/fake cli"', pullCredentialsId: PULL_ID], 'build')
    Map r = execute(build)
    assert r.status == 0
    assert argv('fake cli') == ['build']
    Map<String, String> env = stubEnv('fake cli')
    assert env.DOCKER_PULL_USERNAME == PULL_USER
    assert env.DOCKER_PULL_PASSWORD == PULL_PASSWORD
    assert !r.stderr.contains('SECRET')
  }

  @Test
  void 'cli mode: stdout is only the CLI output (names --urls is read from it)'() {
    StepCall names = recorded('shopsysBuild', [cli: '"' + bin.path + '/fake cli"'], 'names --urls')
    Map r = execute(names)
    assert r.status == 0
    assert r.stdout == 'stdout of fake_cli\n'
    assert argv('fake cli') == ['names', '--urls']
  }

  @Test
  void 'cli mode: the default npx command'() {
    stub('npx')
    StepCall build = recorded('shopsysBuild', [:], 'build')
    Map r = execute(build)
    assert r.status == 0
    assert argv('npx') == ['--yes', 'shopsys-kube-ci@' + Repo.packageVersion(), 'build']
  }

  @Test
  void 'image mode: the docker run line passes variables by name only'() {
    File sock = new File(tmp, 'docker.sock')
    ServerSocketChannel channel = socket(sock)
    // A `stat` without GNU's -c (macOS, BSD): the socket's group must not depend on it.
    stub('stat')
    try {
      StepCall build = recorded('shopsysBuild',
        [image: 'acme/shopsys-ci-buildpack:0.1.0', kubeconfigCredentialsId: 'ci-kubeconfig', environment: [APP_ENV: 'ci']],
        'build')
      Map r = execute(build, [DOCKER_HOST: 'unix://' + sock.path, STUB_EXIT: '6'])
      assert r.status == 6
      String ws = workspace.path
      String kc = PipelineHarness.KUBECONFIG_PATH
      List<String> expected = ['run', '--rm', '--init',
        '--user', sh('id -u') + ':' + sh('id -g'),
        '--group-add', sh('stat -c %g ' + sock.path),
        '--volume', sock.path + ':/var/run/docker.sock',
        '--volume', ws + ':' + ws,
        '--workdir', ws,
        '--volume', kc + ':' + kc + ':ro']
      for (String name in PASSED + ['APP_ENV', 'DOCKER_USERNAME', 'DOCKER_PASSWORD', 'KUBECONFIG']) {
        expected.addAll(['-e', name])
      }
      expected.addAll(['--network', 'host', 'acme/shopsys-ci-buildpack:0.1.0', 'shopsys-ci', 'build'])
      assert argv('docker') == expected
      // docker reads the values from its own environment
      Map<String, String> env = stubEnv('docker')
      assert env.DOCKER_PASSWORD == PipelineHarness.REGISTRY_PASSWORD
      assert env.DOCKER_USERNAME == PipelineHarness.REGISTRY_USER
      assert env.KUBECONFIG == kc
      assert env.APP_ENV == 'ci'
      assert env.DEVELOPMENT_SERVER_DOMAIN == 'ci.example.com'
      // and no value is on the command line or in the trace (the kubeconfig's path is, for the mount)
      for (String arg in argv('docker')) {
        assert !arg.contains('=')
        assert !arg.contains(PipelineHarness.REGISTRY_PASSWORD) && !arg.contains(PipelineHarness.REGISTRY_USER)
      }
      assert !r.stderr.contains('SECRET')
      assert r.stderr.contains('[shopsys-ci] docker run acme/shopsys-ci-buildpack:0.1.0 shopsys-ci build')
    } finally {
      channel.close()
    }
  }

  @Test
  void 'image mode: the pull credential goes in by name, only when pullCredentialsId is set'() {
    File sock = new File(tmp, 'docker.sock')
    ServerSocketChannel channel = socket(sock)
    try {
      StepCall build = recorded('shopsysBuild', [image: 'acme/b:1', pullCredentialsId: PULL_ID], 'build')
      Map r = execute(build, [DOCKER_HOST: 'unix://' + sock.path])
      assert r.status == 0
      List<String> args = argv('docker')
      List<String> names = []
      for (int i = 0; i < args.size() - 1; i++) {
        if (args[i] == '-e') names.add(args[i + 1])
      }
      assert names == PASSED + ['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD', 'KUBECONFIG']
      Map<String, String> env = stubEnv('docker')
      assert env.DOCKER_PULL_USERNAME == PULL_USER
      assert env.DOCKER_PULL_PASSWORD == PULL_PASSWORD
      for (String arg in args) {
        assert !arg.contains('=') && !arg.contains('SECRET')
      }
      assert !r.stderr.contains('SECRET')

      // not configured: the names are not passed at all
      StepCall plain = recorded('shopsysBuild', [image: 'acme/b:1'], 'build')
      execute(plain, [DOCKER_HOST: 'unix://' + sock.path])
      assert !argv('docker').contains('DOCKER_PULL_USERNAME')
      assert !argv('docker').contains('DOCKER_PULL_PASSWORD')
      assert argv('docker').count('-e') == PASSED.size() + 3   // + DOCKER_USERNAME, DOCKER_PASSWORD, KUBECONFIG
    } finally {
      channel.close()
    }
  }

  @Test
  void 'image mode: the secretCredentials variables go in by name, only when secretCredentials is set'() {
    File sock = new File(tmp, 'docker.sock')
    ServerSocketChannel channel = socket(sock)
    try {
      StepCall build = recorded('shopsysBuild', [image: 'acme/b:1', secretCredentials: [APP_DATABASE_PASSWORD: DB_ID]], 'build')
      Map r = execute(build, [DOCKER_HOST: 'unix://' + sock.path])
      assert r.status == 0
      List<String> args = argv('docker')
      List<String> names = []
      for (int i = 0; i < args.size() - 1; i++) {
        if (args[i] == '-e') names.add(args[i + 1])
      }
      assert names == PASSED + ['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'APP_DATABASE_PASSWORD', 'KUBECONFIG']
      // docker copies the value from its own environment into the container
      assert stubEnv('docker').APP_DATABASE_PASSWORD == DB_PASSWORD
      for (String arg in args) {
        assert !arg.contains('=') && !arg.contains('SECRET') && !arg.contains(DB_ID)
      }
      assert !r.stderr.contains('SECRET')

      // not configured: the name is not passed at all
      StepCall plain = recorded('shopsysBuild', [image: 'acme/b:1', secretCredentials: [:]], 'build')
      execute(plain, [DOCKER_HOST: 'unix://' + sock.path])
      assert !argv('docker').contains('APP_DATABASE_PASSWORD')
      assert argv('docker').count('-e') == PASSED.size() + 3   // + DOCKER_USERNAME, DOCKER_PASSWORD, KUBECONFIG
    } finally {
      channel.close()
    }
  }

  @Test
  void 'cli mode: the CLI gets the secretCredentials values from its environment only'() {
    StepCall build = recorded('shopsysBuild', [cli: '"' + bin.path + '/fake cli"', secretCredentials: [APP_DATABASE_PASSWORD: DB_ID]], 'build')
    Map r = execute(build)
    assert r.status == 0
    assert argv('fake cli') == ['build']
    assert stubEnv('fake cli').APP_DATABASE_PASSWORD == DB_PASSWORD
    assert !r.stderr.contains('SECRET')
  }

  @Test
  void 'image mode: gc remote and config expand on the agent'() {
    File sock = new File(tmp, 'docker.sock')
    ServerSocketChannel channel = socket(sock)
    try {
      StepCall gc = recorded('shopsysGc', [image: 'acme/b:1', dockerArgs: '', config: 'ci/x y.yaml',
                                           remote: 'https://git.example.com/acme/shop.git', dryRun: true],
        'gc --dry-run --remote "$SHOPSYS_CI_GC_REMOTE" --config "$SHOPSYS_CI_CONFIG"')
      Map r = execute(gc, [DOCKER_HOST: 'unix://' + sock.path])
      assert r.status == 0
      assert argv('docker')[-8..-1] == ['acme/b:1', 'shopsys-ci', 'gc', '--dry-run',
                                        '--remote', 'https://git.example.com/acme/shop.git', '--config', 'ci/x y.yaml']
      assert !argv('docker').contains('--network')   // dockerArgs: ''
      assert argv('docker').count('-e') == PASSED.size() + 3   // + DOCKER_USERNAME, DOCKER_PASSWORD, KUBECONFIG
    } finally {
      channel.close()
    }
  }

  @Test
  void 'image mode: without a credential the agent user kubeconfig is mounted'() {
    File sock = new File(tmp, 'docker.sock')
    ServerSocketChannel channel = socket(sock)
    try {
      new File(home, '.kube').mkdirs()
      File config = new File(home, '.kube/config')
      config.text = 'apiVersion: v1\n'
      StepCall cleanup = recorded('shopsysCleanup', [image: 'acme/b:1'], 'cleanup')
      Map r = execute(cleanup, [DOCKER_HOST: 'unix://' + sock.path])
      assert r.status == 0
      List<String> args = argv('docker')
      int i = args.indexOf(config.path + ':' + config.path + ':ro')
      assert i > 0 && args[i - 1] == '--volume'
      assert args.indexOf('KUBECONFIG') > 0
      assert stubEnv('docker').KUBECONFIG == config.path

      config.delete()
      execute(cleanup, [DOCKER_HOST: 'unix://' + sock.path])
      assert !argv('docker').any { it.contains('.kube') }
    } finally {
      channel.close()
    }
  }

  @Test
  void 'image mode: a TCP Docker daemon is handed over as DOCKER_HOST'() {
    StepCall build = recorded('shopsysBuild', [image: 'acme/b:1'], 'build')
    Map r = execute(build, [DOCKER_HOST: 'tcp://127.0.0.1:2375'])
    assert r.status == 0
    List<String> args = argv('docker')
    assert !args.contains('--group-add')
    assert !args.any { it.endsWith(':/var/run/docker.sock') }
    assert args[args.indexOf('DOCKER_HOST') - 1] == '-e'
    assert stubEnv('docker').DOCKER_HOST == 'tcp://127.0.0.1:2375'
  }

  @Test
  void 'image mode: no Docker socket is exit 3 with a message'() {
    StepCall build = recorded('shopsysBuild', [image: 'acme/b:1'], 'build')
    Map r = execute(build, [DOCKER_HOST: 'unix://' + tmp.path + '/missing.sock'])
    assert r.status == 3
    assert r.stderr.contains('no Docker socket at ' + tmp.path + '/missing.sock')
    assert argv('docker') == null
  }

  @Test
  void 'the runner resource is valid POSIX sh and bash'() {
    File script = Repo.file('resources/shopsys/ci/run.sh')
    for (String shell in ['/bin/sh', '/bin/bash']) {
      Process p = [shell, '-n', script.path].execute()
      String err = p.errorStream.text
      assert p.waitFor() == 0: shell + ': ' + err
    }
  }
}
