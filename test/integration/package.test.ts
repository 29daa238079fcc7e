/**
 * The CLI as npm publishes it (what `npx shopsys-kube-ci@<version>` runs on an agent): `npm pack`,
 * unpacked outside the repository, with the dependencies installed next to it. It must find its
 * commands and help class in the bundle (oclif's explicit discovery, package.json `oclif`), start
 * without src/ or a tsconfig, and cache its compiled code. Needs `npm run build` (test/run-all does).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import test from 'ava'

import {cleanEnv, copyExample, REPO_ROOT} from '../helpers/cli.js'
import {requireStackEnv} from '../helpers/stack.js'
import {tempDir} from '../helpers/tmp.js'

const stack = requireStackEnv()

/** The packed package, unpacked into a directory of its own: <dir>/package. */
function unpack(): string {
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli.cjs'))) throw new Error('run `npm run build` first (test/run-all does)')
  const dir = tempDir('shopsys-ci-package-')
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], {cwd: REPO_ROOT, encoding: 'utf8'})
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`)
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!
  const untar = spawnSync('tar', ['-xzf', tarball], {cwd: dir, encoding: 'utf8'})
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`)
  // The installed dependencies (npm would put the same versions there): no network in tests.
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'package/node_modules'))
  return path.join(dir, 'package')
}

const pkg = unpack()
const cacheHome = tempDir('shopsys-ci-package-cache-')

function cli(args: string[], env: Record<string, string | undefined> = {}, cwd = tmpdir()) {
  const result = spawnSync(process.execPath, [path.join(pkg, 'bin/run.js'), ...args], {
    cwd,
    env: cleanEnv({XDG_CACHE_HOME: cacheHome, DEBUG: 'shopsys-ci:compile-cache', ...env}),
    encoding: 'utf8',
  })
  return {exitCode: result.status ?? 1, stdout: result.stdout, stderr: result.stderr}
}

test.serial('the package holds the bundle and nothing of the sources', (t) => {
  const files = readdirSync(pkg, {recursive: true}).map(String)
  for (const file of ['bin/shopsys-ci', 'bin/run.js', 'dist/cli.cjs', 'dist/kube-client.cjs', 'dist/boot.cjs', 'oclif.manifest.json', 'package.json']) {
    t.true(files.includes(file), file)
  }
  t.false(files.some((f) => f.startsWith('src') || f.startsWith('test') || f === 'tsconfig.json'), files.join(' '))
})

test.serial('the bundle files call no import(): on Node 20 it fails in code that V8 took from its cache', (t) => {
  for (const file of ['dist/cli.cjs', 'dist/kube-client.cjs', 'dist/boot.cjs']) {
    const calls = [...readFileSync(path.join(pkg, file), 'utf8').matchAll(/(?<![.\w$])import\((?!\))/g)]
    t.is(calls.length, 0, file)
  }
})

test.serial('the packed CLI lists every command in its help, with the exit codes', (t) => {
  const help = cli(['--help'])
  t.is(help.exitCode, 0, help.stderr)
  for (const command of ['build', 'cleanup', 'deploy', 'env', 'gc', 'images', 'init', 'list', 'logs', 'names', 'render', 'run', 'status']) {
    t.regex(help.stdout, new RegExp(`^  ${command} `, 'm'), command)
  }
  t.regex(help.stdout, /EXIT CODES/)
  const topic = cli(['images', 'build', '--help'])
  t.is(topic.exitCode, 0, topic.stderr)
  t.regex(topic.stdout, /shopsys-ci images build/)
  t.regex(topic.stdout, /EXIT CODES/)
})

test.serial('the packed CLI runs a command, and an unknown one fails like any usage error', (t) => {
  const names = cli(['names', '--json', '--branch', 'feature/Packed One'], {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', SHOPSYS_CI_PROJECT: 'packed'})
  t.is(names.exitCode, 0, names.stderr)
  t.like(JSON.parse(names.stdout), {branch: 'feature/Packed One', project: 'packed'})
  const unknown = cli(['nosuchcommand'])
  t.is(unknown.exitCode, 2, unknown.stdout + unknown.stderr)
})

test.serial('the package\'s command is bin/shopsys-ci, which runs the CLI with Node from PATH', (t) => {
  const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as {bin: Record<string, string>}
  t.deepEqual(manifest.bin, {'shopsys-ci': './bin/shopsys-ci'})
  // npm links the command where its bin directory is not: the launcher finds run.js through the link.
  const linkDir = tempDir('shopsys-ci-package-bin-')
  symlinkSync(path.join(pkg, 'bin/shopsys-ci'), path.join(linkDir, 'shopsys-ci'))
  const result = spawnSync('sh', [path.join(linkDir, 'shopsys-ci'), 'names', '--json', '--branch', 'feature/linked'], {
    cwd: tmpdir(),
    env: cleanEnv({XDG_CACHE_HOME: cacheHome, DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', SHOPSYS_CI_PROJECT: 'linked'}),
    encoding: 'utf8',
  })
  t.is(result.status, 0, result.stderr)
  t.like(JSON.parse(result.stdout), {branch: 'feature/linked', project: 'linked'})
})

test.serial('the packed CLI talks to the cluster, and compiles both of its files from the cache the second time', async (t) => {
  const workspace = await copyExample()
  const env = {KUBECONFIG: stack.kubeconfig, WORKSPACE: workspace}
  const first = cli(['list', '--json'], env, workspace)
  t.is(first.exitCode, 0, first.stderr)
  t.true(Array.isArray(JSON.parse(first.stdout).environments))
  const second = cli(['list', '--json'], env, workspace)
  t.is(second.exitCode, 0, second.stderr)
  t.regex(second.stderr, /cli\.cjs: compile cache hit/)
  t.regex(second.stderr, /kube-client\.cjs: compile cache hit/)
})
