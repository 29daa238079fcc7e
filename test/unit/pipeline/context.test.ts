import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import test from 'ava'

import {EnvironmentError} from '../../../src/errors.js'
import {resolveCommit} from '../../../src/pipeline/context.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], {encoding: 'utf8'}).trim()
const tempDir = () => mkdtempSync(path.join(tmpdir(), 'shopsys-ci-context-'))

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
