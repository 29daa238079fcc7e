import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {loadConfig} from '../../../src/config/load.js'
import {ManifestError, TemplateError} from '../../../src/errors.js'
import {resolveContext} from '../../../src/pipeline/context.js'
import {preflightRender} from '../../../src/pipeline/render-stage.js'
import {copyExample, runCli} from '../../helpers/cli.js'

const ENV = {BRANCH_NAME: 'feature/preflight', DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', GIT_COMMIT: 'a'.repeat(40), DOCKER_USERNAME: 'shopsys', DOCKER_PASSWORD: 'not-used', DOCKER_REGISTRY: '127.0.0.1:5000'}

async function contextOf(ws: string) {
  return resolveContext({loaded: loadConfig({workspace: ws, env: ENV}), workspace: ws, env: ENV})
}

test('the example passes the preflight, and it writes nothing', async (t) => {
  const ws = await copyExample()
  await preflightRender(await contextOf(ws), ENV.GIT_COMMIT)
  t.false(existsSync(path.join(ws, 'config/parameters.yaml')), 'a template target was written')
  t.false(existsSync(path.join(ws, '.shopsys-ci')), 'an overlay was written')
})

test('a typo in a template or a patch, or a missing base, fails the preflight with file and line', async (t) => {
  const template = await copyExample()
  await writeFile(path.join(template, 'config/parameters.yaml.hbs'), 'a: 1\nb: {{urls.thrid}}\n')
  const inTemplate = await t.throwsAsync(preflightRender(await contextOf(template), ENV.GIT_COMMIT), {instanceOf: TemplateError})
  t.regex(inTemplate.message, /config\/parameters\.yaml\.hbs:2: unknown variable in \{\{urls\.thrid\}\}/)

  const patch = await copyExample()
  const patchFile = path.join(patch, 'kubernetes/ci-patches/host-aliases.yaml.hbs')
  await writeFile(patchFile, `${await readFile(patchFile, 'utf8')}# {{hosts.nope}}\n`)
  const inPatch = await t.throwsAsync(preflightRender(await contextOf(patch), ENV.GIT_COMMIT), {instanceOf: TemplateError})
  t.regex(inPatch.message, /kubernetes\/ci-patches\/host-aliases\.yaml\.hbs:\d+: unknown variable in \{\{hosts\.nope\}\}/)

  const base = await copyExample()
  const config = path.join(base, '.ci/shopsys-ci.yaml')
  await writeFile(config, (await readFile(config, 'utf8')).replace('base: kubernetes/overlays/ci', 'base: kubernetes/overlays/cj'))
  await t.throwsAsync(preflightRender(await contextOf(base), ENV.GIT_COMMIT), {instanceOf: ManifestError, message: /kustomize\.base: kubernetes\/overlays\/cj is not a directory/})
})

test('build: a template typo fails the check stage (exit 2), before any image is built', async (t) => {
  const ws = await copyExample()
  await writeFile(path.join(ws, 'config/parameters.yaml.hbs'), 'a: 1\nb: {{urls.thrid}}\n')
  const result = await runCli(['build', '--workspace', ws], {env: ENV})
  t.is(result.exitCode, 2, result.stderr)
  t.regex(result.stderr, /check: config\/parameters\.yaml\.hbs:2: unknown variable/)
  t.notRegex(result.stdout, /==> images/)
  const report = JSON.parse(await readFile(path.join(ws, 'shopsys-ci/report.json'), 'utf8')) as {stages: {name: string; status: string}[]}
  t.deepEqual(report.stages.map((s) => `${s.name} ${s.status}`), ['check failed'])
})
