import {rm} from 'node:fs/promises'

import test from 'ava'
import {simpleGit} from 'simple-git'

import {UsageError} from '../../../src/errors.js'
import {branchFromJobName, resolveBranch} from '../../../src/names/branch.js'
import {tempDir} from '../../helpers/tmp.js'

test('JOB_NAME: last segment, URL-decoded', (t) => {
  t.is(branchFromJobName('shop/feature%2FJIRA-1_Über'), 'feature/JIRA-1_Über')
  t.is(branchFromJobName('shop/feature%2FJIRA-1_%C3%9Cber'), 'feature/JIRA-1_Über')
  t.is(branchFromJobName('folder/shop/release%2F1.2'), 'release/1.2')
  t.is(branchFromJobName('my-job'), 'my-job')
  t.is(branchFromJobName('shop/master/'), 'master')
  t.is(branchFromJobName('shop/a%20b'), 'a b')
  t.is(branchFromJobName('shop/100%25'), '100%')
})

test('JOB_NAME: malformed escapes are kept, not fatal', (t) => {
  t.is(branchFromJobName('shop/100%'), '100%')
  t.is(branchFromJobName('shop/a%zzb'), 'a%zzb')
  t.is(branchFromJobName('shop/x%C3'), 'x%C3', 'an incomplete UTF-8 sequence stays encoded')
  t.is(branchFromJobName('shop/%E6%97%A5%2F%ZZ'), '日/%ZZ')
})

test('JOB_NAME that names no branch is a usage error', (t) => {
  t.throws(() => branchFromJobName('shop/%20'), {instanceOf: UsageError})
  t.throws(() => branchFromJobName('/'), {instanceOf: UsageError})
})

const cwd = '/nonexistent-so-git-would-fail'

test('source precedence: flag, BRANCH_NAME, JOB_NAME', async (t) => {
  const env = {BRANCH_NAME: 'from-branch-name', JOB_NAME: 'shop/from%2Fjob'}
  t.deepEqual(await resolveBranch({flag: 'from-flag', env, cwd}), {branch: 'from-flag', source: 'flag'})
  t.deepEqual(await resolveBranch({env, cwd}), {branch: 'from-branch-name', source: 'BRANCH_NAME'})
  t.deepEqual(await resolveBranch({env: {JOB_NAME: env.JOB_NAME}, cwd}), {branch: 'from/job', source: 'JOB_NAME'})
})

test('empty environment variables count as unset; values are trimmed', async (t) => {
  t.deepEqual(await resolveBranch({env: {BRANCH_NAME: '', JOB_NAME: 'shop/x'}, cwd}), {branch: 'x', source: 'JOB_NAME'})
  t.deepEqual(await resolveBranch({env: {BRANCH_NAME: ' feature/a\n'}, cwd}), {branch: 'feature/a', source: 'BRANCH_NAME'})
})

test('an empty --branch is a usage error', async (t) => {
  await t.throwsAsync(resolveBranch({flag: '', env: {BRANCH_NAME: 'x'}, cwd}), {instanceOf: UsageError, message: /--branch/})
  await t.throwsAsync(resolveBranch({flag: '  ', env: {}, cwd}), {instanceOf: UsageError})
})

test('"HEAD" is refused wherever it comes from: a detached checkout\'s output, never a branch', async (t) => {
  for (const [options, from] of [
    [{flag: 'HEAD', env: {}}, '--branch'],
    [{env: {BRANCH_NAME: 'HEAD\n'}}, 'BRANCH_NAME'],
    [{env: {JOB_NAME: 'shop/HEAD'}}, 'JOB_NAME'],
  ] as const) {
    await t.throwsAsync(resolveBranch({...options, cwd}), {instanceOf: UsageError, message: new RegExp(`^${from} is "HEAD", which is not a branch name`)})
  }
  t.deepEqual(await resolveBranch({env: {BRANCH_NAME: 'head'}, cwd}), {branch: 'head', source: 'BRANCH_NAME'}, 'only the exact word')
})

test('shell metacharacters pass through untouched', async (t) => {
  const branch = '$(rm -rf /);`id`'
  t.deepEqual(await resolveBranch({env: {BRANCH_NAME: branch}, cwd}), {branch, source: 'BRANCH_NAME'})
})

test.serial('git fallback: the checked-out branch of a real repository', async (t) => {
  const dir = tempDir('shopsys-ci-names-')
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  const git = simpleGit({baseDir: dir, config: ['user.name=Test', 'user.email=test@example.com', 'commit.gpgsign=false']})
  await git.raw(['init', '--initial-branch=main'])
  await git.raw(['commit', '--allow-empty', '-m', 'first'])

  t.deepEqual(await resolveBranch({env: {}, cwd: dir}), {branch: 'main', source: 'git'})

  await git.raw(['checkout', '-b', 'feature/Über-1'])
  t.deepEqual(await resolveBranch({env: {}, cwd: dir}), {branch: 'feature/Über-1', source: 'git'})
  t.deepEqual(await resolveBranch({env: {BRANCH_NAME: 'from-env'}, cwd: dir}), {branch: 'from-env', source: 'BRANCH_NAME'})

  await git.raw(['checkout', '--detach'])
  const error = await t.throwsAsync(resolveBranch({env: {}, cwd: dir}), {instanceOf: UsageError})
  t.regex(error!.message, /detached HEAD/)
  t.true(error!.suggestions.some((s) => s.includes('BRANCH_NAME')))
  t.true(error!.suggestions.some((s) => s.includes('--branch')))
  t.deepEqual(await resolveBranch({env: {JOB_NAME: 'shop/feature%2Fx'}, cwd: dir}), {branch: 'feature/x', source: 'JOB_NAME'})
})

test.serial('git fallback: a repository without commits yet has a branch already', async (t) => {
  const dir = tempDir('shopsys-ci-names-')
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  await simpleGit({baseDir: dir}).raw(['init', '--initial-branch=feature/first'])
  t.deepEqual(await resolveBranch({env: {}, cwd: dir}), {branch: 'feature/first', source: 'git'})
})

test.serial('git fallback outside a repository is a usage error saying what to set', async (t) => {
  const dir = tempDir('shopsys-ci-names-')
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  const error = await t.throwsAsync(resolveBranch({env: {}, cwd: dir}), {instanceOf: UsageError})
  t.regex(error!.message, /cannot determine the branch.*not a git repository/)
  await t.throwsAsync(resolveBranch({env: {}, cwd}), {instanceOf: UsageError, message: /cannot determine the branch/})
})
