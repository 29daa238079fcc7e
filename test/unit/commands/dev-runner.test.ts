/**
 * bin/dev.js runs the sources, whatever oclif manifest an earlier `npm run build` left: a stale one
 * used to hide every command it did not list ("command not found" for a command that exists).
 * The repository is mirrored into a temp dir (sources and packages linked) so its own manifest
 * is never touched.
 */
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {REPO_ROOT} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'

test('a stale oclif manifest does not hide commands from bin/dev.js', (t) => {
  const dir = tempDir('shopsys-ci-dev-runner-')
  for (const linked of ['src', 'node_modules']) symlinkSync(path.join(REPO_ROOT, linked), path.join(dir, linked))
  for (const copied of ['package.json', 'tsconfig.json']) copyFileSync(path.join(REPO_ROOT, copied), path.join(dir, copied))
  mkdirSync(path.join(dir, 'bin'))
  copyFileSync(path.join(REPO_ROOT, 'bin/dev.js'), path.join(dir, 'bin/dev.js'))
  // What an earlier `npm run build` of this version would have left, before the commands were added
  // (oclif itself drops a manifest whose version differs from package.json's).
  const {version} = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}
  writeFileSync(path.join(dir, 'oclif.manifest.json'), JSON.stringify({version, commands: {}}))

  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', path.join(dir, 'bin/dev.js'), ...args], {cwd: dir, encoding: 'utf8', env: {...process.env, NODE_ENV: 'development'}})
  const names = run('names', '--branch', 'feature/x', '--json')
  t.is(names.status, 0, names.stderr)
  t.is(JSON.parse(names.stdout).slug, 'feature-x-217d2bf5')
  const help = run('images', 'push', '--help')
  t.is(help.status, 0, help.stderr)
  t.regex(help.stdout, /USAGE/)
})
