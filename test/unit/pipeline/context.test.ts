import {execFileSync} from 'node:child_process'

import test from 'ava'

import {parseConfig} from '../../../src/config/load.js'
import {EnvironmentError, UsageError} from '../../../src/errors.js'
import {resolveCommit, resolveContext} from '../../../src/pipeline/context.js'
import {tempDir as newTempDir} from '../../helpers/tmp.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], {encoding: 'utf8'}).trim()
const tempDir = () => newTempDir('shopsys-ci-context-')

test('GIT_COMMIT wins; else the checkout\'s HEAD', async (t) => {
  const dir = tempDir()
  git(dir, 'init', '-q')
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'first')
  t.is(await resolveCommit(dir, {GIT_COMMIT: 'abc123'}), 'abc123')
  t.is(await resolveCommit(dir, {}), git(dir, 'rev-parse', 'HEAD'))
})

test('a repository without a commit, and a directory that is no checkout, each say so', async (t) => {
  const empty = tempDir()
  git(empty, 'init', '-q')
  const error = await t.throwsAsync(resolveCommit(empty, {}), {instanceOf: EnvironmentError})
  t.regex(error.message, /GIT_COMMIT.*is not set, and the git repository in .* has no commit yet/)

  const plain = tempDir()
  const outside = await t.throwsAsync(resolveCommit(plain, {}), {instanceOf: EnvironmentError})
  t.regex(outside.message, /is not a git checkout/)
})

test('deferProblems (build): a missing or invalid domain is deferred to the check stage, with no names that need it; without, it throws', async (t) => {
  const loaded = {config: parseConfig('project: shop\n', 'c.yaml', {})}
  const resolve = (env: Record<string, string>, deferProblems?: boolean) => resolveContext({loaded, workspace: tempDir(), env: {BRANCH_NAME: 'feature/x', ...env}, deferProblems})
  const missing = await resolve({}, true)
  t.deepEqual(missing.deferred?.flatMap((e) => e.problems).map((p) => [p.name, p.problem]), [['DEVELOPMENT_SERVER_DOMAIN', 'is not set']])
  t.deepEqual(missing.names, {branch: 'feature/x', slug: '', namespace: '', hosts: {}, urls: {}})
  const invalid = await resolve({DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com:8000'}, true)
  t.regex(invalid.deferred![0].problems[0].problem, /without a port/)
  t.is((await resolve({DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com'}, true)).deferred, undefined)
  await t.throwsAsync(resolve({}), {instanceOf: EnvironmentError, message: /DEVELOPMENT_SERVER_DOMAIN: is not set/})
  await t.throwsAsync(resolve({DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com:8000'}), {instanceOf: UsageError})
})
