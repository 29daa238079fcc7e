import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.runtime.InvokerHelper

/**
 * A small stand-in for a Jenkins pipeline run: loads vars/*.groovy as scripts bound to recording
 * pipeline steps, and checks the rules about secrets on every call:
 *   - a value of a bound credential never appears in any step's arguments;
 *   - while credentials are bound, `sh` gets a String (a single-quoted literal), never a GString.
 */
class PipelineHarness {
  /** Values of the fake credentials; chosen so they cannot appear by accident. */
  static final String REGISTRY_USER = 'u-SECRET-robot'
  static final String REGISTRY_PASSWORD = 'p-SECRET-"$(x)\'pw'
  static final String KUBECONFIG_PATH = '/agent/workspace/shop@tmp/secretFiles/SECRET-0f3c/kubeconfig'

  private static final Map<String, Class> compiled = [:]

  final Binding binding = new Binding()
  final Env env = new Env()
  final BuildStub currentBuild = new BuildStub()
  final Map<String, Object> params = [:]
  final Map<String, Closure> steps = [:]
  final Map<String, Script> vars = [:]
  final List<StepCall> calls = []
  final List<String> violations = []
  final List<String> blocks = []
  /** credentialsId -> [username:, password:], [path:] ("Secret file") or [secret:] ("Secret text"). */
  final Map<String, Map<String, String>> credentials = [
    'docker-registry': [username: REGISTRY_USER, password: REGISTRY_PASSWORD],
    'ci-kubeconfig': [path: KUBECONFIG_PATH],
  ]
  /** Stack of bound credentials: [name: variable, value: value]. */
  final List<Map<String, String>> bound = []
  /**
   * Answers `sh`: gets the StepCall, returns an exit code (Integer), the output (String, exit 0),
   * a Map [status:, stdout:], or throws (e.g. an InterruptedException for an abort).
   */
  Closure shResponder = { StepCall call -> 0 }
  /** Answers `fileExists`. */
  Closure fileExistsResponder = { String path -> false }

  static PipelineHarness create() {
    PipelineHarness h = new PipelineHarness()
    h.loadVars()
    return h
  }

  PipelineHarness() {
    env.putAll([
      WORKSPACE: '/agent/workspace/shop_feature-x',
      JOB_NAME: 'shop/feature%2Fx',
      BRANCH_NAME: 'feature/x',
      GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
      BUILD_URL: 'https://jenkins.example.com/job/shop/job/feature%252Fx/7/',
      BUILD_TAG: 'jenkins-shop-feature%2Fx-7',
      DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com',
      NGINX_INGRESS_CONTROLLER_HOST_PORT: '8000',
    ])
    binding.setVariable('__harness', this)
    binding.setVariable('env', env)
    binding.setVariable('currentBuild', currentBuild)
    binding.setVariable('params', params)
    registerSteps()
  }

  /** Compiles (once per JVM) and instantiates every vars/*.groovy, bound as global variables. */
  void loadVars() {
    File dir = Repo.file('vars')
    for (File f in dir.listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }) {
      String name = f.name - '.groovy'
      Script script = InvokerHelper.createScript(compile(f), binding)
      vars[name] = script
      binding.setVariable(name, script)
    }
  }

  static synchronized Class compile(File f) {
    String key = f.canonicalPath
    if (!compiled.containsKey(key)) {
      CompilerConfiguration cc = new CompilerConfiguration()
      cc.scriptBaseClass = PipelineScript.name
      GroovyShell shell = new GroovyShell(PipelineHarness.classLoader, new Binding(), cc)
      compiled[key] = shell.parse(f).getClass()
    }
    return compiled[key]
  }

  /** Runs a step of the library as a Jenkinsfile would: `run('shopsysBuild', [keep: true])`. */
  Object run(String varName, Map config) {
    return vars[varName].invokeMethod('call', [config] as Object[])
  }

  Object run(String varName) {
    return vars[varName].invokeMethod('call', [] as Object[])
  }

  // --- recording -----------------------------------------------------------------------------

  Object callStep(String name, Object[] argv) {
    List<Object> args = argv.toList()
    Closure body = args && args[-1] instanceof Closure ? (Closure) args.remove(args.size() - 1) : null
    Map named = args && args[0] instanceof Map ? (Map) args[0] : [:]
    StepCall call = new StepCall(name: name, args: args, named: named, env: env.snapshot(),
      secrets: bound.collect { it.name }, blocks: new ArrayList<String>(blocks))
    calls.add(call)
    checkSecrets(call)
    if (body == null) {
      return steps[name].call(call)
    }
    blocks.add(name)
    try {
      return steps[name].call(call, body)
    } finally {
      blocks.remove(blocks.size() - 1)
    }
  }

  private void checkSecrets(StepCall call) {
    List<String> secretValues = []
    for (Map<String, String> c in credentials.values()) {
      secretValues.addAll(c.values())
    }
    for (String text in strings(call.args)) {
      for (String secret in secretValues) {
        if (text.contains(secret)) {
          violations.add("secret value appears in the arguments of ${call.name}: ${call}")
        }
      }
    }
    if (call.name == 'sh' && bound && call.script instanceof GString) {
      violations.add("sh got a GString while ${call.secrets} were bound: ${call.script}")
    }
  }

  private static List<String> strings(Object value) {
    List<String> out = []
    if (value instanceof CharSequence) {
      out.add(value.toString())
    } else if (value instanceof Map) {
      for (Object v in ((Map) value).values()) out.addAll(strings(v))
      for (Object k in ((Map) value).keySet()) out.addAll(strings(k))
    } else if (value instanceof Collection || value instanceof Object[]) {
      for (Object v in value) out.addAll(strings(v))
    }
    return out
  }

  // --- steps ---------------------------------------------------------------------------------

  private void registerSteps() {
    steps.sh = { StepCall call ->
      Object answer = shResponder.call(call)
      int status = 0
      String stdout = ''
      if (answer instanceof Map) {
        status = (answer.status ?: 0) as int
        stdout = answer.stdout ?: ''
      } else if (answer instanceof Number) {
        status = answer as int
      } else if (answer instanceof CharSequence) {
        stdout = answer.toString()
      }
      if (call.named.returnStatus) {
        return status
      }
      if (status != 0) {
        throw new hudson.AbortException("script returned exit code ${status}")
      }
      return call.named.returnStdout ? stdout : null
    }
    steps.echo = { StepCall call -> null }
    steps.error = { StepCall call -> throw new hudson.AbortException(String.valueOf(call.args[0])) }
    steps.unstable = { StepCall call -> currentBuild.result = 'UNSTABLE'; null }
    steps.isUnix = { StepCall call -> true }
    steps.archiveArtifacts = { StepCall call -> null }
    steps.junit = { StepCall call -> null }
    steps.writeFile = { StepCall call -> null }
    steps.readFile = { StepCall call -> '' }
    steps.fileExists = { StepCall call -> fileExistsResponder.call(String.valueOf(call.args[0])) }
    steps.libraryResource = { StepCall call ->
      String path = call.named.resource ?: call.args[0]
      File f = Repo.file('resources/' + path)
      if (!f.isFile()) {
        throw new hudson.AbortException("No such library resource ${path} could be found.")
      }
      return f.getText('UTF-8')
    }
    steps.usernamePassword = { StepCall call -> [$class: 'UsernamePasswordMultiBinding'] + call.named }
    steps.file = { StepCall call -> [$class: 'FileBinding'] + call.named }
    steps.string = { StepCall call -> [$class: 'StringBinding'] + call.named }
    steps.stage = { StepCall call, Closure body -> body.call() }
    steps.dir = { StepCall call, Closure body -> body.call() }
    steps.timeout = { StepCall call, Closure body -> body.call() }
    steps.withEnv = { StepCall call, Closure body ->
      Map<String, String> layer = [:]
      for (Object item in (List) call.args[0]) {
        String s = String.valueOf(item)
        int eq = s.indexOf('=')
        if (eq <= 0) {
          throw new IllegalArgumentException("withEnv: not NAME=value: ${s}")
        }
        layer[s.substring(0, eq)] = s.substring(eq + 1)
      }
      env.push(layer)
      try {
        return body.call()
      } finally {
        env.pop()
      }
    }
    steps.withCredentials = { StepCall call, Closure body ->
      Map<String, String> layer = [:]
      List<Map<String, String>> added = []
      for (Map binding in (List<Map>) call.args[0]) {
        Map<String, String> stored = credentials[binding.credentialsId]
        if (stored == null) {
          throw new hudson.AbortException("Could not find credentials entry with ID '${binding.credentialsId}'")
        }
        if (binding.$class == 'UsernamePasswordMultiBinding') {
          layer[binding.usernameVariable] = stored.username
          layer[binding.passwordVariable] = stored.password
          added.add([name: binding.usernameVariable, value: stored.username])
          added.add([name: binding.passwordVariable, value: stored.password])
        } else if (binding.$class == 'FileBinding') {
          layer[binding.variable] = stored.path
          added.add([name: binding.variable, value: stored.path])
        } else if (binding.$class == 'StringBinding') {
          layer[binding.variable] = stored.secret
          added.add([name: binding.variable, value: stored.secret])
        } else {
          throw new IllegalArgumentException("withCredentials: unknown binding ${binding}")
        }
      }
      env.push(layer)
      bound.addAll(added)
      try {
        return body.call()
      } finally {
        env.pop()
        for (int i = 0; i < added.size(); i++) {
          bound.remove(bound.size() - 1)
        }
      }
    }
  }

  // --- queries for the tests -----------------------------------------------------------------

  List<StepCall> calls(String name) {
    return calls.findAll { it.name == name }
  }

  /** The `sh` calls of the library, as their shopsys-ci arguments: ['names --urls', 'build', ...]. */
  List<String> cliCalls() {
    return calls('sh').collect { it.cli }
  }

  StepCall cliCall(String cli) {
    List<StepCall> found = calls('sh').findAll { it.cli == cli }
    assert found.size() == 1: "expected one sh of `${cli}`, got ${cliCalls()}"
    return found[0]
  }

  /** Step names in order, without the credential descriptors and echo. */
  List<String> trace() {
    return calls.findAll { !(it.name in ['usernamePassword', 'file', 'string', 'echo', 'libraryResource']) }.collect {
      it.name == 'sh' ? 'sh ' + it.cli : it.name
    }
  }

  List<String> echoes() {
    return calls('echo').collect { String.valueOf(it.args[0]) }
  }

  /** The exact script the library passes to `sh` for `shopsys-ci <cli>`. */
  static String expectedScript(String cli) {
    return 'set -- ' + cli + '\n' + Repo.text('resources/shopsys/ci/run.sh')
  }
}
