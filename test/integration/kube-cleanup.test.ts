/**
 * cleanup and gc: what they delete, what they never touch, gc by expiry, deleted branch (a real bare
 * git remote) and dead owner.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-cleanup.test.ts
 */
import {execFileSync} from 'node:child_process'
import path from 'node:path'

import test from 'ava'

import {CleanupError} from '../../src/errors.js'
import {microTime} from '../../src/kube/client.js'
import {cleanupEnvironment, deployEnvironment, gcEnvironments} from '../../src/kube/index.js'
import {
  cleanupNamespace,
  cleanupProject,
  deleteSystemNamespace,
  fixture,
  identityOf,
  kube,
  logger,
  namespaceExists,
  requireKubeconfig,
  testConfig,
  uniqueProject,
  workspaceWith,
} from './kube-helpers.js'
import {waitFor} from '../helpers/stack.js'
import {tempDir} from '../helpers/tmp.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

const EMPTY = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\n'

test('cleanup deletes the namespace and returns once it is gone; absent is success', async (t) => {
  const config = testConfig(uniqueProject('cl'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/cleanup')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const result = await cleanupEnvironment({identity, config, logger: logger()})
  t.is(result.outcome, 'deleted')
  t.truthy(result.goneAt)
  t.false(await namespaceExists(identity.namespace))
  const again = await cleanupEnvironment({identity, config, logger: logger()})
  t.is(again.outcome, 'absent')
})

test('a namespace that will not go: exit 8, with what the namespace controller says holds it', async (t) => {
  const config = testConfig(uniqueProject('cl'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/stuck')
  const {manifestsFile} = workspaceWith(EMPTY)
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const k = kube()
  await k.core.createNamespacedConfigMap({namespace: identity.namespace, body: {metadata: {name: 'held', finalizers: ['shopsys-ci.test/hold']}}})
  t.teardown(() => k.core.patchNamespacedConfigMap({name: 'held', namespace: identity.namespace, body: [{op: 'remove', path: '/metadata/finalizers'}]}).catch(() => undefined))
  // Deleted, and held: once the namespace controller has said so in its conditions, cleanup gives up.
  await k.core.deleteNamespace({name: identity.namespace})
  const conditions = async () => ((await k.core.readNamespace({name: identity.namespace})).status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type)
  await waitFor('the namespace controller to report the finalizer', async () => (await conditions()).includes('NamespaceFinalizersRemaining'), {timeoutMs: 60_000})
  const error = await t.throwsAsync(cleanupEnvironment({identity, config, logger: logger(), timeout: 2000}), {instanceOf: CleanupError})
  t.is(error.exitCode, 8)
  t.regex(error.message, /was still terminating after 2\.0s:\n(?: {2}.*\n)* {2}NamespaceFinalizersRemaining: .*shopsys-ci\.test\/hold in 1 resource instances/)
  t.regex(error.suggestions.join('\n'), /status\.conditions/)
})

test('cleanup never deletes default, kube-system, unlabelled or other projects\' namespaces, whatever branch is given', async (t) => {
  const config = testConfig(uniqueProject('cl'))
  cleanupProject(t, config.project)
  const k = kube()
  const identity = identityOf(config, 'feature/guard')
  // A namespace with exactly the branch's name but no labels, and one of another project.
  await k.core.createNamespace({body: {metadata: {name: identity.namespace}}})
  cleanupNamespace(t, identity.namespace)
  const otherName = `${config.project}-foreign`
  await k.core.createNamespace({body: {metadata: {name: otherName, labels: {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': 'another-project'}}}})
  cleanupNamespace(t, otherName)

  for (const namespace of ['default', 'kube-system', identity.namespace, otherName]) {
    const error = await t.throwsAsync(cleanupEnvironment({identity: {...identity, namespace}, config, logger: logger(), force: true}), {instanceOf: CleanupError})
    t.regex(error.message, /refusing to delete/, namespace)
  }
  for (const namespace of ['default', 'kube-system', identity.namespace, otherName]) {
    t.true(await namespaceExists(namespace), namespace)
    t.falsy((await k.core.readNamespace({name: namespace})).metadata?.deletionTimestamp, namespace)
  }
})

test('cleanup leaves an environment that a newer build of the branch has deployed since', async (t) => {
  const config = testConfig(uniqueProject('cl'))
  cleanupProject(t, config.project)
  const older = identityOf(config, 'feature/race', 'jenkins-race-41')
  const newer = {...older, owner: 'jenkins-race-42'}
  const {manifestsFile} = workspaceWith(EMPTY)
  await deployEnvironment({identity: older, config, manifestsFile, logger: logger()})
  await deployEnvironment({identity: newer, config, manifestsFile, logger: logger()})
  const result = await cleanupEnvironment({identity: older, config, logger: logger()})
  t.is(result.outcome, 'owned-by-other-build')
  t.regex(result.reason, /jenkins-race-42/)
  t.true(await namespaceExists(older.namespace))
  t.is((await cleanupEnvironment({identity: newer, config, logger: logger()})).outcome, 'deleted')
})

test('gc deletes expired environments and keeps the others; --dry-run deletes nothing', async (t) => {
  const config = testConfig(uniqueProject('gc'))
  cleanupProject(t, config.project)
  const {workspace, manifestsFile} = workspaceWith(EMPTY)
  const expiring = identityOf(config, 'feature/expiring')
  const lasting = identityOf(config, 'feature/lasting')
  await deployEnvironment({identity: expiring, config: {...config, deploy: {...config.deploy, ttl: 1000}}, manifestsFile, logger: logger(), keep: true})
  await deployEnvironment({identity: lasting, config, manifestsFile, logger: logger(), keep: true})
  await new Promise((r) => setTimeout(r, 1500))

  const dry = await gcEnvironments({config, workspace, logger: logger(), dryRun: true})
  t.deepEqual(dry.decisions.map((d) => [d.namespace, d.action, d.rule]), [[expiring.namespace, 'delete', 'expired'], [lasting.namespace, 'keep', undefined]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))))
  t.true(await namespaceExists(expiring.namespace))

  const result = await gcEnvironments({config, workspace, logger: logger()})
  t.deepEqual(result.deleted, [expiring.namespace])
  t.false(await namespaceExists(expiring.namespace))
  t.true(await namespaceExists(lasting.namespace))
})

test('gc deletes environments of branches deleted on the remote (a real bare repository)', async (t) => {
  const config = testConfig(uniqueProject('gc'))
  cleanupProject(t, config.project)
  const remote = tempDir('shopsys-ci-remote-')
  const clone = tempDir('shopsys-ci-clone-')
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', '-c', 'init.defaultBranch=main', ...args], {cwd, stdio: 'pipe'})
  git(remote, 'init', '--bare', '-q')
  git(clone, 'init', '-q')
  git(clone, 'commit', '--allow-empty', '-q', '-m', 'init')
  git(clone, 'remote', 'add', 'origin', remote)
  git(clone, 'push', '-q', 'origin', 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature/alive', 'HEAD:refs/heads/feature/gone')
  git(clone, 'push', '-q', 'origin', ':refs/heads/feature/gone')

  const {manifestsFile} = workspaceWith(EMPTY)
  const alive = identityOf(config, 'feature/alive')
  const gone = identityOf(config, 'feature/gone')
  await deployEnvironment({identity: alive, config, manifestsFile, logger: logger()})
  await deployEnvironment({identity: gone, config, manifestsFile, logger: logger()})

  const result = await gcEnvironments({config, workspace: clone, logger: logger(), remote: 'origin'})
  t.is(result.branchCheck, 'ok')
  t.deepEqual(result.deleted, [gone.namespace])
  t.like(result.decisions.find((d) => d.namespace === gone.namespace), {rule: 'branch-deleted', branch: 'feature/gone'})
  t.true(await namespaceExists(alive.namespace))
  t.false(await namespaceExists(gone.namespace))
})

test('gc: an unreadable remote turns the branch rule off, it deletes nothing for it', async (t) => {
  const config = testConfig(uniqueProject('gc'))
  cleanupProject(t, config.project)
  const {workspace, manifestsFile} = workspaceWith(EMPTY)
  const env = identityOf(config, 'feature/x')
  await deployEnvironment({identity: env, config, manifestsFile, logger: logger()})
  const result = await gcEnvironments({config, workspace, logger: logger(), remote: path.join(workspace, 'no-such-remote')})
  t.regex(result.branchCheck, /cannot list the branches/)
  t.deepEqual(result.deleted, [])
  t.true(await namespaceExists(env.namespace))
})

test('gc deletes what a dead build left behind (owner lease not renewed), not a live one', async (t) => {
  const config = testConfig(uniqueProject('gc'))
  cleanupProject(t, config.project)
  const {workspace, manifestsFile} = workspaceWith(EMPTY)
  const dead = identityOf(config, 'feature/dead')
  const alive = identityOf(config, 'feature/alive')
  await deployEnvironment({identity: dead, config, manifestsFile, logger: logger()})
  await deployEnvironment({identity: alive, config, manifestsFile, logger: logger()})
  const k = kube()
  // The dead build last renewed its lease 2 hours ago, and its environment is 3 hours old.
  const ago = (ms: number) => new Date(Date.now() - ms)
  await k.objects.patch(
    {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: 'shopsys-ci-owner', namespace: dead.namespace}, spec: {renewTime: microTime(ago(2 * 3_600_000)) as never}},
    undefined, undefined, undefined, undefined, 'application/merge-patch+json',
  )
  await k.objects.patch(
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: dead.namespace, annotations: {'shopsys-ci/created-at': ago(3 * 3_600_000).toISOString()}}},
    undefined, undefined, undefined, undefined, 'application/merge-patch+json',
  )
  const result = await gcEnvironments({config, workspace, logger: logger(), grace: 30 * 60_000})
  t.deepEqual(result.deleted, [dead.namespace])
  t.like(result.decisions.find((d) => d.namespace === dead.namespace), {rule: 'owner-gone'})
  t.like(result.decisions.find((d) => d.namespace === alive.namespace), {action: 'keep'})
})

test('gc never touches unlabelled, foreign, default or kube-system namespaces', async (t) => {
  const config = testConfig(uniqueProject('gc'))
  cleanupProject(t, config.project)
  const k = kube()
  const past = new Date(Date.now() - 86_400_000).toISOString()
  const annotations = {'shopsys-ci/expires-at': past, 'shopsys-ci/branch': 'gone', 'shopsys-ci/created-at': past}
  const unlabelled = `${config.project}-unlabelled`
  const foreign = `${config.project}-foreign`
  await k.core.createNamespace({body: {metadata: {name: unlabelled, annotations}}})
  cleanupNamespace(t, unlabelled)
  await k.core.createNamespace({body: {metadata: {name: foreign, annotations, labels: {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': `${config.project}x`}}}})
  cleanupNamespace(t, foreign)
  const {workspace} = workspaceWith(EMPTY)
  const result = await gcEnvironments({config, workspace, logger: logger()})
  t.deepEqual(result.decisions, [])
  for (const name of [unlabelled, foreign, 'default', 'kube-system']) t.true(await namespaceExists(name), name)
})
