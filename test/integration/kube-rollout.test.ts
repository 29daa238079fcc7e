/**
 * Rollout failures fail fast with diagnostics (exit 6), not at the deadline; and the deadline.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-rollout.test.ts
 */
import test from 'ava'

import {DeployError, ExitCode} from '../../src/errors.js'
import {deployEnvironment} from '../../src/kube/index.js'
import {cleanupProject, deleteSystemNamespace, identityOf, logger, misbehaving, podNames, requireKubeconfig, serveLogs, testConfig, uniqueProject, workspaceWith} from './kube-helpers.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

const cases: Array<[string, RegExp]> = [
  ['crash-loop', /CrashLoopBackOff/],
  ['image-pull-backoff', /ImagePullBackOff/],
  ['err-image-pull', /ErrImagePull/],
  ['create-container-config-error', /CreateContainerConfigError/],
]

for (const [behavior, reason] of cases) {
  test(`${behavior}: exit 6 at once, naming the workload, with pod status, events and logs`, async (t) => {
    const config = testConfig(uniqueProject('roll'), {deploy: {timeout: 120_000}})
    cleanupProject(t, config.project)
    const identity = identityOf(config, `broken-${behavior}`)
    const {manifestsFile} = workspaceWith(misbehaving(behavior))
    const log = logger()
    const started = Date.now()
    const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: log}), {instanceOf: DeployError})
    const elapsed = Date.now() - started
    t.true(elapsed < 30_000, `failed after ${elapsed} ms; the deadline was 120 s`)
    t.is(error.exitCode, ExitCode.deploy)
    t.regex(error.message, /rollout in .* failed/)
    t.regex(error.message, /deployment\/broken/)
    t.regex(error.message, reason)
    t.notRegex(error.message, /deployment\/healthy/)
    const details = error.details ?? ''
    t.regex(details, /^deployment\/broken: /m)
    t.regex(details, /pods:\n {4}pod\/broken-/)
    t.regex(details, reason)
    t.regex(details, /events \(last \d+\):/)
    t.regex(details, /log lines of (init )?container broken-/)
    t.true(log.lines.some((l) => l.startsWith('[rollout] deployment/broken')))
  })
}

test('crash-loop: the log of the previous instance and the BackOff event are shown', async (t) => {
  const config = testConfig(uniqueProject('roll'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'crash-details')
  const {manifestsFile} = workspaceWith(misbehaving('crash-loop'))
  await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  // kwok serves previous-instance logs only when told which file to serve.
  await serveLogs(identity.namespace, await podNames(identity.namespace, 'app=broken'), 'app', ['starting again'], ['PHP Fatal error: Uncaught Exception in index.php:12', 'exit 255'])
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(error.details ?? '', /container broken-[^/]+\/app \(previous instance\):\n {4}\| PHP Fatal error: Uncaught Exception in index.php:12\n {4}\| exit 255/)
  t.regex(error.details ?? '', /Warning {2}BackOff/)
})

test('at the deadline: exit 6 naming what is not ready, not earlier', async (t) => {
  const config = testConfig(uniqueProject('roll'), {deploy: {timeout: 6000}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'unready')
  const {manifestsFile} = workspaceWith(misbehaving('unready'))
  const started = Date.now()
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  const elapsed = Date.now() - started
  t.true(elapsed >= 6000 && elapsed < 20_000, `${elapsed} ms`)
  t.regex(error.message, /timed out after .*not ready: deployment\/broken$/)
  t.regex(error.details ?? '', /Ready=False \(ContainersNotReady\)/)
})

test('pods refused by the namespace quota (no requests): exit 6 at once with the admission message', async (t) => {
  const config = testConfig(uniqueProject('roll'), {deploy: {timeout: 120_000, resourceQuota: {'requests.cpu': '2'}}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'quota-refused')
  const {manifestsFile} = workspaceWith(`apiVersion: apps/v1
kind: Deployment
metadata: {name: no-requests}
spec:
  replicas: 1
  selector: {matchLabels: {app: no-requests}}
  template:
    metadata: {labels: {app: no-requests}}
    spec:
      containers: [{name: app, image: example.invalid/app:1}]
`)
  const started = Date.now()
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.true(Date.now() - started < 30_000, 'not at the deadline')
  t.regex(error.message, /deployment\/no-requests/)
  t.regex(error.message, /pods cannot be created: .*must specify requests\.cpu/)
})
