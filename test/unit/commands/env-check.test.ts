import test from 'ava'

import {copyExample, runCli} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'

test('env check: every missing or malformed variable at once, exit 3, secrets never printed', async (t) => {
  const ws = await copyExample()
  const result = await runCli(['env', 'check', '--workspace', ws], {env: {NGINX_INGRESS_CONTROLLER_HOST_PORT: '99999', DOCKER_PASSWORD: 'hunter2-secret', DOCKER_REGISTRY: 'https://registry.example.com'}})
  t.is(result.exitCode, 3)
  const out = result.stdout + result.stderr
  for (const name of ['DEVELOPMENT_SERVER_DOMAIN', 'DOCKER_USERNAME', 'NGINX_INGRESS_CONTROLLER_HOST_PORT', 'DOCKER_REGISTRY', 'GIT_COMMIT', 'BRANCH_NAME']) {
    t.regex(result.stderr, new RegExp(`- ${name}: `), name)
  }
  t.regex(result.stderr, /DOCKER_USERNAME: is not set \(registry user/, 'says what the variable is for')
  t.regex(result.stdout, /DOCKER_PASSWORD +set/)
  t.false(out.includes('hunter2-secret'))
})

test('env check: a complete environment passes and shows branch and commit', async (t) => {
  const ws = await copyExample()
  const result = await runCli(['env', 'check', '--workspace', ws, '--json'], {
    env: {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'pw-secret', BRANCH_NAME: 'feature/x', GIT_COMMIT: 'abcdef0'},
  })
  t.is(result.exitCode, 0, result.stderr)
  const json = JSON.parse(result.stdout)
  t.true(json.ok)
  t.is(json.branch, 'feature/x')
  t.is(json.commit, 'abcdef0')
  t.false(result.stdout.includes('pw-secret'))
  t.is(json.variables.find((v: {name: string}) => v.name === 'DOCKER_PASSWORD').value, undefined)
})

test('env check: half of the pull pair with deploy.imagePullSecret is reported like the build\'s check stage does', async (t) => {
  const ws = await copyExample()
  const {readFile, writeFile} = await import('node:fs/promises')
  const file = `${ws}/.ci/shopsys-ci.yaml`
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^deploy:\n/m, 'deploy:\n  imagePullSecret: true\n'))
  const result = await runCli(['env', 'check', '--workspace', ws], {
    env: {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'pw', DOCKER_PULL_USERNAME: 'reader', BRANCH_NAME: 'x', GIT_COMMIT: 'abcdef0'},
  })
  t.is(result.exitCode, 3, result.stdout)
  t.regex(result.stderr, /- DOCKER_PULL_PASSWORD: is not set, but DOCKER_PULL_USERNAME is/)
})

test('config errors exit 2 with file:line:key, without a stack trace', async (t) => {
  const ws = await copyExample()
  const {writeFile} = await import('node:fs/promises')
  await writeFile(`${ws}/.ci/shopsys-ci.yaml`, 'project: shop\ndeploy:\n  timout: 5m\n')
  const result = await runCli(['render', '--workspace', ws], {env: {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', BRANCH_NAME: 'x', GIT_COMMIT: 'abcdef0'}})
  t.is(result.exitCode, 2)
  t.regex(result.stderr, /shopsys-ci\.yaml:3:3: deploy\.timout: unknown key \(did you mean "timeout"\?\)/)
  t.notRegex(result.stderr, /\n\s+at /)
})

test('init writes a starter config that validates, and refuses to overwrite it', async (t) => {
  const ws = tempDir('shopsys-ci-init-')
  const first = await runCli(['init', '--workspace', ws])
  t.is(first.exitCode, 0, first.stderr)
  const names = await runCli(['names', '--workspace', ws, '--branch', 'main', '--json'])
  t.is(names.exitCode, 0, names.stderr)
  t.is(JSON.parse(names.stdout).project, 'my-shop')
  const again = await runCli(['init', '--workspace', ws])
  t.is(again.exitCode, 2)
  t.regex(again.stderr, /already exists; not overwriting it/)
})

test('an unknown flag exits 2 with --json too, the exit code its JSON error names', async (t) => {
  const plain = await runCli(['names', '--bogus'])
  t.is(plain.exitCode, 2, plain.stderr)
  const json = await runCli(['names', '--bogus', '--json'])
  t.is(JSON.parse(json.stdout).error.exitCode, 2)
  t.is(json.exitCode, 2, json.stdout)
})

test('oclif\'s own errors (unknown flag, bad value, missing argument) read like ours: Error:, Try:, (exit 2, USAGE)', async (t) => {
  const plain = await runCli(['names', '--bogus'])
  t.is(plain.stderr, 'Error: Nonexistent flag: --bogus\nTry:\n  - shopsys-ci names --help\n(exit 2, USAGE)\n')
  t.notRegex(plain.stderr, /›|USAGE\n {2}\$/)
  const value = await runCli(['images', 'build', '--parallel', 'x'])
  t.is(value.exitCode, 2, value.stderr)
  t.regex(value.stderr, /^Error: Parsing --parallel/m)
  t.regex(value.stderr, /shopsys-ci images build --help\n\(exit 2, USAGE\)\n$/)
  const missing = await runCli(['run'])
  t.is(missing.exitCode, 2, missing.stderr)
  t.regex(missing.stderr, /^Error: Missing 1 required arg/)
  const json = JSON.parse((await runCli(['logs', 'export', '--bogus', '--json'])).stdout)
  t.deepEqual(json, {error: {message: 'Nonexistent flag: --bogus', code: 'USAGE', exitCode: 2, suggestions: ['shopsys-ci logs export --help']}})
})

test('deploy.secrets: env check lists its variables and exits 3 while one is missing; once the config is loaded, every output masks their values', async (t) => {
  const ws = await copyExample()
  const {readFile, writeFile} = await import('node:fs/promises')
  const file = `${ws}/.ci/shopsys-ci.yaml`
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^deploy:\n/m, 'deploy:\n  secrets:\n    app-secrets: {DATABASE_PASSWORD: APP_DB_PASSWORD, API_KEY: APP_API_KEY}\n'))
  const env = {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'pw', BRANCH_NAME: 'x', GIT_COMMIT: 'abcdef0'}
  const missing = await runCli(['env', 'check', '--workspace', ws], {env: {...env, APP_API_KEY: 'k-123-secret'}})
  t.is(missing.exitCode, 3, missing.stdout)
  t.regex(missing.stderr, /- APP_DB_PASSWORD: is not set \(key DATABASE_PASSWORD of Secret app-secrets \(deploy\.secrets\)\)/)
  t.regex(missing.stdout, /APP_API_KEY +set$/m)
  t.false(missing.stdout.includes('k-123-secret'))
  // A value that happens to occur in the output (here: the branch's slug) is masked there too.
  const names = await runCli(['names', '--workspace', ws, '--branch', 'feature-unmasked'], {env: {...env, APP_DB_PASSWORD: 'feature-unmasked', APP_API_KEY: 'k'}})
  t.is(names.exitCode, 0, names.stderr)
  t.false(names.stdout.includes('feature-unmasked'), names.stdout)
  t.regex(names.stdout, /\*\*\*/)
})
