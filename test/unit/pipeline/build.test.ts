import {readFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {parseConfig} from '../../../src/config/load.js'
import {abortedBy, DeployError, EnvironmentError, ImageBuildError, InterruptedError, PhaseError, withPartialResult} from '../../../src/errors.js'
import {computeNames} from '../../../src/names/index.js'
import {buildOptions, type BuildRun, type BuildStages, runBuild} from '../../../src/pipeline/build.js'
import type {BuildContext} from '../../../src/pipeline/context.js'
import {formatSummary} from '../../../src/pipeline/summary.js'
import {MemoryLogger} from '../../../src/util/log.js'
import {tempDir} from '../../helpers/tmp.js'

const CONFIG = `project: shop
kustomize: {base: k}
phases:
  - {name: fixtures, target: deployment/web, command: [a]}
  - {name: checks, target: deployment/web, command: [b]}
`
// A realistic password: the report redacts every occurrence of it, as docker's output is.
const ENV = {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'push-password'}

async function makeRun(options: Partial<BuildRun['options']> = {}, env: Record<string, string> = ENV): Promise<BuildRun> {
  const workspace = tempDir('shopsys-ci-build-')
  const config = parseConfig(CONFIG, 'c.yaml', {})
  const names = computeNames({branch: 'feature/x', project: 'shop', domain: 'ci.example.com', scheme: 'http', hosts: config.names.hosts})
  const ctx: BuildContext = {config, workspace, env, branch: {branch: 'feature/x', source: 'flag'}, names, domain: 'ci.example.com'}
  return {
    ctx,
    commit: 'c0ffee0',
    identity: {project: 'shop', branch: 'feature/x', slug: names.slug, namespace: names.namespace, commit: 'c0ffee0', owner: 'build-1', ownerSource: 'build', urls: names.urls},
    options: {cleanup: true, keep: false, ...options},
    logger: new MemoryLogger(),
    signal: new AbortController().signal,
  }
}

/** Fake stages that record their calls; `fail` makes one stage throw. */
function fakeStages(calls: string[], fail: Partial<Record<keyof BuildStages | string, Error>> = {}): BuildStages {
  const step = async <T>(name: string, value: T): Promise<T> => {
    calls.push(name)
    if (fail[name]) throw fail[name]
    return value
  }
  return {
    images: () => step('images', [{name: 'php', placeholder: 'php', repository: 'r/u/php', tag: 't', reference: 'r/u/php:t', status: 'built' as const, durationMs: 5}]),
    render: (_run, images) => step('render', {templates: [], manifestsFile: '/m.yaml', objects: images.map((i) => i.reference)}),
    deploy: () => step('deploy', {namespace: 'ns', created: true, fresh: false, keep: false, expiresAt: 'x', applied: [], unchanged: 0, pruned: [], workloads: [], urls: {}, timings: {startedAt: 0, lockedAt: 0, lockWait: 0, terminatingWait: 0, capacityWait: 0, apply: 0, rollout: 0, total: 0}}),
    phase: (_run, name) => step(`phase ${name}`, {phase: name, namespace: 'ns', pod: 'p', exitCode: 0, durationMs: 1, artifacts: [], artifactsDir: 'a', missingArtifacts: []}),
    logs: () => step('logs', {namespace: 'ns', dir: '/ws/shopsys-ci/logs', files: [], skipped: []}),
    cleanup: () => step('cleanup', {namespace: 'ns', outcome: 'deleted' as const, reason: 'gone', durationMs: 1}),
  }
}

test('a successful build runs every stage in order and writes the report', async (t) => {
  const run = await makeRun()
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls))
  t.deepEqual(calls, ['images', 'render', 'deploy', 'phase fixtures', 'phase checks', 'logs', 'cleanup'])
  t.is(result.error, undefined)
  const report = JSON.parse(await readFile(result.reportFile, 'utf8'))
  t.is(report.result, 'success')
  t.is(report.exitCode, 0)
  t.deepEqual(report.stages.map((s: {name: string}) => s.name), ['check', 'images', 'render', 'deploy', 'phase fixtures', 'phase checks', 'logs', 'cleanup'])
  t.is(result.reportFile, path.join(run.ctx.workspace, 'shopsys-ci/report.json'))
  t.regex(formatSummary(result.report, result.reportFile), /SUCCEEDED[\s\S]*images +1 built, 0 reused/)
  t.notRegex(formatSummary(result.report, result.reportFile), /pruned/)
})

test('the summary names what a deploy in place pruned', async (t) => {
  const run = await makeRun()
  const result = await runBuild(run, fakeStages([]))
  const report = {...result.report, deploy: {...result.report.deploy!, pruned: [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'old-worker'}, {apiVersion: 'v1', kind: 'Service', name: 'old'}]}}
  t.regex(formatSummary(report, result.reportFile), /^pruned +deployment\/old-worker, service\/old \(no longer in the manifests\)$/m)
})

test('a failing phase still exports logs and cleans up; the phase\'s exit code wins', async (t) => {
  const run = await makeRun()
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls, {'phase fixtures': new PhaseError('fixtures exited 3')}))
  t.deepEqual(calls, ['images', 'render', 'deploy', 'phase fixtures', 'logs', 'cleanup'])
  t.is(result.error?.exitCode, 7)
  t.is(result.report.exitCode, 7)
  t.deepEqual(result.report.error, {stage: 'phase fixtures', code: 'PHASE', message: 'phase fixtures: fixtures exited 3'})
})

test('a stage\'s message that names the stage already is not prefixed with it again', async (t) => {
  const result = await runBuild(await makeRun(), fakeStages([], {'phase checks': new PhaseError('phase checks failed with exit code 5 (pod p, container c)')}))
  t.is(result.error?.message, 'phase checks failed with exit code 5 (pod p, container c)')
  t.is(result.report.error?.message, 'phase checks failed with exit code 5 (pod p, container c)')
  const missing = await runBuild(await makeRun(), fakeStages([], {'phase fixtures': new PhaseError('phase fixtures: deployment/web does not exist in namespace ns')}))
  t.is(missing.error?.message, 'phase fixtures: deployment/web does not exist in namespace ns')
  t.is(missing.report.stages.find((s) => s.name === 'phase fixtures')?.error, 'phase fixtures: deployment/web does not exist in namespace ns')
})

test('a failed phase is in the report with its exit code and artifacts, and in the summary', async (t) => {
  const run = await makeRun()
  const failed = {phase: 'fixtures', namespace: 'ns', pod: 'p', exitCode: 3, durationMs: 1, artifacts: ['shopsys-ci/artifacts/fixtures/junit.xml'], artifactsDir: 'shopsys-ci/artifacts/fixtures', missingArtifacts: []}
  const result = await runBuild(run, fakeStages([], {'phase fixtures': withPartialResult(new PhaseError('fixtures exited 3'), failed)}))
  t.deepEqual(result.report.phases, [failed])
  t.regex(formatSummary(result.report, result.reportFile), /phase +fixtures: exit 3, 1 artifact\(s\)/)
})

test('a failed rollout still exports logs before cleanup', async (t) => {
  const run = await makeRun()
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls, {deploy: new DeployError('web: CrashLoopBackOff')}))
  t.deepEqual(calls, ['images', 'render', 'deploy', 'logs', 'cleanup'])
  t.is(result.report.exitCode, 6)
})

test('an image failure stops before anything touches the cluster', async (t) => {
  const run = await makeRun()
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls, {images: new ImageBuildError('php: build failed')}))
  t.deepEqual(calls, ['images'])
  t.is(result.report.exitCode, 4)
})

test('an image failure: the images that did finish are in the report and the summary', async (t) => {
  const reused = {name: 'es', placeholder: 'es', repository: 'r/u/es', tag: 't', reference: 'r/u/es:t', digest: 'sha256:1', status: 'reused' as const, durationMs: 5}
  const result = await runBuild(await makeRun(), fakeStages([], {images: withPartialResult(new ImageBuildError('image "php" failed'), [reused])}))
  t.is(result.report.exitCode, 4)
  t.deepEqual(result.report.images, [reused])
  t.deepEqual(JSON.parse(await readFile(result.reportFile, 'utf8')).images, [reused])
  t.regex(formatSummary(result.report, result.reportFile), /^images +0 built, 1 reused$/m)
})

test('keep skips cleanup; no --cleanup leaves the environment', async (t) => {
  const kept: string[] = []
  await runBuild(await makeRun({keep: true}), fakeStages(kept))
  t.false(kept.includes('cleanup'))
  const left: string[] = []
  await runBuild(await makeRun({cleanup: false}), fakeStages(left))
  t.false(left.includes('cleanup'))
  t.true(left.includes('logs'))
})

test('missing environment fails the check stage with exit 3, listing every variable', async (t) => {
  const run = await makeRun({}, {})
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls))
  t.deepEqual(calls, [])
  t.is(result.report.exitCode, 3)
  t.regex(result.error!.message, /DEVELOPMENT_SERVER_DOMAIN/)
})

test('a problem resolving the context deferred (no domain: no names) fails the check stage whatever the variables say', async (t) => {
  const run = await makeRun()
  run.ctx.deferred = [new EnvironmentError([{name: 'GIT_COMMIT', purpose: 'the commit', problem: 'is not set, and x is not a git checkout'}], {suggestions: ['commit first']})]
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls))
  t.deepEqual(calls, [])
  t.is(result.report.exitCode, 3)
  t.regex(result.error!.message, /^check: 1 environment problem:\n {2}- GIT_COMMIT: is not set, and x is not a git checkout/)
  t.true(result.error!.suggestions.includes('commit first'))
})

test('deploy.imagePullSecret: the check stage names the registry credentials it needs', async (t) => {
  const run = await makeRun({}, {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'u', DOCKER_PULL_USERNAME: 'reader'})
  run.ctx.config = {...run.ctx.config, deploy: {...run.ctx.config.deploy, imagePullSecret: true}}
  const calls: string[] = []
  const result = await runBuild(run, fakeStages(calls))
  t.deepEqual(calls, [])
  t.is(result.report.exitCode, 3)
  t.regex(result.error!.message, /DOCKER_PULL_PASSWORD: is not set, but DOCKER_PULL_USERNAME is/)
})

test('a cleanup failure is reported (exit 8) when nothing else failed', async (t) => {
  const run = await makeRun()
  const result = await runBuild(run, fakeStages([], {cleanup: new (class extends Error {})('x')}))
  t.is(result.report.result, 'failure')
  t.is(result.report.stages.at(-1)!.name, 'cleanup')
})

test('an interrupted build skips the remaining stages but still cleans up', async (t) => {
  const run = await makeRun()
  const controller = new AbortController()
  run.signal = controller.signal
  const calls: string[] = []
  const stages = fakeStages(calls)
  const deploy = stages.deploy
  stages.deploy = async (r, f) => {
    const result = await deploy(r, f)
    controller.abort('SIGTERM')
    return result
  }
  const result = await runBuild(run, stages)
  t.deepEqual(calls, ['images', 'render', 'deploy', 'logs', 'cleanup'])
  // One line: where the build was, what it still did, what is left; exit 130 as every interrupted command.
  t.regex(result.error!.message, /^phase fixtures: build of feature\/x: interrupted by SIGTERM while running the phase fixtures stage; exported the logs into \S+; gone$/)
  t.is(result.report.exitCode, 130)
  t.is(result.error!.code, 'INTERRUPTED')
})

test('a build interrupted inside a stage reports the stage\'s own account, and what it left, in one line', async (t) => {
  const run = await makeRun()
  const controller = new AbortController()
  run.signal = controller.signal
  const calls: string[] = []
  const stages = fakeStages(calls)
  stages.deploy = async (r) => {
    controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
    throw InterruptedError.of(abortedBy(r.signal), {what: 'deploy of ns', during: 'waiting for the rollout (after 2s)', released: ['the branch lock'], left: 'namespace ns stays as it is'})
  }
  const result = await runBuild({...run, options: {...run.options, cleanup: false}}, stages)
  t.deepEqual(calls, ['images', 'render', 'logs'])
  t.is(result.report.exitCode, 130)
  t.regex(result.error!.message, /^deploy: build of feature\/x: interrupted by SIGTERM while waiting for the rollout \(after 2s\); released the branch lock; exported the logs into \S+; namespace \S+ left as it is: delete it with `shopsys-ci cleanup`$/)
})

test('a build interrupted in the images stage says, from the stage, which images finished; the report lists them', async (t) => {
  const run = await makeRun()
  const controller = new AbortController()
  run.signal = controller.signal
  const calls: string[] = []
  const stages = fakeStages(calls)
  const done = {name: 'es', placeholder: 'es', repository: 'r/u/es', tag: 't', reference: 'r/u/es:t', status: 'built' as const, durationMs: 5}
  stages.images = async (r) => {
    controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
    const parts = {what: 'images build', during: 'building php', left: 'stopped its docker commands and deleted the temporary DOCKER_CONFIG (the registry login); finished: es (built and pushed: r/u/es:t); not finished: php'}
    throw withPartialResult(InterruptedError.of(abortedBy(r.signal), parts), [done])
  }
  const result = await runBuild(run, stages)
  t.deepEqual(calls, [])
  t.is(result.report.exitCode, 130)
  t.is(
    result.error!.message,
    'images: build of feature/x: interrupted by SIGTERM while images: building php; stopped its docker commands and deleted the temporary DOCKER_CONFIG (the registry login); finished: es (built and pushed: r/u/es:t); not finished: php; nothing was deployed',
  )
  t.deepEqual(result.report.images, [done])
})

test('the owner heartbeat runs from the deploy until before cleanup, also when a phase fails', async (t) => {
  const run = await makeRun()
  const calls: string[] = []
  const stages = fakeStages(calls, {'phase checks': new PhaseError('checks exited 1')})
  stages.heartbeat = async () => {
    calls.push('heartbeat start')
    return {stop: () => void calls.push('heartbeat stop')}
  }
  await runBuild(run, stages)
  t.deepEqual(calls, ['images', 'render', 'deploy', 'heartbeat start', 'phase fixtures', 'phase checks', 'heartbeat stop', 'logs', 'cleanup'])
})

test('deploy gets the objects render parsed with the file, not only the file to parse again', async (t) => {
  const run = await makeRun()
  const parsed = [{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'settings'}}]
  const handed: unknown[] = []
  const stages = fakeStages([])
  const result = await runBuild(run, {
    ...stages,
    render: async () => ({templates: [], manifestsFile: '/m.yaml', objects: ['ConfigMap/settings'], manifests: parsed}),
    deploy: async (r, file, manifests) => {
      handed.push(file, manifests)
      return stages.deploy(r, file, manifests)
    },
  })
  t.is(result.error, undefined)
  t.deepEqual(handed, ['/m.yaml', parsed])
})

test('the report\'s durations are whole milliseconds, like the images\'', async (t) => {
  let clock = 0
  const result = await runBuild(await makeRun(), fakeStages([]), () => (clock += 0.37))
  t.true(result.report.stages.length > 0)
  t.true([result.report.durationMs, ...result.report.stages.map((s) => s.durationMs)].every((ms) => Number.isInteger(ms)), JSON.stringify(result.report.stages))
})

test('build options: a flag given, --no-keep and --no-fresh too, wins over the config; one not given takes the config\'s', (t) => {
  const config = {keep: true, fresh: true}
  t.like(buildOptions({cleanup: true}, config), {cleanup: true, keep: true, fresh: true})
  t.like(buildOptions({cleanup: false, keep: false, fresh: false}, config), {keep: false, fresh: false})
  t.like(buildOptions({cleanup: false, keep: true, fresh: true}, {keep: false, fresh: false}), {keep: true, fresh: true})
})
