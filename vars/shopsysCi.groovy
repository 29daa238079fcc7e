/*
 * Helpers shared by the shopsysBuild, shopsysCleanup and shopsysGc steps: configuration checking,
 * the environment handed to the CLI, credentials, and running `shopsys-ci` (directly, or inside the
 * buildpack image). Not a step of its own; `shopsysCi.version()` may be handy in a Jenkinsfile.
 *
 * How a command runs: every `sh` here is the constant text `set -- <arguments>` followed by the
 * library resource shopsys/ci/run.sh. Arguments are constant words or references to variables
 * (`"$SHOPSYS_CI_CONFIG"`); values reach the shell only through withEnv / withCredentials, so Groovy
 * never interpolates a value, let alone a secret, into a command.
 */

/**
 * The version of this library, which is also the version of the `shopsys-kube-ci` npm package it
 * runs by default. test/groovy keeps it equal to package.json's "version".
 */
String version() {
  return '0.1.0'
}

/** The command that runs the CLI when neither `cli` nor `image` is given: the same version, via npx. */
String defaultCli() {
  return 'npx --yes shopsys-kube-ci@' + version()
}

/**
 * Keys every step accepts, with their defaults.
 *
 * cli                      Shell command that runs the CLI on the agent, e.g. '/opt/shopsys-ci/bin/shopsys-ci'.
 *                          Default: `npx --yes shopsys-kube-ci@<this library's version>` (needs Node.js >= 20 and npm).
 * image                    Buildpack image to run the CLI in instead (docker run with the workspace, the
 *                          Docker socket and the kubeconfig mounted; variables passed as `-e NAME`).
 * dockerArgs               Extra `docker run` arguments for `image` mode, split at blanks.
 * config                   Config file (--config); default: the CLI's default, .ci/shopsys-ci.yaml.
 * kubeconfigCredentialsId  Jenkins "Secret file" credential with a kubeconfig, bound to KUBECONFIG.
 *                          Default: none (the agent's KUBECONFIG, ~/.kube/config or in-cluster account).
 * developmentServerDomain  DEVELOPMENT_SERVER_DOMAIN; default: env.DEVELOPMENT_SERVER_DOMAIN.
 * ingressHostPort          NGINX_INGRESS_CONTROLLER_HOST_PORT; default: env.NGINX_INGRESS_CONTROLLER_HOST_PORT.
 * dockerRegistry           DOCKER_REGISTRY; default: env.DOCKER_REGISTRY (the CLI's default: Docker Hub).
 * branch                   BRANCH_NAME; default: env.BRANCH_NAME (multibranch jobs set it).
 * commit                   GIT_COMMIT; default: env.GIT_COMMIT (the CLI falls back to git rev-parse HEAD).
 * environment              More variables for the CLI, [NAME: 'value']; never put secrets here.
 */
Map commonDefaults() {
  return [
    cli: null,
    image: null,
    dockerArgs: '--network host',
    config: null,
    kubeconfigCredentialsId: null,
    developmentServerDomain: null,
    ingressHostPort: null,
    dockerRegistry: null,
    branch: null,
    commit: null,
    environment: [:],
  ]
}

/**
 * Merges the user's map over `defaults` (a new map; neither is changed) after checking it:
 * an unknown key is an error that names it and lists the known ones; a key whose default is a
 * Boolean takes true, false or null (null: the default's falsy meaning, e.g. an unset parameter).
 */
Map configure(String step, Map defaults, Map userConfig) {
  Map user = userConfig ?: [:]
  List<String> unknown = []
  for (Object key in user.keySet()) {
    if (!defaults.containsKey(key)) {
      unknown.add(String.valueOf(key))
    }
  }
  if (unknown) {
    error(step + ': unknown configuration key' + (unknown.size() > 1 ? 's ' : ' ') + unknown.join(', ') +
      '. Known keys: ' + defaults.keySet().join(', '))
  }
  // branch: params.BRANCH of a job run without the parameter is empty; falling back to BRANCH_NAME
  // (or the job's name) would act on another environment than the one meant.
  if (user.containsKey('branch') && !String.valueOf(user.branch ?: '').trim()) {
    error(step + ': branch is empty (a job parameter left blank?): give the branch whose environment is meant, or leave the key out to use BRANCH_NAME')
  }
  // A flag given as a String would be true even when it says 'false': only true, false or null.
  // (Steps are called after the loops, never inside: an iterator is no state to keep across a step.)
  List<String> notFlags = []
  for (Object key in defaults.keySet()) {
    Object value = user[key]
    if (defaults[key] instanceof Boolean && value != null && !(value instanceof Boolean)) {
      notFlags.add(key + ' must be true or false, not \'' + value + '\'')
    }
  }
  if (notFlags) {
    error(step + ': ' + notFlags.join('; '))
  }
  Map config = [:]
  config.putAll(defaults)
  config.putAll(user)
  if (config.cli && config.image) {
    error(step + ': give either cli or image, not both')
  }
  if (!(config.environment instanceof Map)) {
    error(step + ': environment must be a map of variable names to values, e.g. [APP_ENV: \'ci\']')
  }
  List<String> badNames = []
  for (Object name in config.environment.keySet()) {
    if (!isVariableName(String.valueOf(name))) {
      badNames.add(String.valueOf(name))
    }
  }
  if (badNames) {
    error(step + ': environment: invalid variable name' + (badNames.size() > 1 ? 's ' : ' ') + badNames.join(', '))
  }
  if (defaults.containsKey('secretCredentials')) {
    checkSecretCredentials(step, config)
  }
  return config
}

/** A name the shell and `withEnv` accept as an environment variable's. */
boolean isVariableName(String name) {
  return name ==~ /[A-Za-z_][A-Za-z0-9_]*/
}

/**
 * Checks `secretCredentials` (shopsysBuild's, and shopsysCleanup's that accepts the same map): a map of
 * variable names to IDs of "Secret text" credentials. A name must not be one the step sets otherwise
 * (a key of `environment`, or a variable of the library: a secret would silently replace it).
 * The error names variables and never shows an ID.
 */
def checkSecretCredentials(String step, Map config) {
  Object secrets = config.secretCredentials
  if (secrets == null) {
    return
  }
  if (!(secrets instanceof Map)) {
    error(step + ': secretCredentials must be a map of variable names to IDs of "Secret text" credentials, ' +
      'e.g. [APP_DATABASE_PASSWORD: \'review-db-password\']')
  }
  Set<String> library = libraryVariableNames(config)
  List<String> badNames = []
  List<String> noIds = []
  List<String> inEnvironment = []
  List<String> libraryNames = []
  for (Object key in secrets.keySet()) {
    String name = String.valueOf(key)
    Object id = secrets[key]
    if (!isVariableName(name)) {
      badNames.add(name)
    }
    if (!(id instanceof CharSequence) || !String.valueOf(id).trim()) {
      noIds.add(name)
    }
    if (config.environment.containsKey(name)) {
      inEnvironment.add(name)
    }
    if (library.contains(name)) {
      libraryNames.add(name)
    }
  }
  List<String> problems = []
  if (badNames) {
    problems.add('invalid variable name' + (badNames.size() > 1 ? 's ' : ' ') + badNames.join(', '))
  }
  if (noIds) {
    problems.add('no credentials ID (a non-empty String) for ' + noIds.join(', '))
  }
  if (inEnvironment) {
    problems.add('also set by environment: ' + inEnvironment.join(', '))
  }
  if (libraryNames) {
    problems.add('set by the library itself: ' + libraryNames.join(', '))
  }
  if (problems) {
    error(step + ': secretCredentials: ' + problems.join('; '))
  }
}

/** Variables the library sets itself: the CLI's, the credentials' and the runner's (run.sh). */
Set<String> libraryVariableNames(Map config) {
  Set<String> names = new LinkedHashSet<String>()
  Map fixed = [:]
  fixed.putAll(config)
  fixed.environment = [:]
  names.addAll(cliVariables(fixed).keySet())
  names.addAll(['DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD', 'KUBECONFIG'])
  names.addAll(['SHOPSYS_CI_CLI', 'SHOPSYS_CI_IMAGE', 'SHOPSYS_CI_DOCKER_ARGS', 'SHOPSYS_CI_ENV_NAMES', 'SHOPSYS_CI_CONFIG'])
  return names
}

/** The variables the CLI reads, NAME -> value (null: not set). Config keys win over the job's env. */
Map cliVariables(Map config) {
  Map vars = [
    WORKSPACE: env.WORKSPACE,
    DEVELOPMENT_SERVER_DOMAIN: config.developmentServerDomain ?: env.DEVELOPMENT_SERVER_DOMAIN,
    GIT_COMMIT: config.commit ?: env.GIT_COMMIT,
    BRANCH_NAME: config.branch ?: env.BRANCH_NAME,
    JOB_NAME: env.JOB_NAME,
    NGINX_INGRESS_CONTROLLER_HOST_PORT: config.ingressHostPort ?: env.NGINX_INGRESS_CONTROLLER_HOST_PORT,
    DOCKER_REGISTRY: config.dockerRegistry ?: env.DOCKER_REGISTRY,
    BUILD_URL: env.BUILD_URL,
    BUILD_TAG: env.BUILD_TAG,
  ]
  for (Object name in config.environment.keySet()) {
    Object value = config.environment[name]
    vars[String.valueOf(name)] = value == null ? null : String.valueOf(value)
  }
  return vars
}

/**
 * Names handed into the buildpack container with `-e NAME`: the CLI's variables and the credentials
 * (the pull credential's only when `pullCredentialsId` is configured, the secret texts' of
 * `secretCredentials` when given; shopsysGc has neither key). Names only, never values.
 */
List<String> containerVariableNames(Map config) {
  List<String> names = []
  names.addAll(cliVariables(config).keySet())
  names.addAll(['DOCKER_USERNAME', 'DOCKER_PASSWORD'])
  if (config.pullCredentialsId) {
    names.addAll(['DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD'])
  }
  Map secrets = config.secretCredentials ?: [:]
  for (Object name in secrets.keySet()) {
    names.add(String.valueOf(name))
  }
  return names
}

/**
 * Runs `body` with the CLI's variables and the runner's settings in the environment.
 * `extra` adds variables the arguments refer to (e.g. SHOPSYS_CI_GC_REMOTE); pass [:] for none.
 */
def withCliEnvironment(Map config, Map extra, Closure body) {
  List<String> vars = []
  Map cli = cliVariables(config)
  for (Object name in cli.keySet()) {
    if (cli[name] != null) {
      vars.add(name + '=' + cli[name])
    }
  }
  vars.add('SHOPSYS_CI_CLI=' + (config.cli ?: defaultCli()))
  if (config.image) {
    vars.add('SHOPSYS_CI_IMAGE=' + config.image)
    vars.add('SHOPSYS_CI_DOCKER_ARGS=' + (config.dockerArgs ?: ''))
    vars.add('SHOPSYS_CI_ENV_NAMES=' + containerVariableNames(config).join(' '))
  }
  if (config.config) {
    vars.add('SHOPSYS_CI_CONFIG=' + config.config)
  }
  for (Object name in extra.keySet()) {
    if (extra[name] != null) {
      vars.add(name + '=' + extra[name])
    }
  }
  return withEnv(vars) {
    body()
  }
}

/** Binds the kubeconfig file credential to KUBECONFIG around `body`, when one is configured. */
def withKubeconfig(Map config, Closure body) {
  if (!config.kubeconfigCredentialsId) {
    return body()
  }
  return withCredentials([file(credentialsId: config.kubeconfigCredentialsId, variable: 'KUBECONFIG')]) {
    body()
  }
}

/** Binds the registry credential to DOCKER_USERNAME / DOCKER_PASSWORD around `body`, when one is configured. */
def withRegistry(Map config, Closure body) {
  return withUsernamePassword(config.registryCredentialsId, 'DOCKER_USERNAME', 'DOCKER_PASSWORD', body)
}

/**
 * Binds the pull credential (the image pull secret of deploy.imagePullSecret) to DOCKER_PULL_USERNAME /
 * DOCKER_PULL_PASSWORD around `body`, when one is configured.
 */
def withPullCredentials(Map config, Closure body) {
  return withUsernamePassword(config.pullCredentialsId, 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD', body)
}

/**
 * Binds the "Secret text" credentials of `secretCredentials` (variable name -> credentials ID), all in
 * one withCredentials, around `body`; none configured: just `body`. The CLI reads the variables that
 * the app's config names under deploy.secrets.
 */
def withSecretCredentials(Map config, Closure body) {
  Map secrets = config.secretCredentials ?: [:]
  List<Object> names = []
  names.addAll(secrets.keySet())
  if (!names) {
    return body()
  }
  // An index loop over a list: no iterator of the map is held while `string` is called.
  List bindings = []
  for (int i = 0; i < names.size(); i++) {
    bindings.add(string(credentialsId: String.valueOf(secrets[names[i]]), variable: String.valueOf(names[i])))
  }
  return withCredentials(bindings) {
    body()
  }
}

/** A "Username with password" credential bound to two variables around `body`; no id: just `body`. */
def withUsernamePassword(Object credentialsId, String usernameVariable, String passwordVariable, Closure body) {
  if (!credentialsId) {
    return body()
  }
  return withCredentials([usernamePassword(credentialsId: credentialsId,
      usernameVariable: usernameVariable, passwordVariable: passwordVariable)]) {
    body()
  }
}

/** Arguments every command gets: `--config` when the config names a file. */
List<String> globalArguments(Map config) {
  return config.config ? ['--config', '"$SHOPSYS_CI_CONFIG"'] : []
}

/**
 * The shell script that runs `shopsys-ci <words>`. Each word is a constant or a quoted reference
 * to a variable set with withCliEnvironment; never a value.
 */
String shellScript(List<String> words) {
  return 'set -- ' + words.join(' ') + '\n' + libraryResource('shopsys/ci/run.sh')
}

/** The label of the `sh` step in the build's views: the command and its flags, no variables. */
String stepLabel(List<String> words) {
  List<String> shown = ['shopsys-ci']
  for (String word in words) {
    if (!word.contains('$')) {
      shown.add(word)
    }
  }
  return shown.join(' ')
}

/** Runs `shopsys-ci <words>` and returns its exit code. */
int runCli(Map config, List<String> words) {
  List<String> all = []
  all.addAll(words)
  all.addAll(globalArguments(config))
  return sh(script: shellScript(all), returnStatus: true, label: stepLabel(words)) as int
}

/** Runs `shopsys-ci <words>` and returns what it printed; a non-zero exit fails like any `sh`. */
String cliOutput(Map config, List<String> words) {
  List<String> all = []
  all.addAll(words)
  all.addAll(globalArguments(config))
  return sh(script: shellScript(all), returnStdout: true, label: stepLabel(words))
}

/** What an exit code of the CLI means (the table of `shopsys-ci --help` and docs/troubleshooting.md). */
String exitCodeMeaning(int code) {
  Map meanings = [
    1: 'unexpected error (a bug: please report it with the build log)',
    2: 'usage or configuration error',
    3: 'environment: a required variable or tool is missing',
    4: 'image build failed',
    5: 'registry: login, lookup or push failed',
    6: 'deploy or rollout failed',
    7: 'a phase (tests, checks) failed',
    8: 'cleanup failed',
    9: 'timed out waiting for the branch lock or a capacity slot',
    130: 'interrupted (SIGTERM: the build was aborted or timed out; SIGINT): the CLI released its locks and said what is left',
    // from the shell, not the CLI
    126: 'the CLI command cannot be executed (check `cli:`)',
    127: 'the CLI command was not found (Node.js >= 20 and npm on the agent, or `cli:` / `image:`)',
    137: 'killed (SIGKILL: out of memory, or an abort that did not stop in time)',
    143: 'terminated (SIGTERM: the build was aborted or timed out)',
  ]
  return meanings[code] ?: 'the command failed'
}

/** The message a step fails with when `shopsys-ci <command>` exits with `code`. */
String failureMessage(String command, int code) {
  return 'shopsys-ci ' + command + ' failed with exit code ' + code + ': ' + exitCodeMeaning(code) +
    '. The CLI\'s messages above say what to do; see also docs/troubleshooting.md of shopsys-kube-ci.'
}
