/**
 * The kube commands end to end, as child processes: config file, flags, environment, JSON on
 * stdout, diagnostics on stderr, and the exit codes of DESIGN §6 (0, 6, 7, 9).
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-cli.test.ts
 */
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import test from 'ava'
import YAML from 'yaml'

import {cleanEnv} from '../helpers/cli.js'
import {cleanupNamespace, cleanupProject, deleteSystemNamespace, fixture, FIXTURES, kube, misbehaving, namespaceExists, REPO_ROOT, requireKubeconfig, SYSTEM_NAMESPACE, uniqueProject} from './kube-helpers.js'
import {tempDir} from '../helpers/tmp.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

interface Result {
  code: number
  stdout: string
  stderr: string
}

function cli(workspace: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', path.join(FIXTURES, 'run-cli.ts'), ...args], {
      // tsx is resolved from the working directory; the workspace comes from WORKSPACE.
      cwd: REPO_ROOT,
      env: cleanEnv({
        KUBECONFIG: process.env.KUBECONFIG,
        SHOPSYS_CI_SYSTEM_NAMESPACE: SYSTEM_NAMESPACE,
        WORKSPACE: workspace,
        DEVELOPMENT_SERVER_DOMAIN: 'ci.example.test',
        NGINX_INGRESS_CONTROLLER_HOST_PORT: '8000',
        GIT_COMMIT: 'c0ffee'.padEnd(40, '0'),
        BUILD_TAG: 'jenkins-shop-feature-7',
        BUILD_URL: 'https://jenkins.example.test/job/shop/7/',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
  })
}

function workspace(project: string, manifests: string, extraConfig = ''): string {
  const dir = tempDir('shopsys-ci-kube-cli-')
  mkdirSync(path.join(dir, '.ci'))
  mkdirSync(path.join(dir, '.shopsys-ci'))
  const podDir = tempDir('shopsys-ci-kube-cli-pod-')
  writeFileSync(
    path.join(dir, '.ci/shopsys-ci.yaml'),
    `project: ${project}
deploy:
  timeout: 90s
  ttl: 12h
phases:
  - name: tests
    target: deployment/app
    command: "echo testing; mkdir -p out; echo '<testsuites/>' > out/junit.xml; exit \${TEST_EXIT:-0}"
    workingDir: ${podDir}
    env: {}
    artifacts: [out/junit.xml]
${extraConfig}`,
  )
  writeFileSync(path.join(dir, '.shopsys-ci/manifests.yaml'), manifests)
  return dir
}

test('deploy, status, list, run, logs export, cleanup: exit codes and JSON', async (t) => {
  const project = uniqueProject('cli')
  cleanupProject(t, project)
  const ws = workspace(project, fixture('tiny.yaml'))
  const env = {BRANCH_NAME: 'feature/cli'}

  const deploy = await cli(ws, ['deploy', '--json'], env)
  t.is(deploy.code, 0, deploy.stderr)
  const deployed = JSON.parse(deploy.stdout)
  const namespace: string = deployed.namespace
  t.regex(namespace, new RegExp(`^${project}-feature-cli-[0-9a-z]+$`))
  t.like(deployed, {created: true, keep: false})
  t.regex(deployed.urls.first, /^http:\/\/feature-cli-[0-9a-z]+\.ci\.example\.test:8000$/)
  t.regex(deploy.stderr, /\[rollout\] deployment\/app: 1\/1 ready/, 'human output goes to stderr with --json')

  const status = await cli(ws, ['status'], env)
  t.is(status.code, 0, status.stderr)
  t.regex(status.stdout, /branch: +feature\/cli/)
  t.regex(status.stdout, /owner: +jenkins-shop-feature-7/)
  t.regex(status.stdout, /ok +deployment\/app: 1\/1 ready/)

  const list = await cli(ws, ['list', '--json'])
  t.is(list.code, 0, list.stderr)
  t.like(JSON.parse(list.stdout).environments[0], {namespace, branch: 'feature/cli', workloads: {ready: 1, total: 1}})
  const table = await cli(ws, ['list'])
  t.regex(table.stdout, /^BRANCH +NAMESPACE +COMMIT +AGE +EXPIRES +READY +URL\nfeature\/cli +\S+ +c0ffee000000 /)

  const passed = await cli(ws, ['run', 'tests', '--json'], env)
  t.is(passed.code, 0, passed.stderr)
  t.like(JSON.parse(passed.stdout), {phase: 'tests', exitCode: 0, artifacts: ['shopsys-ci/artifacts/tests/out/junit.xml']})
  t.regex(passed.stderr, /\[tests\] testing/)

  const failed = await cli(ws, ['run', 'tests'], {...env, TEST_EXIT: '5'})
  t.is(failed.code, 7)
  t.regex(failed.stderr, /phase tests failed with exit code 5 \(pod app-/)

  const unknown = await cli(ws, ['run', 'nope'], env)
  t.is(unknown.code, 2)

  const logs = await cli(ws, ['logs:export', '--json'], env)
  t.is(logs.code, 0, logs.stderr)
  t.true(JSON.parse(logs.stdout).files.length >= 1)

  const cleanup = await cli(ws, ['cleanup', '--json'], env)
  t.is(cleanup.code, 0, cleanup.stderr)
  t.like(JSON.parse(cleanup.stdout), {outcome: 'deleted'})
  t.false(await namespaceExists(namespace))
})

test('deploy of a crashing workload: exit 6 with diagnostics on stderr', async (t) => {
  const project = uniqueProject('cli')
  cleanupProject(t, project)
  const ws = workspace(project, misbehaving('image-pull-backoff'))
  const result = await cli(ws, ['deploy'], {BRANCH_NAME: 'broken'})
  t.is(result.code, 6)
  t.regex(result.stderr, /rollout in \S+ failed after/)
  t.regex(result.stderr, /ImagePullBackOff/)
  t.regex(result.stderr, /^deployment\/broken: container app of pod/m)
  t.regex(result.stderr, /pods:\n {4}pod\/broken-/)
})

test('capacity full: exit 9; cleanup of a namespace that is not ours: exit 8 (kube-*: refused as usage, 2)', async (t) => {
  const project = uniqueProject('cli')
  cleanupProject(t, project)
  const ws = workspace(project, fixture('tiny.yaml'), 'capacity:\n  maxEnvironments: 1\n  waitTimeout: 2s\n')
  t.is((await cli(ws, ['deploy'], {BRANCH_NAME: 'first'})).code, 0)
  const second = await cli(ws, ['deploy'], {BRANCH_NAME: 'second'})
  t.is(second.code, 9)
  t.regex(second.stderr, /no capacity slot/)
  const reserved = await cli(ws, ['cleanup', '--namespace', 'kube-system', '--force'], {BRANCH_NAME: 'first'})
  t.is(reserved.code, 2)
  t.true(await namespaceExists('kube-system'))
  const foreign = `${project}-foreign`
  await kube().core.createNamespace({body: {metadata: {name: foreign}}})
  cleanupNamespace(t, foreign)
  const guarded = await cli(ws, ['cleanup', '--namespace', foreign, '--force'], {BRANCH_NAME: 'first'})
  t.is(guarded.code, 8)
  t.regex(guarded.stderr, /refusing to delete: namespace "[^"]+" is not managed/)
  t.true(await namespaceExists(foreign))
  const gc = await cli(ws, ['gc', '--dry-run', '--no-branch-check', '--json'])
  t.is(gc.code, 0, gc.stderr)
  t.like(JSON.parse(gc.stdout).decisions[0], {action: 'keep', branch: 'first'})
})

test('an API server that does not answer: exit 3 naming the server, after retries with one warning each', async (t) => {
  // A port nobody listens on: bind one, then close it.
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const {port: p} = server.address() as net.AddressInfo
      server.close(() => resolve(p))
    })
  })
  const real = readFileSync(process.env.KUBECONFIG!, 'utf8')
  const kubeconfig = path.join(tempDir('shopsys-ci-kube-cli-'), 'config')
  writeFileSync(kubeconfig, real.replace(/server: https:\/\/[^\s]+/g, `server: https://127.0.0.1:${port}`))
  const result = await cli(workspace(uniqueProject('cli'), fixture('tiny.yaml')), ['list'], {KUBECONFIG: kubeconfig})
  t.is(result.code, 3, result.stderr)
  t.regex(result.stderr, new RegExp(`no answer from https://127\\.0\\.0\\.1:${port} \\(listNamespace: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; 5 attempts\\)`))
  t.regex(result.stderr, /\(exit 3, CLUSTER_UNREACHABLE\)/)
  t.is(result.stderr.match(/WARNING: Kubernetes API: listNamespace failed \(ECONNREFUSED\)/g)?.length, 4)
  t.notRegex(result.stderr, /unexpected/i)
})

/** The test stack's kubeconfig with its client certificate replaced by a bearer token. */
function kubeconfigWithToken(token: string): string {
  const real = readFileSync(process.env.KUBECONFIG!, 'utf8')
  const withToken = real.replace(/client-certificate-data: \S+/g, `token: ${token}`).replace(/\n\s*client-key-data: \S+/g, '')
  const kubeconfig = path.join(tempDir('shopsys-ci-kube-cli-'), 'config')
  writeFileSync(kubeconfig, withToken)
  return kubeconfig
}

test('credentials the API server refuses (401): exit 3 naming the server, not an "unexpected error"', async (t) => {
  const kubeconfig = kubeconfigWithToken('not-a-token-the-cluster-issued')
  t.notRegex(readFileSync(kubeconfig, 'utf8'), /client-certificate-data|client-key-data/)
  const result = await cli(workspace(uniqueProject('cli'), fixture('tiny.yaml')), ['list'], {KUBECONFIG: kubeconfig})
  t.is(result.code, 3, result.stderr)
  t.regex(result.stderr, /https:\/\/127\.0\.0\.1:\d+ refused the credentials of the kubeconfig \(context [^)]+\): 401 Unauthorized \(listNamespace\)/)
  t.regex(result.stderr, /\(exit 3, CLUSTER_UNAUTHORIZED\)/)
  t.notRegex(result.stderr, /unexpected|HTTP-Code|Headers/i)
})

test('an account without the rights the tool needs (403): exit 3 with the API\'s own words', async (t) => {
  // A real account of the cluster, with no rights at all: a ServiceAccount and a token for it.
  const k = kube()
  const namespace = `sci-norights-${Math.random().toString(16).slice(2, 8)}`
  await k.core.createNamespace({body: {metadata: {name: namespace}}})
  cleanupNamespace(t, namespace)
  await k.core.createNamespacedServiceAccount({namespace, body: {metadata: {name: 'nobody'}}})
  const {status} = await k.core.createNamespacedServiceAccountToken({namespace, name: 'nobody', body: {spec: {audiences: [], expirationSeconds: 600}}})
  const result = await cli(workspace(uniqueProject('cli'), fixture('tiny.yaml')), ['list'], {KUBECONFIG: kubeconfigWithToken(status!.token)})
  t.is(result.code, 3, result.stderr)
  t.regex(result.stderr, new RegExp(`refused listNamespace: namespaces is forbidden: User "system:serviceaccount:${namespace}:nobody" cannot list resource "namespaces"`))
  t.regex(result.stderr, /\(exit 3, CLUSTER_FORBIDDEN\)/)
  t.notRegex(result.stderr, /unexpected|HTTP-Code|Headers/i)
})

test('an API server whose certificate the kubeconfig does not trust: exit 3 saying so, not "no answer"', async (t) => {
  const real = readFileSync(process.env.KUBECONFIG!, 'utf8')
  t.regex(real, /certificate-authority-data: /)
  const kubeconfig = path.join(tempDir('shopsys-ci-kube-cli-'), 'config')
  writeFileSync(kubeconfig, real.replace(/certificate-authority-data: \S+/g, 'insecure-skip-tls-verify: false'))
  const result = await cli(workspace(uniqueProject('cli'), fixture('tiny.yaml')), ['list'], {KUBECONFIG: kubeconfig})
  t.is(result.code, 3, result.stderr)
  t.regex(result.stderr, /cannot trust https:\/\/127\.0\.0\.1:\d+: its TLS certificate does not verify \(listNamespace: unable to verify the first certificate\)/)
  t.regex(result.stderr, /\(exit 3, CLUSTER_CERTIFICATE\)/)
  t.notRegex(result.stderr, /unexpected|WARNING/i)
})

test('a kubeconfig exec plugin (EKS, GKE, OIDC logins): its credential is used; missing, failing or garbled it is exit 3 naming the plugin', async (t) => {
  const dir = tempDir('shopsys-ci-exec-plugin-')
  const real = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {users: Array<{user: Record<string, string>}>}
  const {'client-certificate-data': cert, 'client-key-data': key} = real.users[0].user
  t.truthy(cert && key, 'the stack kubeconfig has a client certificate')
  // The plugin hands out the stack's own client certificate as an ExecCredential, like a real one hands out a token.
  const credential = JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: {clientCertificateData: Buffer.from(cert, 'base64').toString(), clientKeyData: Buffer.from(key, 'base64').toString()}})
  const plugin = (name: string, body: string) => {
    const file = path.join(dir, name)
    writeFileSync(file, `#!/bin/sh\n${body}\n`)
    chmodSync(file, 0o755)
    return file
  }
  writeFileSync(path.join(dir, 'credential.json'), credential)
  const plugins = {
    good: plugin('good-plugin', `cat '${path.join(dir, 'credential.json')}'`),
    missing: path.join(dir, 'not-installed-plugin'),
    failing: plugin('failing-plugin', 'echo "Error loading SSO Token: Token for my-sso-profile has expired" >&2; exit 255'),
    garbled: plugin('garbled-plugin', 'echo "please log in first"'),
  }
  const kubeconfigWith = (command: string) => {
    const config = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {users: Array<{user: unknown}>}
    config.users[0].user = {exec: {apiVersion: 'client.authentication.k8s.io/v1beta1', command, args: ['eks', 'get-token'], interactiveMode: 'Never'}}
    const file = path.join(dir, `${path.basename(command)}.kubeconfig`)
    writeFileSync(file, YAML.stringify(config), {mode: 0o600})
    return file
  }
  const ws = workspace(uniqueProject('cli'), fixture('tiny.yaml'))
  const good = await cli(ws, ['list', '--json'], {KUBECONFIG: kubeconfigWith(plugins.good)})
  t.is(good.code, 0, good.stderr)
  t.deepEqual(JSON.parse(good.stdout).environments, [])

  const missing = await cli(ws, ['list'], {KUBECONFIG: kubeconfigWith(plugins.missing)})
  t.is(missing.code, 3, missing.stderr)
  t.regex(missing.stderr, new RegExp(`^Error: cannot get credentials for the cluster from the kubeconfig \\(context [^)]+\\): its exec plugin ${plugins.missing}: ${plugins.missing} is not installed on this agent \\(not found on PATH\\)$`, 'm'))
  t.regex(missing.stderr, /\(exit 3, CLUSTER_CREDENTIAL\)/)
  t.notRegex(missing.stderr, /unexpected/i)

  const failing = await cli(ws, ['list'], {KUBECONFIG: kubeconfigWith(plugins.failing)})
  t.is(failing.code, 3, failing.stderr)
  t.regex(failing.stderr, /its exec plugin \S+failing-plugin: it failed:\n {4}Error loading SSO Token: Token for my-sso-profile has expired\n/)
  t.regex(failing.stderr, /renew it as the Jenkins user/)

  const garbled = await cli(ws, ['list'], {KUBECONFIG: kubeconfigWith(plugins.garbled)})
  t.is(garbled.code, 3, garbled.stderr)
  t.regex(garbled.stderr, /its exec plugin \S+garbled-plugin: it printed no valid credential/)

  // A kubeconfig whose client certificate files are not on this agent: named before any request.
  const files = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {users: Array<{user: unknown}>}
  files.users[0].user = {'client-certificate': path.join(dir, 'absent.crt'), 'client-key': path.join(dir, 'absent.key')}
  writeFileSync(path.join(dir, 'files.kubeconfig'), YAML.stringify(files), {mode: 0o600})
  const absent = await cli(ws, ['list'], {KUBECONFIG: path.join(dir, 'files.kubeconfig')})
  t.is(absent.code, 3, absent.stderr)
  t.regex(absent.stderr, new RegExp(`- KUBECONFIG: client-certificate of user \\S+ \\(context [^)]+\\): ${path.join(dir, 'absent.crt')} does not exist`))
  t.regex(absent.stderr, /\(exit 3, ENVIRONMENT\)/)
})
