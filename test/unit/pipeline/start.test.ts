import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import test from 'ava'

import {loadConfig, parseConfig} from '../../../src/config/load.js'
import {ConfigError, EnvironmentError, StageError, UsageError} from '../../../src/errors.js'
import type {BuildReport, BuildStages} from '../../../src/pipeline/build.js'
import {type BuildRequest, startBuild} from '../../../src/pipeline/start.js'
import {MemoryLogger} from '../../../src/util/log.js'
import {tempDir} from '../../helpers/tmp.js'

const CONFIG = 'project: shop\nkustomize: {base: k}\n'
const ENV = {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', GIT_COMMIT: 'c0ffee0', BRANCH_NAME: 'feature/x'}

/** Stages that must not run: every test here fails before or in the check stage. */
function noStages(calls: string[]): BuildStages {
  const never = (name: string) => async (): Promise<never> => {
    calls.push(name)
    throw new Error(`${name} ran`)
  }
  return {preflight: never('preflight'), images: never('images'), render: never('render'), deploy: never('deploy'), phase: never('phase'), logs: never('logs'), cleanup: never('cleanup')}
}

async function request(overrides: Partial<BuildRequest> = {}): Promise<BuildRequest & {logger: MemoryLogger}> {
  const workspace = tempDir('shopsys-ci-start-')
  await writeFile(path.join(workspace, 'c.yaml'), CONFIG)
  return {
    workspace,
    env: ENV,
    loadConfig: () => ({config: parseConfig(CONFIG, 'c.yaml', {}), file: path.join(workspace, 'c.yaml')}),
    flags: {cleanup: true},
    signal: new AbortController().signal,
    ...overrides,
    logger: new MemoryLogger(),
  }
}

const readReport = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as BuildReport

test('a config error still writes the report: failed, its exit code and message, step "config", no stage ran; the error is the original one', async (t) => {
  const error = new ConfigError([{file: 'c.yaml', line: 3, key: 'deploy.timout', message: 'unknown key'}])
  const req = await request({loadConfig: () => { throw error }})
  const calls: string[] = []
  const result = await startBuild(req, noStages(calls))
  t.is(result.error, error)
  t.true(result.reportWritten)
  t.is(result.reportFile, path.join(req.workspace, 'shopsys-ci/report.json'))
  const report = await readReport(result.reportFile)
  t.like(report, {result: 'failure', exitCode: 2, project: '', branch: '', namespace: '', commit: '', urls: {}, images: [], phases: [], stages: []})
  t.deepEqual(report.error, {stage: 'config', code: 'CONFIG_INVALID', message: error.message})
  t.deepEqual(calls, [])
})

test('a branch that cannot be named fails the "names" step, with the project known, and writes the report', async (t) => {
  const req = await request({branchFlag: ' '})
  const result = await startBuild(req, noStages([]))
  t.true(result.error instanceof UsageError)
  const report = await readReport(result.reportFile)
  t.like(report, {result: 'failure', exitCode: 2, project: 'shop', stages: [], error: {stage: 'names', code: 'USAGE'}})
})

test('no domain and no commit: the check stage names each missing variable once, with the others, and nothing after it runs', async (t) => {
  const req = await request({env: {BRANCH_NAME: 'feature/x'}, workspace: tempDir('shopsys-ci-start-nogit-')})
  const calls: string[] = []
  const result = await startBuild(req, noStages(calls))
  t.deepEqual(calls, [])
  t.true(result.error instanceof StageError)
  const inner = (result.error as StageError).cause as EnvironmentError
  t.deepEqual(inner.problems.map((p) => p.name), ['DEVELOPMENT_SERVER_DOMAIN', 'GIT_COMMIT'])
  t.is(result.error!.message.match(/DEVELOPMENT_SERVER_DOMAIN:/g)?.length, 1)
  const report = await readReport(result.reportFile)
  t.deepEqual(report.stages.map((s) => `${s.name} ${s.status}`), ['check failed'])
  t.like(report, {exitCode: 3, branch: 'feature/x', namespace: '', urls: {}, error: {stage: 'check', code: 'ENVIRONMENT'}})
})

test('an invalid domain is the check stage\'s problem too (exit 3, with every other variable), not a names error', async (t) => {
  const req = await request({env: {...ENV, DEVELOPMENT_SERVER_DOMAIN: 'https://ci.example.com'}})
  const result = await startBuild(req, noStages([]))
  t.true(result.error instanceof StageError)
  t.is((result.error as StageError).exitCode, 3)
  t.regex(result.error!.message, /DEVELOPMENT_SERVER_DOMAIN: must be a domain without a scheme/)
})

test('a workspace that does not exist gets no report and no directory: a warning says so, the original error and exit code stay', async (t) => {
  const missing = path.join(tmpdir(), `shopsys-ci-start-missing-${process.pid}`)
  const req = await request({workspace: missing, loadConfig: () => loadConfig({workspace: missing, env: {}})})
  const result = await startBuild(req, noStages([]))
  t.true(result.error instanceof ConfigError)
  t.false(result.reportWritten)
  t.false(existsSync(missing))
  t.true(req.logger.lines.some((l) => l.startsWith(`WARNING: cannot write the report ${missing}/shopsys-ci/report.json: the workspace ${missing} does not exist`)), req.logger.lines.join('\n'))
})

test('a --report-file that cannot be written: a warning, the build\'s own error and exit code stay (in the stages and before them)', async (t) => {
  const base = await request()
  const blocker = path.join(base.workspace, 'a-file')
  await writeFile(blocker, '')
  const flags = {cleanup: false, reportFile: path.join(blocker, 'report.json')}
  // A "password" the check stage's message contains: the report returned (the summary's) is redacted too.
  const inStages = await startBuild({...base, flags, env: {BRANCH_NAME: 'x', GIT_COMMIT: 'c0ffee0', DOCKER_PASSWORD: 'SERVER_DOMAIN'}}, noStages([]))
  t.is((inStages.error as StageError).exitCode, 3)
  t.false(inStages.reportWritten)
  t.false(JSON.stringify(inStages.report).includes('SERVER_DOMAIN'))
  const before = await startBuild({...base, flags, loadConfig: () => { throw new ConfigError([{file: 'c.yaml', message: 'x'}]) }}, noStages([]))
  t.true(before.error instanceof ConfigError)
  t.false(before.reportWritten)
  t.is(base.logger.lines.filter((l) => l.startsWith(`WARNING: cannot write the report ${blocker}/report.json`)).length, 2, base.logger.lines.join('\n'))
})

test('secret values are redacted from the report, also in a message that quotes one', async (t) => {
  const secret = 'hunter2-very-secret'
  const req = await request({env: {...ENV, DOCKER_PASSWORD: secret}, loadConfig: () => { throw new ConfigError([{file: 'c.yaml', message: `project: "${secret}" is not a DNS label`}]) }})
  const result = await startBuild(req, noStages([]))
  const text = await readFile(result.reportFile, 'utf8')
  t.false(text.includes(secret))
  t.regex(text, /project: \\"\*\*\*\\" is not a DNS label/)
  t.false(JSON.stringify(result.report).includes(secret))
})
