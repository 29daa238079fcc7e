/**
 * The whole `shopsys-ci build` of the example against the test stack, ratios from one run:
 * a build of a commit whose images already exist, deployed in place into the branch's running
 * environment, divided by a cold build (images to build and push, a new namespace). Target ≤ 0.2.
 * Runs are interleaved (cold, in place, cold, in place, ...) so both see the same machine.
 *
 *   test/stack/up && eval "$(test/stack/env)" && npm run build && node --import tsx bench/build.ts [--runs 5]
 */
import {spawnSync} from 'node:child_process'
import {appendFileSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runsIndex = process.argv.indexOf('--runs')
const RUNS = runsIndex === -1 ? 5 : Number(process.argv[runsIndex + 1])
for (const name of ['KUBECONFIG', 'SHOPSYS_CI_TEST_REGISTRY', 'SHOPSYS_CI_TEST_REGISTRY_USER', 'SHOPSYS_CI_TEST_REGISTRY_PASSWORD']) {
  if (!process.env[name]) {
    console.error(`bench/build: ${name} is not set; run test/stack/up and eval "$(test/stack/env)"`)
    process.exit(2)
  }
}
if (!existsSync(path.join(ROOT, 'dist/cli.cjs'))) {
  console.error('bench/build: run `npm run build` first (it measures the compiled CLI)')
  process.exit(2)
}

const ws = mkdtempSync(path.join(tmpdir(), 'shopsys-ci-bench-build-'))
cpSync(path.join(ROOT, 'examples/shopsys-app'), ws, {recursive: true})
copyFileSync('/bin/busybox', path.join(ws, 'docker/busybox'))
copyFileSync('/bin/busybox', path.join(ws, 'docker/elasticsearch/busybox'))
const git = (...args: string[]) => spawnSync('git', ['-C', ws, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], {encoding: 'utf8'})
git('init', '-q')

/** A new commit that changes both images' inputs, so a build of it is cold. */
function newCommit(i: number): string {
  appendFileSync(path.join(ws, 'app/public/index.html'), `<!-- bench ${Date.now()} ${i} -->\n`)
  appendFileSync(path.join(ws, 'docker/elasticsearch/elasticsearch.yml'), `# bench ${Date.now()} ${i}\n`)
  git('add', '-A')
  git('commit', '-qm', `bench ${i}`)
  return git('rev-parse', 'HEAD').stdout.trim()
}

function cli(args: string[], branch: string, commit: string): number {
  const env = {
    ...process.env,
    WORKSPACE: ws,
    BRANCH_NAME: branch,
    GIT_COMMIT: commit,
    DEVELOPMENT_SERVER_DOMAIN: 'shopsys.test',
    DOCKER_REGISTRY: process.env.SHOPSYS_CI_TEST_REGISTRY,
    DOCKER_USERNAME: process.env.SHOPSYS_CI_TEST_REGISTRY_USER,
    DOCKER_PASSWORD: process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD,
    BUILD_TAG: `bench-${process.pid}`,
    APP_ROOT: path.join(ws, 'app'),
  }
  const started = performance.now()
  // The package's command, as Jenkins runs it (bin/shopsys-ci: the launcher of bin/run.js).
  const result = spawnSync(path.join(ROOT, 'bin/shopsys-ci'), args, {env, encoding: 'utf8'})
  if (result.status !== 0) {
    console.error(`bench/build: shopsys-ci ${args.join(' ')} failed (exit ${result.status}):\n${(result.stdout + result.stderr).slice(-3000)}`)
    process.exit(1)
  }
  return performance.now() - started
}

/** Stage name → duration (ms) from the report the build just wrote. */
function stageTimes(): Record<string, number> {
  const report = JSON.parse(readFileSync(path.join(ws, 'shopsys-ci/report.json'), 'utf8')) as {stages: {name: string; durationMs: number}[]}
  return Object.fromEntries(report.stages.map((s) => [s.name, s.durationMs]))
}

const cold: number[] = []
const inPlace: number[] = []
const coldStages: Record<string, number>[] = []
const inPlaceStages: Record<string, number>[] = []
for (let i = 0; i < RUNS; i++) {
  const branch = `bench/build-${process.pid}-${i}`
  const commit = newCommit(i)
  cold.push(cli(['build'], branch, commit))
  coldStages.push(stageTimes())
  inPlace.push(cli(['build'], branch, commit))
  inPlaceStages.push(stageTimes())
  cli(['cleanup'], branch, commit)
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
const c = median(cold)
const p = median(inPlace)
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
console.log(`build of the example (median of ${RUNS}, interleaved)`)
console.log(`  cold (images built and pushed, new namespace)   ${seconds(c)}`)
console.log(`  in place (images reused, namespace running)     ${seconds(p)}`)
console.log(`  in place / cold                                 ${(p / c).toFixed(2)}  (target <= 0.2)`)
console.log('  per stage (median)                    cold    in place')
for (const stage of Object.keys(coldStages[0])) {
  const of = (runs: Record<string, number>[]) => median(runs.map((r) => r[stage] ?? 0))
  console.log(`    ${stage.padEnd(32)} ${seconds(of(coldStages)).padStart(8)}  ${seconds(of(inPlaceStages)).padStart(8)}`)
}
const process_ = (runs: number[], stages: Record<string, number>[]) => median(runs.map((total, i) => total - Object.values(stages[i]).reduce((a, b) => a + b, 0)))
console.log(`    ${'(process start, config, report)'.padEnd(32)} ${seconds(process_(cold, coldStages)).padStart(8)}  ${seconds(process_(inPlace, inPlaceStages)).padStart(8)}`)
