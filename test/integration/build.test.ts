/**
 * The whole `shopsys-ci build` of the example app against the real stack: images built and pushed to
 * the registry, manifests rendered with real kustomize, deployed into the branch's namespace on kwok
 * nodes, the checks phase exec'd, logs exported, and the namespace deleted.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {copyFile, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'

import test from 'ava'
import YAML from 'yaml'

import {cleanEnv, copyExample, processes, REPO_ROOT, runCli, startCli} from '../helpers/cli.js'
import {kube, requireStackEnv, run, uniqueName, waitFor, waitForNamespaceGone} from '../helpers/stack.js'
import {tempDir} from '../helpers/tmp.js'

const stack = requireStackEnv()
const {core, kc} = kube()

async function workspace(): Promise<string> {
  const ws = await copyExample()
  await copyFile('/bin/busybox', path.join(ws, 'docker/busybox'))
  await copyFile('/bin/busybox', path.join(ws, 'docker/elasticsearch/busybox'))
  await commit(ws)
  return ws
}

async function commit(ws: string): Promise<string> {
  const git = (...args: string[]) => run('git', ['-C', ws, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args])
  if ((await readdir(ws)).includes('.git') === false) await git('init', '-q')
  await git('add', '-A')
  await git('commit', '-qm', 'test', '--allow-empty')
  return (await git('rev-parse', 'HEAD')).stdout.trim()
}

function buildEnv(ws: string, branch: string): Record<string, string> {
  return {
    WORKSPACE: ws,
    BRANCH_NAME: branch,
    DEVELOPMENT_SERVER_DOMAIN: 'shopsys.test',
    NGINX_INGRESS_CONTROLLER_HOST_PORT: '8000',
    DOCKER_REGISTRY: stack.registry,
    DOCKER_USERNAME: stack.user,
    DOCKER_PASSWORD: stack.password,
    KUBECONFIG: stack.kubeconfig,
    BUILD_TAG: uniqueName('jenkins-build'),
    APP_ROOT: path.join(ws, 'app'),
    ...(process.env.DOCKER_HOST ? {DOCKER_HOST: process.env.DOCKER_HOST} : {}),
  }
}

async function namespaceExists(name: string): Promise<boolean> {
  try {
    await core.readNamespace({name})
    return true
  } catch {
    return false
  }
}

test.serial('build --cleanup of the example: images, render, deploy, phase, logs, cleanup, and no namespace left', async (t) => {
  const ws = await workspace()
  const branch = `it/${uniqueName('build')}`
  // A cache directory of this test's own: the first build stores kustomize's output, the second reuses it.
  const cacheHome = tempDir('shopsys-ci-cache-home-')
  const env = {...buildEnv(ws, branch), XDG_CACHE_HOME: cacheHome}
  const first = await runCli(['build', '--cleanup'], {env})
  t.is(first.exitCode, 0, first.stderr + first.stdout.slice(-3000))
  const report = JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8'))
  t.is(report.result, 'success')
  t.deepEqual(report.stages.map((s: {name: string}) => s.name), ['check', 'images', 'render', 'deploy', 'phase checks', 'logs', 'cleanup'])
  t.is(report.images.length, 2)
  t.true(report.images.every((i: {digest?: string}) => /^sha256:/.test(i.digest ?? '')))
  t.is(report.phases[0].exitCode, 0)
  t.regex(await readFile(path.join(ws, 'shopsys-ci/artifacts/checks/build/junit.xml'), 'utf8').catch(() => readFile(path.join(ws, 'shopsys-ci/artifacts/checks/junit.xml'), 'utf8')), /<testsuite name="checks-ci" tests="2"/)
  const logPods = await readdir(path.join(ws, 'shopsys-ci/logs'))
  t.true(logPods.some((p) => p.startsWith('webserver-php-fpm-')), logPods.join(' '))
  t.is(report.cleanup.outcome, 'deleted')
  t.false(await namespaceExists(report.namespace), 'the namespace is gone')
  t.regex(first.stdout, /=== shopsys-ci build SUCCEEDED/)
  // The check stage asked the cluster for the 8 rights (phases, --cleanup) before building anything.
  t.regex(first.stdout, new RegExp(`^cluster ${kc.getCurrentCluster()!.server.replaceAll('.', '\\.')} \\(context [^)]+\\): the account has the 8 rights the build needs$`, 'm'))
  t.regex(first.stdout, /phase +checks: exit 0, 1 artifact\(s\), 2 tests$/m, 'the JUnit totals are in the summary')
  t.notRegex(first.stdout + first.stderr, /leads nowhere/, 'every URL of the example is routed by its Ingresses')
  t.regex(first.stdout, /first +http:\/\/it-build-[a-z0-9-]+\.shopsys\.test:8000/)
  t.false(first.stdout.includes(stack.password) || first.stderr.includes(stack.password), 'the registry password never appears in the output')
  t.false((await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8')).includes(stack.password))

  // The same commit again, with the compiled CLI as installed (the esbuild bundle in dist: the CLI
  // and the Kubernetes client, two CommonJS files): every image is reused, nothing is built, Node
  // prints no warnings. Both files' compiled code is cached in a fresh cache directory at exit.
  // kustomize's output and objects come from the first build's cache entry, and deploy as well.
  const compiledEnv = {...env, DEBUG: 'shopsys-ci:kube,shopsys-ci:compile-cache'}
  const second = await runCli(['build', '--cleanup', '--json'], {env: compiledEnv, compiled: true})
  t.is(second.exitCode, 0, second.stderr.slice(-3000))
  t.regex(second.stderr, /loading the bundled @kubernetes\/client-node/)
  t.regex(second.stderr, /cli\.cjs: compile cache miss/)
  t.regex(second.stderr, /kube-client\.cjs: compile cache miss/)
  t.deepEqual((await readdir(path.join(cacheHome, 'shopsys-ci/v8'))).map((f) => f.replace(/-[0-9a-f]{32}\.v8$/, '')).sort(), ['cli.cjs', 'kube-client.cjs'])
  t.notRegex(second.stderr, /Warning/)
  const again = JSON.parse(second.stdout)
  t.deepEqual(again.images.map((i: {status: string}) => i.status), ['reused', 'reused'])
  t.is(again.cleanup.outcome, 'deleted')
  t.notRegex(second.stderr, /Step \d+\/\d+/, 'no docker build ran')
  t.regex(second.stderr, /kustomize: output reused from the agent's cache \(none of its \d+ input files changed\)/)
  t.is(again.result, 'success')
  t.deepEqual(again.phases.map((p: {exitCode: number}) => p.exitCode), [0])
  // The next command that talks to the cluster compiles both from that cache.
  const listed = await runCli(['list', '--json'], {env: compiledEnv, compiled: true})
  t.is(listed.exitCode, 0, listed.stderr)
  t.regex(listed.stderr, /cli\.cjs: compile cache hit/)
  t.regex(listed.stderr, /kube-client\.cjs: compile cache hit/)
  t.true(Array.isArray(JSON.parse(listed.stdout).environments))
})

test.serial('a failing phase exits 7, and the logs are still exported and the namespace deleted', async (t) => {
  const ws = await workspace()
  await writeFile(path.join(ws, 'app/tests/failing.sh'), '#!/bin/sh\necho "not ok - the cart is empty" >&2\nexit 3\n')
  await commit(ws)
  const env = buildEnv(ws, `it/${uniqueName('phase-fails')}`)
  const result = await runCli(['build', '--cleanup'], {env})
  t.is(result.exitCode, 7, result.stdout.slice(-2000))
  t.regex(result.stdout, /not ok - the cart is empty/, 'the phase output is streamed')
  t.regex(result.stderr, /phase checks/)
  const report = JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8'))
  t.is(report.exitCode, 7)
  t.is(report.error.stage, 'phase checks')
  // The failed phase is in the report too, with its exit code and whatever artifacts it left.
  t.like(report.phases[0], {phase: 'checks', exitCode: 3, artifactsDir: 'shopsys-ci/artifacts/checks'})
  t.regex(result.stdout, /phase +checks: exit 3, \d+ artifact\(s\)/)
  t.true((await readdir(path.join(ws, 'shopsys-ci/logs'))).length > 0)
  t.false(await namespaceExists(report.namespace))
})

test.serial('SIGTERM while waiting for the rollout: the build stops, exports the logs and still deletes the namespace', async (t) => {
  const ws = await workspace()
  // redis never becomes ready (a kwok stage of the test stack).
  const redis = path.join(ws, 'kubernetes/base/redis.yaml')
  await writeFile(redis, (await readFile(redis, 'utf8')).replace('      labels: {app: redis}\n    spec:', '      labels: {app: redis}\n      annotations: {shopsys-ci.test/behavior: unready}\n    spec:'))
  await commit(ws)
  const env = buildEnv(ws, `it/${uniqueName('sigterm')}`)
  const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', path.join(REPO_ROOT, 'bin/dev.js'), 'build', '--cleanup'], {cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  let signalled = false
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exitCode = await new Promise<number>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (!signalled && /waiting for \d+ workload/.test(stdout)) {
        signalled = true
        setTimeout(() => child.kill('SIGTERM'), 500)
      }
    })
    child.on('close', (code) => resolve(code ?? -1))
  })
  t.true(signalled, `${stdout.slice(-2000)}\n${stderr.slice(-2000)}`)
  t.is(exitCode, 130, stderr.slice(-2000))
  t.regex(stderr, /SIGTERM received: stopping; logs and cleanup still run/)
  // One line: where the build was, what it released, what it still did.
  t.regex(stderr, /^Error: deploy: build of it\/sigterm-\S+: interrupted by SIGTERM while waiting for the rollout \(after [^)]+\); released the branch lock; exported the logs into shopsys-ci\/logs; namespace \S+ deleted\n\(exit 130, INTERRUPTED\)$/m)
  const report = JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8'))
  t.is(report.result, 'failure')
  t.is(report.exitCode, 130)
  t.is(report.cleanup?.outcome, 'deleted', stdout.slice(-2000))
  t.true((await readdir(path.join(ws, 'shopsys-ci/logs'))).length > 0)
  await waitForNamespaceGone(core, report.namespace, {timeoutMs: 5_000}).catch(() => undefined)
  t.false(await namespaceExists(report.namespace))
})

test.serial('SIGTERM in the images stage: docker stopped, the DOCKER_CONFIG deleted, nothing deployed, exit 130 with one line naming what finished', async (t) => {
  const ws = await workspace()
  const tmp = tempDir('shopsys-ci-h17-tmp-')
  t.teardown(() => rm(tmp, {recursive: true, force: true}))
  // A php-fpm step that runs until it is stopped; its shell's command line carries the marker.
  // (The images keep the example's names: its templates use them; the tags are this run's.)
  const [php, es, marker] = ['php-fpm', 'elasticsearch', `h17-marker-${randomBytes(4).toString('hex')}`]
  const dockerfile = path.join(ws, 'docker/php-fpm/Dockerfile')
  await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace('FROM base AS ci\n', `FROM base AS ci\nRUN ["/bin/sh", "-c", "echo slow-step; sleep 3600; echo never", "${marker}"]\n`))
  const commitId = await commit(ws)
  const branch = `it/${uniqueName('h17-images-sigterm')}`
  const slowStepRuns = () => processes().some((p) => p.cmdline.includes(marker))
  const cli = startCli(['build', '--cleanup'], {env: {...buildEnv(ws, branch), TMPDIR: tmp}})
  await cli.waitFor(new RegExp(`^\\[${php}\\] slow-step$`, 'm'))
  await cli.waitFor(new RegExp(`^\\[${es}\\] (pushed|reused) `, 'm'))
  t.true(slowStepRuns())
  const dockerConfigs = () => readdirSync(tmp).filter((n) => n.startsWith('shopsys-ci-docker-'))
  t.is(dockerConfigs().length, 1, 'logged in: the temporary DOCKER_CONFIG exists')

  cli.kill('SIGTERM')
  t.is(await cli.exited, 130, cli.stderr.slice(-3000))
  t.regex(cli.stderr, /^WARNING: SIGTERM received: stopping; logs and cleanup still run \(send it again to exit at once\)$/m)
  t.regex(
    cli.stderr,
    new RegExp(
      `^Error: images: build of ${branch}: interrupted by SIGTERM while images: building ${php}; stopped its docker commands and deleted the temporary DOCKER_CONFIG \\(the registry login\\); ` +
        `finished: ${es} \\((built and pushed|reused): [^)]+\\); not finished: ${php}; nothing was deployed\n\\(exit 130, INTERRUPTED\\)$`,
      'm',
    ),
  )
  t.deepEqual(dockerConfigs(), [], 'the registry login is not left on disk')
  const report = JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8'))
  t.is(report.exitCode, 130)
  t.deepEqual(report.images.map((i: {name: string}) => i.name), [es], 'the finished image is in the report')
  t.false(await namespaceExists(report.namespace))
  // The CLI waited for its docker children; the daemon stops the build when its client goes.
  t.deepEqual(processes().filter((p) => /\bdocker\b/.test(p.cmdline) && p.cmdline.includes(commitId)), [])
  await waitFor('the slow build step to be stopped in the daemon', () => !slowStepRuns())
})

/** Builds that must stop in the check stage: nothing built, pushed or deployed. */
function assertStoppedAtCheck(t: import('ava').ExecutionContext, result: {stdout: string; stderr: string}, report: {exitCode: number; error: {stage: string}; stages: Array<{name: string; status: string}>; images?: unknown[]}) {
  t.is(report.exitCode, 3)
  t.is(report.error.stage, 'check')
  t.deepEqual(report.stages.map((s) => `${s.name} ${s.status}`), ['check failed'])
  t.deepEqual(report.images ?? [], [])
  t.notRegex(result.stdout, /==> images/)
}

test.serial('a kubeconfig whose account lacks the rights: the build stops in the check stage, exit 3, listing each missing right; nothing is built', async (t) => {
  // A ServiceAccount bound to nothing, with a token from the TokenRequest API in a 0600 kubeconfig.
  const ns = uniqueName('it-norights')
  await core.createNamespace({body: {metadata: {name: ns}}})
  t.teardown(() => core.deleteNamespace({name: ns}).then(() => undefined, () => undefined))
  await core.createNamespacedServiceAccount({namespace: ns, body: {metadata: {name: 'nobody'}}})
  const {status} = await core.createNamespacedServiceAccountToken({namespace: ns, name: 'nobody', body: {spec: {audiences: [], expirationSeconds: 600}}})
  const cluster = kc.getCurrentCluster()!
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined)
  const kubeconfig = path.join(tempDir('shopsys-ci-norights-'), 'config')
  writeFileSync(kubeconfig, YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: 'ci', cluster: {server: cluster.server, ...(ca ? {'certificate-authority-data': ca} : {})}}],
    users: [{name: 'nobody', user: {token: status!.token}}],
    contexts: [{name: 'norights', context: {cluster: 'ci', user: 'nobody'}}],
    'current-context': 'norights',
  }), {mode: 0o600})
  const ws = await workspace()
  // With an image pull secret the deploy makes a Secret: its rights are asked too.
  const configFile = path.join(ws, '.ci/shopsys-ci.yaml')
  const config = YAML.parse(await readFile(configFile, 'utf8'))
  await writeFile(configFile, YAML.stringify({...config, deploy: {...config.deploy, imagePullSecret: true}}))
  await commit(ws)
  const result = await runCli(['build', '--cleanup'], {env: {...buildEnv(ws, `it/${uniqueName('norights')}`), KUBECONFIG: kubeconfig}})
  t.is(result.exitCode, 3, result.stdout.slice(-2000) + result.stderr)
  t.regex(result.stderr, new RegExp(`the kubeconfig's account may not do 11 things the build needs on ${cluster.server.replaceAll('.', '\\.')} \\(context norights\\); nothing was built or deployed`))
  t.regex(result.stderr, /^ {2}- create namespaces \(cluster-wide\): for the branch's namespace$/m)
  t.regex(result.stderr, /^ {2}- create secrets in namespace \S+: for the Secrets of deploy\.imagePullSecret and deploy\.secrets$/m)
  t.regex(result.stderr, /^ {2}- patch serviceaccounts default in namespace \S+: for naming the pull secret in the namespace's default ServiceAccount$/m)
  t.regex(result.stderr, /^ {2}- create pods\/exec in namespace \S+: for running the phases$/m)
  t.regex(result.stderr, /^ {2}- delete namespaces \S+ \(cluster-wide\): for deleting the namespace at the end \(--cleanup\)$/m)
  t.regex(result.stderr, /kubectl --context norights auth can-i create leases\.coordination\.k8s\.io -n shopsys-ci-system/)
  t.regex(result.stderr, /\(exit 3, CLUSTER_FORBIDDEN\)/)
  t.false(result.stdout.includes(status!.token!) || result.stderr.includes(status!.token!), 'the token is never printed')
  assertStoppedAtCheck(t, result, JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8')))
})

test.serial('an API server that does not answer: the build stops in the check stage, exit 3, before any image is built', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const {port: p} = server.address() as net.AddressInfo
      server.close(() => resolve(p))
    })
  })
  const kubeconfig = path.join(tempDir('shopsys-ci-unreachable-'), 'config')
  writeFileSync(kubeconfig, readFileSync(stack.kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/g, `server: https://127.0.0.1:${port}`))
  const ws = await workspace()
  const result = await runCli(['build'], {env: {...buildEnv(ws, `it/${uniqueName('unreachable')}`), KUBECONFIG: kubeconfig}})
  t.is(result.exitCode, 3, result.stdout.slice(-2000) + result.stderr)
  t.regex(result.stderr, new RegExp(`no answer from https://127\\.0\\.0\\.1:${port} \\(createSelfSubjectAccessReview: connect ECONNREFUSED`))
  t.regex(result.stderr, /\(exit 3, CLUSTER_UNREACHABLE\)/)
  assertStoppedAtCheck(t, result, JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8')))
})
