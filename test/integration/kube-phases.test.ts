/**
 * Phases (exec into a Ready pod, streamed output, exit code, artifacts, timeout) and logs export.
 * On the kwok stack the exec'd command runs on this machine, so the phases use a temp directory.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-phases.test.ts
 */
import {getEventListeners} from 'node:events'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import * as k8s from '@kubernetes/client-node'
import test, {type ExecutionContext} from 'ava'

import type {PhaseConfig} from '../../src/config/model.js'
import {DeployError, ExitCode, PhaseError} from '../../src/errors.js'
import {clientsFor, getKube, type Kube, type ListQuery} from '../../src/kube/client.js'
import {reuseConnections} from '../../src/kube/connections.js'
import {execInPod, LineWriter} from '../../src/kube/exec.js'
import {deployEnvironment, exportLogs, phaseResultOf, runPhase} from '../../src/kube/index.js'
import {ExecPhaseRunner} from '../../src/kube/phase.js'
import {clientsThrough, freezingProxy, idleDroppingProxy} from '../helpers/proxies.js'
import {kube, sleep, waitForPods} from '../helpers/stack.js'
import {cleanupProject, deleteSystemNamespace, fixture, identityOf, logger, misbehaving, podNames, requireKubeconfig, serveLogs, testConfig, uniqueProject, workspaceWith} from './kube-helpers.js'
import {tempDir} from '../helpers/tmp.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

const SCRIPT = [
  'echo "running suite $SUITE in $(pwd)"',
  'echo "a warning" >&2',
  'mkdir -p out/screens',
  'echo "<testsuites name=\\"$SUITE\\"/>" > out/junit.xml',
  'echo png > out/screens/home.png',
  'echo png > out/screens/cart.png',
  'exit "$CODE"',
].join('\n')

function phase(workingDir: string, extra: Partial<PhaseConfig> = {}): PhaseConfig {
  return {
    name: 'tests',
    target: 'deployment/app',
    container: 'app',
    command: ['sh', '-c', SCRIPT],
    env: {SUITE: 'unit', CODE: '0'},
    workingDir,
    timeout: 60_000,
    artifacts: ['out/junit.xml', 'out/screens/*.png', 'out/missing.xml'],
    ...extra,
  }
}

async function environment(t: ExecutionContext, branch: string) {
  const config = testConfig(uniqueProject('ph'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, branch)
  const {workspace, manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const podDir = tempDir('shopsys-ci-phase-')
  return {config, identity, workspace, podDir}
}

test('a phase streams its output, passes with exit 0 and its artifacts are copied out', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-ok')
  const log = logger()
  const result = await runPhase({identity, config, phase: phase(podDir), workspace, logger: log})
  t.is(result.exitCode, 0)
  t.regex(result.pod, /^app-/)
  t.is(result.container, 'app')
  t.true(log.lines.includes(`[tests] running suite unit in ${podDir}`))
  t.true(log.lines.includes('[tests] a warning'))
  t.deepEqual(result.artifacts.sort(), ['shopsys-ci/artifacts/tests/out/junit.xml', 'shopsys-ci/artifacts/tests/out/screens/cart.png', 'shopsys-ci/artifacts/tests/out/screens/home.png'])
  t.deepEqual(result.missingArtifacts, ['out/missing.xml'])
  t.is(readFileSync(path.join(workspace, 'shopsys-ci/artifacts/tests/out/junit.xml'), 'utf8'), '<testsuites name="unit"/>\n')
})

test('right after a redeploy that replaced the pod, the phase finds it from the watch cache and runs in the new pod, not the old', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-cache')
  const manifests = fixture('tiny.yaml').replace('labels: {app: tiny}\n    spec:', 'labels: {app: tiny}\n      annotations: {revision: "2"}\n    spec:')
  t.not(manifests, fixture('tiny.yaml'))
  const {manifestsFile} = workspaceWith(manifests)
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const live = await getKube()
  const lists: Array<ListQuery | undefined> = []
  const recording: Kube = {...live, listJSON: (collection, query) => (lists.push(query), live.listJSON(collection, query))}
  const result = await new ExecPhaseRunner({kube: recording}).run({identity, config, phase: phase(podDir), workspace, logger: logger()})
  t.is(result.exitCode, 0)
  t.deepEqual(lists, [{labelSelector: 'app=tiny', resourceVersion: '0'}])
  const pod = (await live.core.readNamespacedPod({name: result.pod, namespace: identity.namespace})) as {metadata?: {annotations?: Record<string, string>}}
  t.is(pod.metadata?.annotations?.revision, '2')
})

test('a failing phase: exit 7 naming phase, pod and exit code; artifacts copied anyway', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-fail')
  const error = await t.throwsAsync(runPhase({identity, config, phase: phase(podDir, {env: {SUITE: 'acceptance', CODE: '3'}}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.is(error.exitCode, ExitCode.phase)
  t.regex(error.message, /^phase tests failed with exit code 3 \(pod app-[a-z0-9-]+, container app\)$/)
  const result = phaseResultOf(error)
  t.is(result?.exitCode, 3)
  t.true(existsSync(path.join(workspace, 'shopsys-ci/artifacts/tests/out/junit.xml')))
})

test('a failing test suite: the message counts its JUnit report, copied out before the phase failed', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-junit')
  const suite = 'mkdir -p out && echo \'<testsuite name="unit" tests="3" failures="1" errors="0"><testcase name="a"/></testsuite>\' > out/junit.xml && exit 1'
  const error = await t.throwsAsync(runPhase({identity, config, phase: phase(podDir, {command: ['sh', '-c', suite], artifacts: ['out/junit.xml']}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.regex(error.message, /^phase tests failed with exit code 1: 3 tests, 1 failed \(pod /)
  t.deepEqual(phaseResultOf(error)?.tests, {tests: 3, failures: 1, errors: 0, skipped: 0})
})

test('a phase whose command is not in the container: exit 7, and the hint says so', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-127')
  const error = await t.throwsAsync(runPhase({identity, config, phase: phase(podDir, {command: ['sh', '-c', 'no-such-command-in-this-container'], artifacts: []}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.regex(error.message, /^phase tests failed with exit code 127 /)
  t.regex(error.suggestions.join('\n'), /not found in the container/)
})

test('a phase selected by label selector, without env or working directory', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-selector')
  const log = logger()
  const result = await runPhase({identity, config, phase: {name: 'lint', target: 'app=tiny', command: ['sh', '-c', `cd ${podDir} && echo ok > report.txt && echo linted`], env: {}, timeout: 30_000, artifacts: [`${podDir}/report.txt`]}, workspace, logger: log})
  t.is(result.exitCode, 0)
  t.true(log.lines.includes('[lint] linted'))
  t.is(result.artifacts.length, 1)
  t.is(readFileSync(path.join(workspace, result.artifacts[0]), 'utf8'), 'ok\n')
})

test('a phase that runs too long times out (exit 7), and its command is stopped, not left running', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-timeout')
  // Without the timeout the command would end by itself after 20 s, with exit 0: no error at all.
  // It notes SIGTERM in its working directory: closing the connection alone would not end it.
  const command = ['sh', '-c', "trap 'echo terminated > stopped; exit 143' TERM; i=0; while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done"]
  const error = await t.throwsAsync(runPhase({identity, config, phase: phase(podDir, {command, timeout: 2000, artifacts: []}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.is(error.exitCode, ExitCode.phase)
  t.regex(error.message, /timed out after 2.0s in pod .*; the command was stopped \(SIGTERM\)/)
  t.is(readFileSync(path.join(podDir, 'stopped'), 'utf8'), 'terminated\n')
})

/** Runs `command` in the tiny environment's pod through `kube`, collecting stdout. */
async function execThrough(kube: Kube, namespace: string, command: string[], pingMs: number) {
  const [pod] = await podNames(namespace, 'app=tiny')
  let stdout = ''
  const outcome = await execInPod(kube, {namespace, pod, container: 'app', command, stdout: new LineWriter((l) => (stdout += `${l}\n`)), stderr: new LineWriter(() => {}), timeout: 30_000, pingMs})
  return {...outcome, stdout}
}

test('a command silent for longer than the idle limit of a proxy in between keeps its connection by pings', async (t) => {
  const {identity} = await environment(t, 'phase-quiet')
  const proxy = await idleDroppingProxy(t, 1500)
  const through = clientsThrough(proxy.kubeconfig)
  const quiet = ['sh', '-c', 'sleep 4; echo done']
  const pinged = await execThrough(through, identity.namespace, quiet, 500)
  t.like(pinged, {exitCode: 0, stdout: 'done\n', lost: false, timedOut: false})
  t.is(proxy.dropped(), 0)
  // Without pings the proxy drops it, as a load balancer would: the test can tell the difference.
  const unpinged = await execThrough(through, identity.namespace, quiet, 0)
  t.is(unpinged.exitCode, -1)
  t.is(unpinged.stdout, '')
  t.true(proxy.dropped() >= 1)
})

test('a connection that goes silent during a phase is given up as lost, not waited on until the timeout', async (t) => {
  const {identity} = await environment(t, 'phase-frozen')
  const proxy = await freezingProxy(t)
  const through = clientsThrough(proxy.kubeconfig)
  const run = execThrough(through, identity.namespace, ['sh', '-c', 'sleep 6; echo done'], 400)
  await sleep(1000)
  proxy.freeze()
  // The timeout is 30 s: without the pings' verdict this would end timed out, not lost.
  t.like(await run, {exitCode: -1, lost: true, timedOut: false, stdout: ''})
})

test('a phase whose connection goes silent fails as lost, and its artifacts are still copied, over a new connection', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-lost')
  const proxy = await freezingProxy(t)
  const runner = new ExecPhaseRunner({kube: clientsThrough(proxy.kubeconfig), pingMs: 400})
  const slow = phase(podDir, {command: ['sh', '-c', 'mkdir -p out && echo "<testsuites/>" > out/junit.xml && sleep 8'], artifacts: ['out/junit.xml']})
  const running = runner.run({identity, config, phase: slow, workspace, logger: logger()})
  await sleep(1500)
  proxy.freeze() // the command's connection goes silent; later ones pass
  const error = await t.throwsAsync(running, {instanceOf: PhaseError})
  t.regex(error.message, /the connection to pod app-[a-z0-9-]+ was lost/)
  t.deepEqual(phaseResultOf(error)?.artifacts, ['shopsys-ci/artifacts/tests/out/junit.xml'])
  t.is(readFileSync(path.join(workspace, 'shopsys-ci/artifacts/tests/out/junit.xml'), 'utf8'), '<testsuites/>\n')
})

test('a phase of a build whose environment was taken over by a newer build fails clearly', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-takeover')
  const error = await t.throwsAsync(runPhase({identity: {...identity, owner: 'jenkins-older-build-1'}, config, phase: phase(podDir), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.regex(error.message, new RegExp(`now belongs to build ${identity.owner}, not to this one \\(jenkins-older-build-1\\)`))
  t.true(error.suggestions.some((s) => s.includes(`--owner ${identity.owner}`)), error.suggestions.join('\n'))
})

test('a phase whose target does not exist', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-missing')
  await t.throwsAsync(runPhase({identity, config, phase: phase(podDir, {target: 'deployment/nope'}), workspace, logger: logger()}), {instanceOf: PhaseError, message: /deployment\/nope does not exist/})
})

test('a phase in a namespace that does not exist says so (not that its workload is missing), and to deploy first', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-no-namespace')
  const absent = {...identity, namespace: `${identity.namespace}-absent`}
  const error = await t.throwsAsync(runPhase({identity: absent, config, phase: phase(podDir), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.regex(error.message, new RegExp(`namespace ${absent.namespace} does not exist`))
  t.true(error.suggestions.some((s) => s.includes('shopsys-ci deploy')), error.suggestions.join('\n'))
})

test('a phase naming a container the pod does not have: exit 7 naming the containers there are', async (t) => {
  const {config, identity, workspace, podDir} = await environment(t, 'phase-container')
  // Without the check, this waited out the pod wait and then blamed a missing Ready pod.
  const runner = new ExecPhaseRunner({podWaitMs: 2_000})
  const error = await t.throwsAsync(runner.run({identity, config, phase: phase(podDir, {container: 'php-fpm'}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.is(error.exitCode, ExitCode.phase)
  t.regex(error.message, /^phase tests: deployment\/app in namespace \S+: pod app-[a-z0-9-]+ has no container php-fpm; its containers: app$/)
})

test('a phase whose target has no Ready pod says what its pods are doing', async (t) => {
  const config = testConfig(uniqueProject('ph'), {deploy: {timeout: 2_000}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'phase-unready')
  const {workspace, manifestsFile} = workspaceWith(misbehaving('unready'))
  await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  // The deploy gave up at its 2 s deadline; on a loaded machine a pod may not be Running yet.
  await waitForPods(kube().core, identity.namespace, 'app=broken', (pod) => pod.status?.phase === 'Running', {count: 2})
  const podDir = tempDir('shopsys-ci-phase-')
  const error = await t.throwsAsync(new ExecPhaseRunner({podWaitMs: 1_000}).run({identity, config, phase: phase(podDir, {target: 'deployment/broken'}), workspace, logger: logger()}), {instanceOf: PhaseError})
  t.regex(error.message, /no Ready pod of deployment\/broken with container app in namespace \S+ \(waited 1\.0s\); its pods: broken-[a-z0-9-]+: Running \(Ready=False\), broken-[a-z0-9-]+: Running \(Ready=False\)$/)
})

test('logs export: every container of every pod, init containers included', async (t) => {
  const config = testConfig(uniqueProject('logs'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'logs')
  const {workspace, manifestsFile} = workspaceWith(fixture('app.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const controller = new AbortController()
  const result = await exportLogs({namespace: identity.namespace, workspace, logger: logger(), signal: controller.signal})
  // No abort listener is left behind per log (Node warned about a leak into the Jenkins log).
  t.is(getEventListeners(controller.signal, 'abort').length, 0)
  const dir = path.join(workspace, 'shopsys-ci/logs')
  const pods = readdirSync(dir)
  const web = pods.filter((p) => p.startsWith('web-'))
  t.is(web.length, 2)
  t.deepEqual(readdirSync(path.join(dir, web[0])).sort(), ['init-dirs.log', 'nginx.log', 'php-fpm.log'])
  t.true(pods.includes('postgres-0') && pods.includes('postgres-1'))
  t.true(pods.some((p) => p.startsWith('migrate-')))
  t.regex(readFileSync(path.join(dir, web[0], 'php-fpm.log'), 'utf8'), /simulated by kwok/)
  t.is(result.files.length, 2 * 3 + 2 * 1 + 2 * 1 + 1)
  t.true(result.files.every((f) => f.bytes > 0))

  // The same over HTTP/1.1 (DISABLE_HTTP2, or a server without HTTP/2): client-node's own log reader.
  const kc = new k8s.KubeConfig()
  reuseConnections(kc)
  kc.loadFromDefault()
  const http1 = clientsFor(k8s, kc, {env: {DISABLE_HTTP2: '1'}})
  t.is(await http1.openStream(`/api/v1/namespaces/${identity.namespace}/pods/${web[0]}/log`, {container: 'php-fpm'}), undefined)
  const again = tempDir('shopsys-ci-logs-http1-')
  const overHttp1 = await exportLogs({kube: http1, namespace: identity.namespace, workspace: again, logger: logger()})
  t.deepEqual(overHttp1.files.map((f) => f.path), result.files.map((f) => f.path))
  t.is(readFileSync(path.join(again, 'shopsys-ci/logs', web[0], 'php-fpm.log'), 'utf8'), readFileSync(path.join(dir, web[0], 'php-fpm.log'), 'utf8'))
})

test('logs export of a namespace that does not exist says so, and writes nothing', async (t) => {
  const workspace = tempDir('shopsys-ci-logs-')
  const log = logger()
  const result = await exportLogs({namespace: `absent-${uniqueProject('logs')}`, workspace, logger: log})
  t.deepEqual(result.files, [])
  t.true(log.lines.some((l) => /^WARNING: namespace absent-\S+ does not exist: no logs to export$/.test(l)), log.lines.join('\n'))
  t.false(existsSync(path.join(workspace, 'shopsys-ci/logs/events.log')))
})

test('logs export: a log the API will not give is skipped with the API\'s own reason', async (t) => {
  const config = testConfig(uniqueProject('logs'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'logs-skipped')
  const {workspace, manifestsFile} = workspaceWith(misbehaving('crash-loop'))
  await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  // Without a Logs object kwok has no previous instance to serve, and answers 400 with its reason.
  const result = await exportLogs({namespace: identity.namespace, workspace, logger: logger()})
  const previous = result.skipped.filter((s) => s.previous && s.container === 'app')
  t.true(previous.length > 0)
  for (const s of previous) t.regex(s.reason, /^failed to read log file/)
})

test('logs export after a crash loop includes the previous instance', async (t) => {
  const config = testConfig(uniqueProject('logs'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'logs-crash')
  const {workspace, manifestsFile} = workspaceWith(misbehaving('crash-loop'))
  await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  const broken = await podNames(identity.namespace, 'app=broken')
  await serveLogs(identity.namespace, broken, 'app', ['second try'], ['first try', 'Segmentation fault'])
  const result = await exportLogs({namespace: identity.namespace, workspace, logger: logger()})
  const previous = result.files.filter((f) => f.previous).map((f) => f.path).sort()
  t.deepEqual(previous, broken.map((p) => `shopsys-ci/logs/${p}/app.previous.log`).sort())
  t.is(readFileSync(path.join(workspace, previous[0]), 'utf8'), 'first try\nSegmentation fault\n')
  t.is(readFileSync(path.join(workspace, `shopsys-ci/logs/${broken[0]}/app.log`), 'utf8'), 'second try\n')
  // The init container is exported too (here kwok serves nothing for it: the pod's Logs object names only app).
  t.true([...result.files, ...result.skipped].some((f) => f.pod === broken[0] && f.container === 'init-config'))
  // And the namespace's events, which go with the namespace: why the pod restarts is in there.
  t.is(result.events?.path, 'shopsys-ci/logs/events.log')
  const events = readFileSync(path.join(workspace, 'shopsys-ci/logs/events.log'), 'utf8')
  t.true(result.events!.count > 0)
  t.regex(events, new RegExp(`^\\S+  Warning  BackOff  pod/${broken[0]}: `, 'm'))
  t.regex(events, /Normal   Scheduled  pod\//)
})
