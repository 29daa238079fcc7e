/**
 * Capacity slots and the branch lock under concurrency.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-capacity.test.ts
 */
import test from 'ava'

import {ExitCode, LockTimeoutError} from '../../src/errors.js'
import {cleanupEnvironment, deployEnvironment} from '../../src/kube/index.js'
import {cleanupProject, deleteSystemNamespace, fixture, identityOf, kube, logger, misbehaving, requireKubeconfig, testConfig, uniqueProject, workspaceWith} from './kube-helpers.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

test('capacity 2: the third environment waits for a slot, then exit 9', async (t) => {
  const config = testConfig(uniqueProject('cap'), {capacity: {maxEnvironments: 2, waitTimeout: 4000}})
  cleanupProject(t, config.project)
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const [a, b, c] = ['feature/a', 'feature/b', 'feature/c'].map((branch) => identityOf(config, branch))
  const results = await Promise.all([a, b].map((identity) => deployEnvironment({identity, config, manifestsFile, logger: logger()})))
  t.deepEqual(results.map((r) => r.capacitySlot).sort(), [0, 1])

  const waiting = logger()
  const error = await t.throwsAsync(deployEnvironment({identity: c, config, manifestsFile, logger: waiting}), {instanceOf: LockTimeoutError})
  t.is(error.exitCode, ExitCode.lock)
  // It waited for a slot (and said so) before giving up.
  t.true(waiting.lines.some((l) => /^waiting for a capacity slot \(2 environment\(s\) of .* at most\)/.test(l)), waiting.lines.join('\n'))
  t.regex(error.message, /no capacity slot for .* already has 2 environment\(s\)/)
  t.regex(error.message, new RegExp(a.namespace))
  // Nothing of c was created.
  await t.throwsAsync(kube().core.readNamespace({name: c.namespace}))

  // A redeploy of a or b does not need another slot.
  const again = await deployEnvironment({identity: a, config, manifestsFile, logger: logger()})
  t.is(again.capacitySlot, results[0].capacitySlot)
})

test('capacity: a waiting deploy gets the slot as soon as another environment is cleaned up', async (t) => {
  const config = testConfig(uniqueProject('cap'), {capacity: {maxEnvironments: 1, waitTimeout: 60_000}})
  cleanupProject(t, config.project)
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const a = identityOf(config, 'feature/first')
  const b = identityOf(config, 'feature/second')
  await deployEnvironment({identity: a, config, manifestsFile, logger: logger()})
  const log = logger()
  const waiting = deployEnvironment({identity: b, config, manifestsFile, logger: log})
  await new Promise((r) => setTimeout(r, 2000))
  const cleaned = await cleanupEnvironment({identity: a, config, logger: logger()})
  t.is(cleaned.outcome, 'deleted')
  const result = await waiting
  t.is(result.capacitySlot, 0)
  t.true(result.timings.capacityWait >= 2000, `waited ${result.timings.capacityWait} ms`)
  t.true(log.lines.some((l) => /waiting for a capacity slot/.test(l)))
})

test('capacity: a slot held by a namespace deleted by hand comes back', async (t) => {
  const config = testConfig(uniqueProject('cap'), {capacity: {maxEnvironments: 1, waitTimeout: 30_000}})
  cleanupProject(t, config.project)
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const a = identityOf(config, 'feature/by-hand')
  const b = identityOf(config, 'feature/next')
  await deployEnvironment({identity: a, config, manifestsFile, logger: logger()})
  await kube().core.deleteNamespace({name: a.namespace})
  const result = await deployEnvironment({identity: b, config, manifestsFile, logger: logger()})
  t.is(result.capacitySlot, 0)
})

test('two concurrent deploys of one branch: serialized by the lock, the later one owns the environment', async (t) => {
  const config = testConfig(uniqueProject('lock'))
  cleanupProject(t, config.project)
  const {manifestsFile} = workspaceWith(fixture('app.yaml'))
  const first = identityOf(config, 'feature/same', 'jenkins-same-1')
  const second = {...first, owner: 'jenkins-same-2'}
  const logs = [logger(), logger()]
  const [r1, r2] = await Promise.all([
    deployEnvironment({identity: first, config, manifestsFile, logger: logs[0]}),
    new Promise((r) => setTimeout(r, 200)).then(() => deployEnvironment({identity: second, config, manifestsFile, logger: logs[1]})),
  ])
  // The second got the lock only once the first's whole deploy (apply + rollout) was done.
  const firstDone = r1.timings.startedAt + r1.timings.total
  t.true(r2.timings.lockedAt >= firstDone, `second locked at ${r2.timings.lockedAt}, first done at ${firstDone}`)
  t.true(r2.timings.lockWait > 0)
  t.true(r1.created)
  t.false(r2.created)
  const ns = await kube().core.readNamespace({name: first.namespace})
  t.is(ns.metadata?.annotations?.['shopsys-ci/owner'], 'jenkins-same-2')
})

test('the branch lock times out with exit 9 when another deploy holds it too long', async (t) => {
  const config = testConfig(uniqueProject('lock'), {deploy: {lockTimeout: 1500}})
  cleanupProject(t, config.project)
  const {manifestsFile} = workspaceWith(misbehaving('unready'))
  const slow = identityOf(config, 'feature/slow', 'jenkins-slow-1')
  const holder = deployEnvironment({identity: slow, config: {...config, deploy: {...config.deploy, timeout: 8000}}, manifestsFile, logger: logger()}).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 1500))
  const error = await t.throwsAsync(deployEnvironment({identity: {...slow, owner: 'jenkins-slow-2'}, config, manifestsFile, logger: logger()}), {instanceOf: LockTimeoutError})
  t.regex(error.message, /waiting for the lock of .* held by jenkins-slow-1 \(pid/)
  await holder
})
