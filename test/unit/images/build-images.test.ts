import {rm} from 'node:fs/promises'

import test from 'ava'

import {ConfigError, ImageBuildError, InterruptedError, partialResultOf, RegistryError} from '../../../src/errors.js'
import {buildImages, formatImageResults, type ImagesContext, stripCredentials} from '../../../src/images/index.js'
import type {ImageBuilder, ImagePlan, ImageResult} from '../../../src/images/types.js'
import {MemoryLogger} from '../../../src/util/log.js'
import {DIGEST, FakePusher, FakeRegistry} from './_fakes.js'
import {COMMIT, configWith, image, workspace} from './_helpers.js'

const PASSWORD = 'pw-Unique-7f3a'

class FakeBuilder implements ImageBuilder {
  readonly built: string[] = []
  running = 0
  peak = 0
  constructor(private readonly failing: string[] = [], private readonly delayMs = 5) {}
  async describe() {
    return 'a fake builder'
  }
  async build(plan: ImagePlan, labels: Record<string, string>, options: {onLine: (l: string) => void}) {
    this.peak = Math.max(this.peak, ++this.running)
    options.onLine(`Step 1/1 : building ${plan.name} with ${PASSWORD} in a line`)
    await new Promise((r) => setTimeout(r, this.delayMs))
    this.running--
    if (this.failing.includes(plan.name)) {
      // As DockerCliImageBuilder words it (docker-cli.test.ts).
      throw new ImageBuildError(`build of ${plan.reference} failed (docker exited with 1)`, {details: `step 3\nerror: no such file: ${plan.name}.txt`})
    }
    t_labels = labels
    this.built.push(plan.name)
  }
}
let t_labels: Record<string, string> = {}

function context(ws: string, images = ['php-fpm', 'elasticsearch'].map((n) => image(n)), extra: Partial<ImagesContext> = {}) {
  const logger = new MemoryLogger()
  const registry = new FakeRegistry()
  const builder = new FakeBuilder()
  const pusher = new FakePusher()
  const logins: number[] = []
  const ctx: ImagesContext = {
    config: configWith(images),
    workspace: ws,
    env: {DOCKER_REGISTRY: '127.0.0.1:5000', DOCKER_USERNAME: 'ci', DOCKER_PASSWORD: PASSWORD, GIT_URL: 'https://user:tok@git.example/shop.git'},
    commit: COMMIT,
    logger,
    push: true,
    services: {registry, builder, pusher, login: async () => void logins.push(1)},
    ...extra,
  }
  return {ctx, logger, registry, builder, pusher, logins}
}

test('tags missing from the registry are built and pushed; results in config order with digests', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const {ctx, builder, pusher, logger, logins} = context(ws)
  const results = await buildImages(ctx)
  t.deepEqual(
    results.map(({durationMs, ...r}) => (t.true(durationMs >= 0), r)),
    ['php-fpm', 'elasticsearch'].map((name) => ({
      name,
      placeholder: name,
      repository: `127.0.0.1:5000/ci/${name}`,
      tag: `ci-commit-${COMMIT}`,
      reference: `127.0.0.1:5000/ci/${name}:ci-commit-${COMMIT}`,
      digest: DIGEST('e'),
      status: 'built',
    })),
  )
  t.deepEqual(builder.built.sort(), ['elasticsearch', 'php-fpm'])
  t.is(pusher.pushed.length, 2)
  t.is(logins.length, 1, 'logged in once')
  t.deepEqual(t_labels, {
    'org.opencontainers.image.created': t_labels['org.opencontainers.image.created'],
    'org.opencontainers.image.revision': COMMIT,
    'org.opencontainers.image.source': 'https://git.example/shop.git',
  })
  t.regex(t_labels['org.opencontainers.image.created'], /^\d{4}-\d\d-\d\dT/)
  // Output lines are prefixed with the image and the password never shows.
  t.true(logger.lines.includes('[php-fpm] Step 1/1 : building php-fpm with *** in a line'))
  t.false(logger.lines.join('\n').includes(PASSWORD))
  t.false(JSON.stringify(results).includes(PASSWORD))
  t.regex(formatImageResults(results), /^IMAGE\s+STATUS\s+REFERENCE\s+DIGEST\s+TIME\nphp-fpm\s+built\s+127\.0\.0\.1:5000\/ci\/php-fpm:ci-commit-/)
})

test('tags already in the registry are reused: neither built nor pushed, no login', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const c = context(ws)
  c.ctx.services!.registry = new FakeRegistry({'ci/php-fpm': DIGEST('a'), 'ci/elasticsearch': DIGEST('b')})
  const results = await buildImages(c.ctx)
  t.deepEqual(results.map((r) => [r.status, r.digest]), [['reused', DIGEST('a')], ['reused', DIGEST('b')]])
  t.deepEqual(c.builder.built, [])
  t.deepEqual(c.pusher.pushed, [])
  t.is(c.logins.length, 0)
})

test('only the missing image is built', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const c = context(ws)
  c.ctx.services!.registry = new FakeRegistry({'ci/elasticsearch': DIGEST('b')})
  const results = await buildImages(c.ctx)
  t.deepEqual(results.map((r) => r.status), ['built', 'reused'])
  t.deepEqual(c.builder.built, ['php-fpm'])
})

test('--force-build does not ask the registry; without push nothing is pushed and there is no digest', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const c = context(ws, undefined, {forceBuild: true, push: false})
  const results = await buildImages(c.ctx)
  t.deepEqual(c.registry.asked, [])
  t.deepEqual(c.pusher.pushed, [])
  t.deepEqual(results.map((r) => [r.status, r.digest]), [['built', undefined], ['built', undefined]])
  t.is(c.logins.length, 0)
})

test('parallel limit and dependsOn are respected', async (t) => {
  const names = ['base', 'a', 'b', 'c', 'd']
  const ws = await workspace(names)
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const images = [image('a', {dependsOn: ['base']}), image('b'), image('c'), image('d'), image('base')]
  const c = context(ws, images, {parallel: 2})
  c.ctx.services!.builder = new FakeBuilder([], 15)
  const results = await buildImages(c.ctx)
  const builder = c.ctx.services!.builder as FakeBuilder
  t.is(builder.peak, 2)
  t.true(builder.built.indexOf('base') < builder.built.indexOf('a'))
  t.deepEqual(results.map((r) => r.name), ['a', 'b', 'c', 'd', 'base'], 'results in config order')
})

test('a build failure: exit 4, the image named, its last lines, and which images finished', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch', 'redis'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const images = [image('php-fpm'), image('elasticsearch', {}), image('redis', {dependsOn: ['php-fpm']})]
  const c = context(ws, images, {parallel: 2})
  c.ctx.services!.builder = new FakeBuilder(['php-fpm'])
  const error = await t.throwsAsync(buildImages(c.ctx), {instanceOf: ImageBuildError})
  t.is(error.exitCode, 4)
  const headline = error.message.split('\n')[0]
  t.regex(headline, /^image "php-fpm" failed: build of 127\.0\.0\.1:5000\/ci\/php-fpm:ci-commit-[0-9a-f]{40} failed \(docker exited with 1\)$/)
  t.is(headline.split('"php-fpm"').length, 2, 'the image is named once')
  t.regex(error.message, /finished: elasticsearch \(built and pushed: 127\.0\.0\.1:5000\/ci\/elasticsearch:ci-commit-/)
  t.regex(error.message, /not finished: php-fpm \(build failed: .*\); redis \(not started: depends on "php-fpm"/)
  t.regex(error.message, /error: no such file: php-fpm\.txt/)
  t.false(error.message.includes(PASSWORD))
  // What did finish is the error's partial result (build's report lists it).
  t.deepEqual(partialResultOf<{name: string; status: string}[]>(error)?.map((r) => [r.name, r.status]), [['elasticsearch', 'built']])
})

test('a registry failure: exit 5', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const c = context(ws)
  c.ctx.services!.registry = new FakeRegistry({}, new RegistryError('registry fake is unreachable'))
  const error = await t.throwsAsync(buildImages(c.ctx), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, /unreachable/)
  t.regex(error.message, /finished: none/)
})

test('a missing Dockerfile or context: exit 2 before anything is asked or built', async (t) => {
  const ws = await workspace(['php-fpm'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const c = context(ws)
  const error = await t.throwsAsync(buildImages(c.ctx), {instanceOf: ConfigError})
  t.is(error.exitCode, 2)
  t.regex(error.message, /elasticsearch/)
  t.deepEqual(c.registry.asked, [])
  t.deepEqual(c.builder.built, [])
})

test('no images: nothing to do', async (t) => {
  const c = context('/nonexistent', [])
  t.deepEqual(await buildImages(c.ctx), [])
})

test('stripCredentials keeps the source URL but not its secrets', (t) => {
  t.is(stripCredentials('https://user:tok@git.example/shop.git'), 'https://git.example/shop.git')
  t.is(stripCredentials('git@github.example:org/shop.git'), 'git@github.example:org/shop.git')
})

test('interrupted (the command\'s first signal): one InterruptedError (exit 130) saying what was running, what finished and what not; the finished images are its partial result', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const controller = new AbortController()
  const {ctx, pusher} = context(ws, undefined, {signal: controller.signal})
  ctx.services!.builder = {
    describe: async () => 'a fake builder',
    async build(plan, _labels, options) {
      if (plan.name !== 'php-fpm') return
      // php-fpm builds until it is stopped; the signal comes once elasticsearch is pushed.
      const stopped = new Promise((_resolve, reject) => options.signal!.addEventListener('abort', () => reject(new ImageBuildError(`build of ${plan.reference} was stopped by SIGTERM`)), {once: true}))
      while (pusher.pushed.length === 0) await new Promise((r) => setTimeout(r, 5))
      controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
      await stopped
    },
  }
  const error = await t.throwsAsync(buildImages(ctx), {instanceOf: InterruptedError})
  t.is(error.exitCode, 130)
  t.is(error.message, `images build: interrupted by SIGTERM while building php-fpm; finished: elasticsearch (built and pushed: 127.0.0.1:5000/ci/elasticsearch:ci-commit-${COMMIT}); not finished: php-fpm`)
  t.deepEqual(partialResultOf<ImageResult[]>(error)?.map((r) => [r.name, r.status]), [['elasticsearch', 'built']])
})

test('already interrupted: nothing is asked or built', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const {ctx, registry, builder} = context(ws, undefined, {signal: AbortSignal.abort(new InterruptedError('interrupted by SIGINT', {signal: 'SIGINT'}))})
  const error = await t.throwsAsync(buildImages(ctx), {instanceOf: InterruptedError})
  t.is(error.message, 'images build: interrupted by SIGINT; finished: none; not finished: php-fpm, elasticsearch')
  t.deepEqual(registry.asked, [])
  t.deepEqual(builder.built, [])
})

test('interrupted after another image failed on its own: the line names only what was still running', async (t) => {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const controller = new AbortController()
  const {ctx} = context(ws, undefined, {signal: controller.signal})
  let esFailed = false
  ctx.services!.builder = {
    describe: async () => 'a fake builder',
    async build(plan, _labels, options) {
      if (plan.name === 'elasticsearch') {
        esFailed = true
        throw new ImageBuildError(`build of ${plan.reference} failed (docker exited with 1)`)
      }
      const stopped = new Promise((_resolve, reject) => options.signal!.addEventListener('abort', () => reject(new ImageBuildError('stopped')), {once: true}))
      // The signal comes a little after elasticsearch failed (a timer later: its failure has been handled).
      do await new Promise((r) => setTimeout(r, 5))
      while (!esFailed)
      controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
      await stopped
    },
  }
  const error = await t.throwsAsync(buildImages(ctx), {instanceOf: InterruptedError})
  t.is(error.message, 'images build: interrupted by SIGTERM while building php-fpm; finished: none; not finished: php-fpm, elasticsearch')
})
