import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {copyExample, runCli} from '../../helpers/cli.js'

const readReport = async (ws: string) => JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8')) as {exitCode: number; stages: {name: string; status: string}[]; error: {stage: string; code: string; message: string}}

test('build without DEVELOPMENT_SERVER_DOMAIN names every missing variable at once, as its check stage does, exit 3', async (t) => {
  const ws = await copyExample()
  const result = await runCli(['build', '--workspace', ws], {env: {BRANCH_NAME: 'feature/x', GIT_COMMIT: 'abcdef0', DOCKER_PASSWORD: 'hunter2-secret'}})
  t.is(result.exitCode, 3, result.stderr)
  for (const name of ['DEVELOPMENT_SERVER_DOMAIN', 'DOCKER_USERNAME']) t.regex(result.stderr, new RegExp(`- ${name}: is not set`), name)
  t.false((result.stdout + result.stderr).includes('hunter2-secret'))
  // Once, by the check stage itself (it ran before, in the command, and the stage never started).
  t.is(result.stderr.match(/DEVELOPMENT_SERVER_DOMAIN:/g)?.length, 1, result.stderr)
  t.regex(result.stdout, /==> check/)
  const report = await readReport(ws)
  t.deepEqual(report.stages.map((s) => `${s.name} ${s.status}`), ['check failed'])
  t.like(report, {exitCode: 3, error: {stage: 'check', code: 'ENVIRONMENT'}})
  t.regex(report.error.message, /DOCKER_USERNAME: is not set/)
})

test('build with a config error writes report.json too (step "config", exit 2), and stderr keeps the error as it was', async (t) => {
  const ws = await copyExample()
  await writeFile(path.join(ws, '.ci/shopsys-ci.yaml'), 'project: shop\ndeploy:\n  timout: 5m\n')
  const result = await runCli(['build', '--workspace', ws], {env: {BRANCH_NAME: 'feature/x', DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', GIT_COMMIT: 'abcdef0'}})
  t.is(result.exitCode, 2, result.stderr)
  t.regex(result.stderr, /^Error: 1 problem in the configuration:\n {2}- .*shopsys-ci\.yaml:3:3: deploy\.timout: unknown key/m)
  const report = await readReport(ws)
  t.deepEqual(report.stages, [])
  t.like(report, {exitCode: 2, error: {stage: 'config', code: 'CONFIG_INVALID'}})
  t.regex(report.error.message, /deploy\.timout: unknown key/)
  t.regex(result.stdout, new RegExp(`FAILED .*\\(config, exit 2\\)[\\s\\S]*report +${ws}/shopsys-ci/report\\.json`))
})

test('build with deploy.secrets whose variable is not set stops in its check stage, exit 3, before any image; the set one\'s value is in neither output nor report', async (t) => {
  const ws = await copyExample()
  const file = path.join(ws, '.ci/shopsys-ci.yaml')
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^deploy:\n/m, 'deploy:\n  secrets:\n    app-secrets: {DATABASE_PASSWORD: APP_DB_PASSWORD, API_KEY: APP_API_KEY}\n'))
  const result = await runCli(['build', '--workspace', ws], {
    env: {BRANCH_NAME: 'feature/x', GIT_COMMIT: 'abcdef0', DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'pw', APP_API_KEY: 'feature-x-api-key'},
  })
  t.is(result.exitCode, 3, result.stderr)
  t.regex(result.stderr, /- APP_DB_PASSWORD: is not set \(key DATABASE_PASSWORD of Secret app-secrets \(deploy\.secrets\)\)/)
  const report = await readReport(ws)
  t.deepEqual(report.stages.map((s) => `${s.name} ${s.status}`), ['check failed'])
  t.false((result.stdout + result.stderr + JSON.stringify(report)).includes('feature-x-api-key'))
})
