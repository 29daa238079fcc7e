/**
 * The images stage through BuildKit: a real `docker buildx` plugin (built from the Go module proxy by
 * test/stack/build-buildx) and the BuildKit of the stack's dockerd. The plugin is installed per user
 * (`$HOME/.docker/cli-plugins`, as buildx's manual install does), which the CLI's throw-away
 * DOCKER_CONFIG must not hide. The rest of the suite has no buildx and takes the legacy builder.
 *
 * The stack's dockerd runs with --bridge=none, so RUN steps under BuildKit need `build.network`
 * (the test of the default network checks what the error then says).
 */
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {appendFile, mkdir, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {HttpRegistryClient} from '../../src/images/registry.js'
import {prepareApp} from '../fixtures/images/prepare.js'
import {STACK_HINT} from '../helpers/stack.js'
import {cli, json, newCommit, registry, type Report, userEnv} from './images-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const plugins = process.env.SHOPSYS_CI_TEST_DOCKER_PLUGINS
const ready = registry !== undefined && plugins !== undefined && existsSync(path.join(plugins, 'docker-buildx'))
const stackTest = ready ? test.serial : test.serial.skip
if (!ready) {
  test.serial(`the test stack is configured, with docker buildx (${STACK_HINT})`, (t) =>
    t.fail(`SHOPSYS_CI_TEST_REGISTRY* or SHOPSYS_CI_TEST_DOCKER_PLUGINS (with docker-buildx in it) are not set; test/stack/up builds buildx`),
  )
}

/** A home whose ~/.docker has only the buildx plugin, as after buildx's manual install. */
async function homeWithBuildx(): Promise<string> {
  const home = tempDir('shopsys-ci-buildkit-home-')
  await mkdir(path.join(home, '.docker/cli-plugins'), {recursive: true})
  await symlink(path.join(plugins!, 'docker-buildx'), path.join(home, '.docker/cli-plugins/docker-buildx'))
  return home
}

/** A user's environment with buildx installed per user, and no DOCKER_BUILDKIT=0 (test/stack/env sets it). */
function buildkitEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env = userEnv({HOME: home, GIT_COMMIT: newCommit()})
  delete env.DOCKER_BUILDKIT
  return {...env, ...extra}
}

async function appWithNetwork(network?: string) {
  const app = await prepareApp()
  if (network) await appendFile(path.join(app.dir, '.ci/shopsys-ci.yaml'), `build:\n  network: ${network}\n`)
  return app
}

stackTest('BuildKit through a per-user buildx: both images built, pushed with the reported digests and labels; a second run reuses them', async (t) => {
  const app = await appWithNetwork('none')
  const home = await homeWithBuildx()
  t.teardown(() => Promise.all([app.cleanup(), rm(home, {recursive: true, force: true})]))
  // New content for the ci stage, so BuildKit runs its RUN step rather than take it from its cache.
  await writeFile(path.join(app.dir, 'php-fpm/app/src/nonce.txt'), randomBytes(8).toString('hex'))
  const env = buildkitEnv(home)

  const first = await cli(['images', 'build', '--push', '--json', '--workspace', app.dir], env)
  t.is(first.code, 0, first.stderr)
  t.regex(first.stderr, /building with BuildKit \(docker buildx\)/)
  t.notRegex(first.stderr, /legacy builder|DEPRECATED/)
  // BuildKit's plain progress, line by line under the image's name, the RUN step of the ci stage included.
  t.regex(first.stderr, /^\[php-fpm\] #\d+ \[ci \d+\/\d+\] RUN \["\/bin\/sh", "-c", "test -f src\/index.php/m)
  t.regex(first.stderr, /^\[php-fpm\] #\d+ \d+\.\d+ php-fpm ci stage: checks passed$/m)
  const cold = json<Report>(first)
  t.deepEqual(cold.images.map((i) => [i.name, i.status]), [['php-fpm', 'built'], ['elasticsearch', 'built']])

  const client = new HttpRegistryClient({host: registry!.registry}, {credentials: {username: registry!.user, password: registry!.password}})
  for (const image of cold.images) {
    t.deepEqual(await client.manifest(`${registry!.user}/${image.name}`, image.tag), {exists: true, digest: image.digest})
    const labels = spawnSync('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "org.opencontainers.image.revision"}}', image.reference], {encoding: 'utf8'})
    t.is(labels.stdout.trim(), env.GIT_COMMIT, `${image.name}: the commit label`)
  }
  // The user's ~/.docker was only read: docker login wrote into the throw-away config, not there.
  t.deepEqual(await readdir(path.join(home, '.docker')), ['cli-plugins'])

  const second = await cli(['images', 'build', '--push', '--json', '--workspace', app.dir], env)
  t.is(second.code, 0, second.stderr)
  t.deepEqual(json<Report>(second).images.map((i) => [i.name, i.status, i.digest]), cold.images.map((i) => [i.name, 'reused', i.digest]))
})

stackTest('DOCKER_BUILDKIT=0 keeps the legacy builder where buildx is installed, as docker build does', async (t) => {
  const app = await appWithNetwork('none')
  const home = await homeWithBuildx()
  t.teardown(() => Promise.all([app.cleanup(), rm(home, {recursive: true, force: true})]))
  const result = await cli(['images', 'build', '--json', '--workspace', app.dir], buildkitEnv(home, {DOCKER_BUILDKIT: '0'}))
  t.is(result.code, 0, result.stderr)
  t.regex(result.stderr, /building with the legacy builder \(DOCKER_BUILDKIT=0\)/)
  t.regex(result.stderr, /^\[php-fpm\] Step 1\/\d+ : FROM scratch/m)
})

stackTest('BuildKit on a daemon without a bridge and no build.network: exit 4, BuildKit\'s error and what to set', async (t) => {
  const app = await appWithNetwork()
  const home = await homeWithBuildx()
  t.teardown(() => Promise.all([app.cleanup(), rm(home, {recursive: true, force: true})]))
  const result = await cli(['images', 'build', '--workspace', app.dir], buildkitEnv(home))
  t.is(result.code, 4, result.stderr)
  t.regex(result.stdout, /building with BuildKit/)
  t.regex(result.stderr, /network bridge not found/)
  t.regex(result.stderr, /set build\.network in the config to host, or to none/)
})

stackTest('a failing RUN step under BuildKit: exit 4, the image named with its step\'s output and exit code', async (t) => {
  const app = await appWithNetwork('none')
  const home = await homeWithBuildx()
  t.teardown(() => Promise.all([app.cleanup(), rm(home, {recursive: true, force: true})]))
  const marker = `broken-step-${randomBytes(6).toString('hex')}`
  const dockerfile = path.join(app.dir, 'php-fpm/Dockerfile')
  await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace('FROM base AS ci\n', `FROM base AS ci\nRUN ["/bin/sh", "-c", "echo ${marker} >&2; exit 3"]\n`))
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], buildkitEnv(home))
  t.is(result.code, 4, result.stderr)
  t.regex(result.stderr, /Error: image "php-fpm" failed: build of \S+\/php-fpm:ci-commit-[0-9a-f]{40} failed \(docker exited with \d+\)\n/)
  // The lines quoted under the error carry the step's own output and BuildKit's verdict on it.
  const quoted = result.stderr.slice(result.stderr.indexOf('Error: image "php-fpm" failed'))
  t.regex(quoted, new RegExp(`^\\d+\\.\\d+ ${marker}$`, 'm'))
  t.regex(quoted, /^ERROR: failed to build: .*exit code: 3$/m)
  t.regex(result.stderr, /\(exit 4, IMAGE_BUILD\)/)
})
