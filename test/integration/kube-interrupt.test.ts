/**
 * A Jenkins abort (SIGTERM) of the standalone kube commands, as the compiled CLI (`npm run build`
 * first): exit 130, one line saying what was interrupted, released and left, the branch lock gone
 * at once (not after its 30 s), the phase's command ended, and nothing deleted because of it.
 *   eval "$(test/stack/env)" && npm run build && npx ava --serial test/integration/kube-interrupt.test.ts
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {microTime} from '../../src/kube/client.js'
import {branchLockName} from '../../src/kube/constants.js'
import {startCli} from '../helpers/cli.js'
import {freezingProxy} from '../helpers/proxies.js'
import {apiStatus} from '../helpers/stack.js'
import {cleanupProject, deleteSystemNamespace, fixture, kube, misbehaving, namespaceExists, requireKubeconfig, SYSTEM_NAMESPACE, uniqueProject} from './kube-helpers.js'
import {tempDir} from '../helpers/tmp.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

/** A workspace with a config and rendered manifests; `podDir` is where the phases run (kwok execs on this machine). */
function workspace(project: string, manifests: string): {ws: string; podDir: string} {
  const ws = tempDir('shopsys-ci-interrupt-')
  const podDir = tempDir('shopsys-ci-interrupt-pod-')
  mkdirSync(path.join(ws, '.ci'))
  mkdirSync(path.join(ws, '.shopsys-ci'))
  writeFileSync(
    path.join(ws, '.ci/shopsys-ci.yaml'),
    `project: ${project}
deploy:
  timeout: 5m
phases:
  - name: long
    target: deployment/healthy
    # Ends only when told to; says so in its working directory.
    command: ["sh", "-c", "trap 'echo terminated > stopped; exit 143' TERM; echo started; while :; do sleep 0.1; done"]
    workingDir: ${podDir}
`,
  )
  writeFileSync(path.join(ws, '.shopsys-ci/manifests.yaml'), manifests)
  return {ws, podDir}
}

function cli(ws: string, branch: string, args: string[], kubeconfig = process.env.KUBECONFIG) {
  return startCli(args, {
    compiled: true,
    env: {
      KUBECONFIG: kubeconfig,
      SHOPSYS_CI_SYSTEM_NAMESPACE: SYSTEM_NAMESPACE,
      WORKSPACE: ws,
      BRANCH_NAME: branch,
      DEVELOPMENT_SERVER_DOMAIN: 'ci.example.test',
      GIT_COMMIT: 'c0ffee'.padEnd(40, '0'),
      BUILD_TAG: `jenkins-interrupt-${branch}`,
    },
  })
}

/** The branch lock Lease of `namespace`, read as it is in the system namespace (locks.ts names it). */
function readLock(namespace: string) {
  return kube().objects.read({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: branchLockName(namespace), namespace: SYSTEM_NAMESPACE}}) as Promise<{spec?: {holderIdentity?: string}}>
}

async function lockExists(namespace: string): Promise<boolean> {
  try {
    await readLock(namespace)
    return true
  } catch (error) {
    if (apiStatus(error) === 404) return false
    throw error
  }
}

test('SIGTERM while deploy waits for a rollout that never becomes ready: exit 130, the lock released at once, the namespace left as it is', async (t) => {
  const project = uniqueProject('intr')
  cleanupProject(t, project)
  const {ws} = workspace(project, misbehaving('unready'))
  const deploy = cli(ws, 'feature/abort', ['deploy'])
  await deploy.waitFor(/waiting for 2 workload\(s\) in (\S+)/)
  const namespace = /waiting for 2 workload\(s\) in (\S+)/.exec(deploy.stdout)![1]
  t.true(await lockExists(namespace), 'the deploy holds the branch lock while it waits')
  deploy.kill('SIGTERM')
  t.is(await deploy.exited, 130, deploy.stderr)
  t.regex(deploy.stderr, /SIGTERM received: stopping/)
  t.regex(
    deploy.stderr,
    new RegExp(`^Error: deploy of ${namespace}: interrupted by SIGTERM while waiting for the rollout \\(after [^)]+\\); released the branch lock; namespace ${namespace} stays as it is, its workloads not all ready: delete it with \`shopsys-ci cleanup\`, or deploy again\n\\(exit 130, INTERRUPTED\\)$`, 'm'),
  )
  // Gone now, not 30 s later when it would have expired: a following cleanup or deploy need not wait.
  t.false(await lockExists(namespace))
  t.true(await namespaceExists(namespace), 'an interruption deletes nothing')
})

test('SIGTERM while deploy waits for the branch lock: exit 130, nothing changed, the other holder\'s lock untouched', async (t) => {
  const project = uniqueProject('intr')
  cleanupProject(t, project)
  const {ws} = workspace(project, fixture('tiny.yaml'))
  const namespace = `${project}-feature-locked`
  // Another build holds the lock (renewed just now, for longer than this test takes).
  await kube().core.createNamespace({body: {metadata: {name: SYSTEM_NAMESPACE}}}).catch((error: unknown) => {
    if (apiStatus(error) !== 409) throw error
  })
  const holder = 'jenkins-other-build (pid 1 on elsewhere, abcdef)'
  const lock = {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: branchLockName(namespace), namespace: SYSTEM_NAMESPACE}}
  await kube().objects.create({...lock, spec: {holderIdentity: holder, leaseDurationSeconds: 600, renewTime: microTime() as never, acquireTime: microTime() as never}} as never)
  t.teardown(() => kube().objects.delete(lock).then(() => undefined, () => undefined))
  const deploy = cli(ws, 'feature/locked', ['deploy', '--namespace', namespace])
  await deploy.waitFor(/waiting for the lock of/)
  deploy.kill('SIGTERM')
  t.is(await deploy.exited, 130, deploy.stderr)
  t.regex(deploy.stderr, new RegExp(`^Error: deploy of ${namespace}: interrupted by SIGTERM while waiting for the branch lock \\(after [^)]+\\); nothing was changed$`, 'm'))
  t.false(await namespaceExists(namespace))
  t.is((await readLock(namespace)).spec?.holderIdentity, holder)
})

test('SIGTERM during `run` of a long phase: exit 130, the command in the pod ended, no artifacts', async (t) => {
  const project = uniqueProject('intr')
  cleanupProject(t, project)
  const {ws, podDir} = workspace(project, misbehaving('unready').split('\n---\n')[0])
  const deploy = cli(ws, 'feature/run', ['deploy'])
  t.is(await deploy.exited, 0, deploy.stderr)
  const run = cli(ws, 'feature/run', ['run', 'long'])
  await run.waitFor(/\[long\] started/)
  t.false(existsSync(path.join(podDir, 'stopped')))
  run.kill('SIGTERM')
  t.is(await run.exited, 130, run.stderr)
  t.regex(run.stderr, /^Error: phase long: interrupted by SIGTERM while running in pod healthy-\S+ \(after [^)]+\); stopped the command there \(SIGTERM; it has ended\); no artifacts copied; namespace \S+ stays as it is$/m)
  // The command got the SIGTERM and ended before the CLI exited.
  t.is(readFileSync(path.join(podDir, 'stopped'), 'utf8'), 'terminated\n')
  t.notRegex(run.stdout + run.stderr, /shopsys-ci-pid/, 'the PID line is not phase output')
})

test('SIGTERM while cleanup waits for the namespace to go: exit 130, the lock released, the namespace still being deleted', async (t) => {
  const project = uniqueProject('intr')
  cleanupProject(t, project)
  const {ws} = workspace(project, fixture('tiny.yaml'))
  const deploy = cli(ws, 'feature/held', ['deploy'])
  t.is(await deploy.exited, 0, deploy.stderr)
  const namespace = /created namespace (\S+)/.exec(deploy.stdout)![1]
  // A finalizer nobody removes holds the namespace in Terminating.
  const k = kube()
  await k.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'held', finalizers: ['shopsys-ci.test/hold']}}})
  t.teardown(() => k.core.patchNamespacedConfigMap({name: 'held', namespace, body: [{op: 'remove', path: '/metadata/finalizers'}]}).catch(() => undefined))
  const cleanup = cli(ws, 'feature/held', ['cleanup'])
  await cleanup.waitFor(/deleting namespace/)
  cleanup.kill('SIGTERM')
  t.is(await cleanup.exited, 130, cleanup.stderr)
  t.regex(cleanup.stderr, new RegExp(`^Error: cleanup of ${namespace}: interrupted by SIGTERM while (waiting for namespace ${namespace} to go|checking namespace ${namespace}) \\(after [^)]+\\); released the branch lock; namespace ${namespace} is still being deleted by the cluster`, 'm'))
  t.false(await lockExists(namespace))
  const ns = await k.core.readNamespace({name: namespace})
  t.truthy(ns.metadata?.deletionTimestamp, 'Terminating, as the cleanup had asked before the signal')
})

test('a second SIGTERM, once the first one\'s notice is out, exits deploy at once (130), releasing nothing: the branch lock stays until it expires', async (t) => {
  const project = uniqueProject('h17')
  cleanupProject(t, project)
  const {ws} = workspace(project, misbehaving('unready'))
  const proxy = await freezingProxy(t)
  const deploy = cli(ws, 'feature/twice', ['deploy'], proxy.kubeconfig)
  await deploy.waitFor(/waiting for 2 workload\(s\) in (\S+)/)
  const namespace = /waiting for 2 workload\(s\) in (\S+)/.exec(deploy.stdout)![1]
  // The API server stops answering: the first signal's release of the lock hangs, so its handling
  // is still going when the second signal comes.
  proxy.hold()
  deploy.kill('SIGTERM')
  await deploy.waitFor(/^WARNING: SIGTERM received: stopping; what this command holds is released first \(send it again to exit at once\)$/m)
  deploy.kill('SIGTERM')
  t.is(await deploy.exited, 130, deploy.stderr)
  t.regex(deploy.stderr, /^WARNING: SIGTERM again: exiting at once \(exit 130\), releasing nothing \(a branch lock expires within 30 s\)$/m)
  t.notRegex(deploy.stderr, /^Error: /m, 'at once: not after the first signal\'s account')
  t.true(await lockExists(namespace), 'released nothing: the lock expires by itself')
})
