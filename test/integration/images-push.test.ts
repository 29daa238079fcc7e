/**
 * `images push` against the real stack: `images build` (without --push) leaves the images in
 * Debian's dockerd, `images push` pushes them to the htpasswd-protected docker-registry on
 * 127.0.0.1. The fixture app builds FROM scratch with a static busybox; nothing is pulled.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {appendFile, readdir, rm} from 'node:fs/promises'
import path from 'node:path'

import test, {type ExecutionContext} from 'ava'

import {cacheTag} from '../../src/images/cache.js'
import {HttpRegistryClient} from '../../src/images/registry.js'
import {prepareApp} from '../fixtures/images/prepare.js'
import {run, STACK_HINT} from '../helpers/stack.js'
import {cli, type CliRun, filesContaining, json, newCommit, registry, type Report, userEnv} from './images-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const stackTest = registry ? test.serial : test.serial.skip
if (!registry) test.serial(`the test stack is configured (${STACK_HINT})`, (t) => t.fail('SHOPSYS_CI_TEST_REGISTRY* are not set and test/stack/env found no stack'))

const IMAGES = ['php-fpm', 'elasticsearch']
const reference = (name: string, commit: string) => `${registry!.registry}/${registry!.user}/${name}:ci-commit-${commit}`
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A fixture app and a fresh commit (so no tag of it is in the registry yet); its local images are removed afterwards. */
async function setup(t: ExecutionContext, extra: Record<string, string> = {}) {
  const app = await prepareApp()
  const tmp = tempDir('shopsys-ci-images-push-tmp-')
  const commit = newCommit()
  const env = userEnv({GIT_COMMIT: commit, TMPDIR: tmp, ...extra})
  t.teardown(async () => {
    await run('docker', ['rmi', '--force', ...IMAGES.map((n) => reference(n, commit))])
    await Promise.all([app.cleanup(), rm(tmp, {recursive: true, force: true})])
  })
  return {app, tmp, commit, env}
}

async function buildLocally(t: ExecutionContext, dir: string, env: Record<string, string>): Promise<Report> {
  const built = await cli(['images', 'build', '--json', '--workspace', dir], env)
  t.is(built.code, 0, built.stderr)
  const report = json<Report>(built)
  t.deepEqual(report.images.map((i) => [i.name, i.status, i.digest]), IMAGES.map((n) => [n, 'built', undefined]), 'built, not pushed')
  return report
}

function registryClient(): HttpRegistryClient {
  return new HttpRegistryClient({host: registry!.registry}, {credentials: {username: registry!.user, password: registry!.password}})
}

function leftovers(tmp: string) {
  return readdir(tmp).then((names) => names.filter((n) => n.startsWith('shopsys-ci-')))
}

function assertNoPassword(t: ExecutionContext, result: CliRun, password: string) {
  t.false(result.stdout.includes(password), 'stdout')
  t.false(result.stderr.includes(password), 'stderr')
  t.deepEqual([...result.cmdlines].filter((c) => c.includes(password)), [], 'process argument lists')
}

stackTest('images build, then images push: the registry has the tags with the digests reported; a second push reuses them', async (t) => {
  const {app, tmp, commit, env} = await setup(t)
  const client = registryClient()
  await buildLocally(t, app.dir, env)
  for (const name of IMAGES) t.false((await client.manifest(`${registry!.user}/${name}`, `ci-commit-${commit}`)).exists, `${name} is not pushed by images build`)

  const pushed = await cli(['images', 'push', '--json', '--workspace', app.dir], env, {sample: true})
  t.is(pushed.code, 0, pushed.stderr)
  const report = json<Report>(pushed)
  t.is(report.commit, commit)
  t.deepEqual(report.images.map((i) => [i.name, i.status, i.reference]), IMAGES.map((n) => [n, 'pushed', reference(n, commit)]))
  for (const image of report.images) {
    t.regex(image.digest ?? '', /^sha256:[0-9a-f]{64}$/)
    t.deepEqual(await client.manifest(`${registry!.user}/${image.name}`, image.tag), {exists: true, digest: image.digest}, `${image.name} in the registry`)
    t.regex(pushed.stderr, new RegExp(`^\\[${image.name}\\] pushing ${escape(image.reference)} \\(local image sha256:[0-9a-f]{64}\\)$`, 'm'))
    t.regex(pushed.stderr, new RegExp(`^\\[${image.name}\\] pushed ${escape(image.reference)} \\(${image.digest}\\)$`, 'm'))
  }
  t.notRegex(pushed.stderr, /Step \d/, 'nothing is built')
  t.true([...pushed.cmdlines].some((c) => /\bdocker\b.*\blogin\b/.test(c)), 'docker login was seen by the sampler')
  assertNoPassword(t, pushed, registry!.password)
  t.deepEqual(await leftovers(tmp), [], 'the temporary DOCKER_CONFIG is removed')

  const again = await cli(['images', 'push', '--json', '--workspace', app.dir], env)
  t.is(again.code, 0, again.stderr)
  t.deepEqual(json<Report>(again).images.map((i) => [i.name, i.status, i.digest]), report.images.map((i) => [i.name, 'reused', i.digest]))
  t.regex(again.stderr, /^\[php-fpm\] reused .*: already in 127\.0\.0\.1:\d+, not pushed$/m)
  t.notRegex(again.stderr, /The push refers|Login Succeeded|pushing /)

  // --force pushes what the registry already has: the same local image, so the same digest.
  const forced = await cli(['images', 'push', '--force', '--json', '--workspace', app.dir], env)
  t.is(forced.code, 0, forced.stderr)
  t.deepEqual(json<Report>(forced).images.map((i) => [i.name, i.status, i.digest]), report.images.map((i) => [i.name, 'pushed', i.digest]))
})

stackTest('with build.cache.registry, images push makes each pushed image the branch\'s build cache, as images build --push does', async (t) => {
  const {app, commit, env} = await setup(t)
  await appendFile(path.join(app.dir, '.ci/shopsys-ci.yaml'), 'build:\n  cache:\n    registry: true\n')
  const branch = `it/push-cache-${randomBytes(3).toString('hex')}`
  const tag = cacheTag(branch)
  t.teardown(() => run('docker', ['rmi', '--force', ...IMAGES.map((n) => `${registry!.registry}/${registry!.user}/${n}:${tag}`)]).then(() => undefined))
  await cli(['images', 'build', '--workspace', app.dir, '--branch', branch], env).then((r) => t.is(r.code, 0, r.stderr))
  const client = registryClient()
  for (const name of IMAGES) t.false((await client.manifest(`${registry!.user}/${name}`, tag)).exists, `a local build moves no cache tag (${name})`)

  const pushed = await cli(['images', 'push', '--json', '--workspace', app.dir, '--branch', branch], env)
  t.is(pushed.code, 0, pushed.stderr)
  for (const image of json<Report>(pushed).images) {
    t.is(image.reference, reference(image.name, commit))
    t.deepEqual(await client.manifest(`${registry!.user}/${image.name}`, tag), {exists: true, digest: image.digest}, `${image.name}'s cache tag is the pushed image`)
    t.regex(pushed.stderr, new RegExp(`^\\[${image.name}\\] build cache: pushed ${escape(`${registry!.registry}/${registry!.user}/${image.name}:${tag}`)}$`, 'm'))
  }
})

stackTest('a local image that is missing: exit 2 naming its reference and images build, and nothing is pushed', async (t) => {
  const {app, commit, env} = await setup(t)
  await buildLocally(t, app.dir, env)
  const removed = await run('docker', ['rmi', reference('elasticsearch', commit)])
  t.is(removed.code, 0, removed.stderr)

  const result = await cli(['images', 'push', '--workspace', app.dir], env)
  t.is(result.code, 2, result.stderr)
  t.regex(result.stderr, new RegExp(`^Error: 1 image to push is neither in ${escape(registry!.registry)} nor in the Docker daemon at DOCKER_HOST=\\S+, so nothing was pushed:\n {2}- elasticsearch: ${escape(reference('elasticsearch', commit))}$`, 'm'))
  t.regex(result.stderr, /Try:\n {2}- build them first: shopsys-ci images build/)
  t.regex(result.stderr, /\(exit 2, IMAGE_NOT_BUILT\)/)
  t.notRegex(result.stderr, /php-fpm: /, 'the image that is there is not listed')
  t.notRegex(result.stdout + result.stderr, /The push refers|pushing /)
  t.false((await registryClient().manifest(`${registry!.user}/php-fpm`, `ci-commit-${commit}`)).exists, 'php-fpm was not pushed either')

  // Without any build for this commit: both, and --json carries the same.
  const none = await cli(['images', 'push', '--json', '--workspace', app.dir], {...env, GIT_COMMIT: newCommit()})
  t.is(none.code, 2, none.stderr)
  const error = JSON.parse(none.stdout).error
  t.is(error.code, 'IMAGE_NOT_BUILT')
  t.is(error.exitCode, 2)
  t.regex(error.message, /^2 images to push are neither in .* nor in .*:\n {2}- php-fpm: .*\n {2}- elasticsearch: /)
})

stackTest('a wrong password: exit 5, and the password is in no output and no process argument list', async (t) => {
  const {app, tmp, env} = await setup(t)
  await buildLocally(t, app.dir, env)
  const wrong = `wrong-${randomBytes(6).toString('hex')}`

  // The registry lookup is refused first: docker is never asked to log in.
  const looked = await cli(['images', 'push', '--workspace', app.dir], {...env, DOCKER_PASSWORD: wrong}, {sample: true})
  t.is(looked.code, 5, looked.stderr)
  t.regex(looked.stderr, new RegExp(`${escape(registry!.registry)}: authentication refused for user "${registry!.user}"`))
  t.regex(looked.stderr, /DOCKER_PASSWORD/)
  assertNoPassword(t, looked, wrong)

  // --force skips the lookup: docker login --password-stdin is refused, not retried.
  const forced = await cli(['images', 'push', '--force', '--workspace', app.dir], {...env, DOCKER_PASSWORD: wrong}, {sample: true})
  t.is(forced.code, 5, forced.stderr)
  t.regex(forced.stderr, new RegExp(`docker login to ${escape(registry!.registry)} was refused for user "${registry!.user}"`))
  t.regex(forced.stderr, /\(exit 5, REGISTRY\)/)
  t.notRegex(forced.stderr, /attempt 2 of/)
  t.notRegex(forced.stderr, /The push refers/)
  t.true([...forced.cmdlines].some((c) => /\bdocker\b.*\blogin\b/.test(c)), 'docker login was seen by the sampler')
  assertNoPassword(t, forced, wrong)
  t.deepEqual(await leftovers(tmp), [], 'the temporary DOCKER_CONFIG is removed')
  t.deepEqual(await filesContaining(tmp, wrong), [], 'temporary files')
  t.deepEqual(await filesContaining(app.dir, wrong), [], 'workspace files')
  t.false(existsSync(path.join(app.dir, '.docker')))
})
