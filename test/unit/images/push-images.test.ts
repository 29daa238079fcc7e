import {rm} from 'node:fs/promises'

import test from 'ava'

import {ConfigError, ImageNotBuiltError, InterruptedError, RegistryError, ToolError} from '../../../src/errors.js'
import {formatImageResults, pushImages, type PushImagesContext} from '../../../src/images/index.js'
import {cacheTag} from '../../../src/images/cache.js'
import type {CacheImageStore, LocalImageStore} from '../../../src/images/types.js'
import {MemoryLogger} from '../../../src/util/log.js'
import {DIGEST, FakeLocalImages, FakePusher, FakeRegistry} from './_fakes.js'
import {COMMIT, configWith, image, workspace} from './_helpers.js'

const PASSWORD = 'pw-Unique-push-5e1d'
const ref = (name: string) => `127.0.0.1:5000/ci/${name}:ci-commit-${COMMIT}`

function context(ws: string, images = ['php-fpm', 'elasticsearch'].map((n) => image(n)), extra: Partial<PushImagesContext> = {}) {
  const logger = new MemoryLogger()
  const registry = new FakeRegistry()
  const pusher = new FakePusher()
  const localImages = new FakeLocalImages(images.map((i) => ref(i.name)))
  const logins: number[] = []
  const ctx: PushImagesContext = {
    config: configWith(images),
    workspace: ws,
    env: {DOCKER_REGISTRY: '127.0.0.1:5000', DOCKER_USERNAME: 'ci', DOCKER_PASSWORD: PASSWORD},
    commit: COMMIT,
    logger,
    services: {registry, pusher, localImages, login: async () => void logins.push(1)},
    ...extra,
  }
  return {ctx, logger, registry, pusher, localImages, logins}
}

async function tempWorkspace(t: {teardown: (fn: () => Promise<void>) => void}, names = ['php-fpm', 'elasticsearch']): Promise<string> {
  const ws = await workspace(names)
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  return ws
}

test('local images whose tags the registry lacks are pushed: status pushed, digest, config order, one login', async (t) => {
  const c = context(await tempWorkspace(t))
  const results = await pushImages(c.ctx)
  t.deepEqual(
    results.map(({durationMs, ...r}) => (t.true(durationMs >= 0), r)),
    ['php-fpm', 'elasticsearch'].map((name) => ({
      name,
      placeholder: name,
      repository: `127.0.0.1:5000/ci/${name}`,
      tag: `ci-commit-${COMMIT}`,
      reference: ref(name),
      digest: DIGEST('e'),
      status: 'pushed',
    })),
  )
  t.deepEqual(c.registry.asked.sort(), [`ci/elasticsearch:ci-commit-${COMMIT}`, `ci/php-fpm:ci-commit-${COMMIT}`])
  t.deepEqual(c.localImages.asked.sort(), [ref('elasticsearch'), ref('php-fpm')])
  t.deepEqual(c.pusher.pushed.sort(), [ref('elasticsearch'), ref('php-fpm')])
  t.is(c.logins.length, 1)
  t.true(c.logger.lines.includes(`[php-fpm] pushing ${ref('php-fpm')} (local image ${DIGEST('a')})`))
  t.true(c.logger.lines.includes(`[php-fpm] pushed ${ref('php-fpm')} (${DIGEST('e')})`))
  t.regex(formatImageResults(results), /\nphp-fpm\s+pushed\s+127\.0\.0\.1:5000\/ci\/php-fpm:ci-commit-\S+\s+sha256:e{64}/)
})

test('tags already in the registry are reused: not pushed, the local daemon not asked, no login', async (t) => {
  const c = context(await tempWorkspace(t))
  c.ctx.services!.registry = new FakeRegistry({'ci/php-fpm': DIGEST('b')})
  const results = await pushImages(c.ctx)
  t.deepEqual(results.map((r) => [r.name, r.status, r.digest]), [['php-fpm', 'reused', DIGEST('b')], ['elasticsearch', 'pushed', DIGEST('e')]])
  t.deepEqual(c.localImages.asked, [ref('elasticsearch')])
  t.deepEqual(c.pusher.pushed, [ref('elasticsearch')])
  t.true(c.logger.lines.some((l) => l.startsWith('[php-fpm] reused ') && l.endsWith('already in fake, not pushed')))

  const all = context(await tempWorkspace(t))
  all.ctx.services!.registry = new FakeRegistry({'ci/php-fpm': DIGEST('b'), 'ci/elasticsearch': DIGEST('c')})
  t.deepEqual((await pushImages(all.ctx)).map((r) => r.status), ['reused', 'reused'])
  t.deepEqual(all.localImages.asked, [])
  t.deepEqual(all.pusher.pushed, [])
  t.is(all.logins.length, 0)
})

test('a reused image need not exist locally (images build did not build it)', async (t) => {
  const c = context(await tempWorkspace(t))
  c.ctx.services!.registry = new FakeRegistry({'ci/php-fpm': DIGEST('b')})
  c.ctx.services!.localImages = new FakeLocalImages([ref('elasticsearch')])
  t.deepEqual((await pushImages(c.ctx)).map((r) => r.status), ['reused', 'pushed'])
})

test('--force pushes without asking the registry', async (t) => {
  const c = context(await tempWorkspace(t), undefined, {force: true})
  c.ctx.services!.registry = new FakeRegistry({'ci/php-fpm': DIGEST('b'), 'ci/elasticsearch': DIGEST('c')})
  const results = await pushImages(c.ctx)
  t.deepEqual((c.ctx.services!.registry as FakeRegistry).asked, [])
  t.deepEqual(results.map((r) => [r.status, r.digest]), [['pushed', DIGEST('e')], ['pushed', DIGEST('e')]])
})

test('missing local images: exit 2 before anything is pushed, every missing reference named, and what to run', async (t) => {
  const images = ['php-fpm', 'elasticsearch', 'redis'].map((n) => image(n))
  const c = context(await tempWorkspace(t, ['php-fpm', 'elasticsearch', 'redis']), images, {env: {DOCKER_REGISTRY: '127.0.0.1:5000', DOCKER_USERNAME: 'ci', DOCKER_PASSWORD: PASSWORD, DOCKER_HOST: 'unix:///run/d.sock'}})
  c.ctx.services!.registry = new FakeRegistry({'ci/redis': DIGEST('b')})
  c.ctx.services!.localImages = new FakeLocalImages([ref('elasticsearch')])
  const error = await t.throwsAsync(pushImages(c.ctx), {instanceOf: ImageNotBuiltError})
  t.is(error.exitCode, 2)
  t.is(error.code, 'IMAGE_NOT_BUILT')
  t.is(
    error.message,
    `1 image to push is neither in fake nor in the Docker daemon at DOCKER_HOST=unix:///run/d.sock, so nothing was pushed:\n  - php-fpm: ${ref('php-fpm')}\nalready in fake (would be reused): redis`,
  )
  t.regex(error.suggestions[0], /shopsys-ci images build/)
  t.regex(error.suggestions[1], /GIT_COMMIT/)
  t.deepEqual(c.pusher.pushed, [])
  t.is(c.logins.length, 0)

  const none = context(await tempWorkspace(t))
  none.ctx.services!.localImages = new FakeLocalImages([])
  const both = await t.throwsAsync(pushImages(none.ctx), {instanceOf: ImageNotBuiltError})
  t.regex(both.message, /^2 images to push are neither in fake nor in the local Docker daemon, so nothing was pushed:\n {2}- php-fpm: \S+\n {2}- elasticsearch: \S+$/)

  // --force did not ask the registry: the message does not claim it did.
  const forced = context(await tempWorkspace(t), undefined, {force: true})
  forced.ctx.services!.localImages = new FakeLocalImages([ref('php-fpm')])
  const one = await t.throwsAsync(pushImages(forced.ctx), {instanceOf: ImageNotBuiltError})
  t.regex(one.message, /^1 image to push is not in the local Docker daemon, so nothing was pushed:\n {2}- elasticsearch: \S+$/)
  t.deepEqual(forced.pusher.pushed, [])
})

test('a refused push: exit 5, what finished and what did not, no password', async (t) => {
  const c = context(await tempWorkspace(t), undefined, {parallel: 1})
  c.ctx.services!.pusher = new FakePusher({refused: ['elasticsearch'], line: `denied for ${PASSWORD}`})
  const error = await t.throwsAsync(pushImages(c.ctx), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, /^image "elasticsearch" failed: the registry refused the push of \S+elasticsearch:ci-commit-\S+ \(authentication or permission\)/)
  t.regex(error.message, new RegExp(`finished: php-fpm \\(pushed: ${ref('php-fpm').replace(/\./g, '\\.')}\\)`))
  t.regex(error.message, /not finished: elasticsearch \(registry failed: /)
  t.regex(error.message, /unauthorized: authentication required/)
  t.deepEqual(error.suggestions, ['check DOCKER_USERNAME / DOCKER_PASSWORD and that the user may push to this repository'])
  t.false(error.message.includes(PASSWORD))
  t.false(c.logger.lines.join('\n').includes(PASSWORD), 'push output is redacted')
  t.true(c.logger.lines.includes('[php-fpm] denied for ***'))
})

test('a failing registry lookup or Docker daemon: its own error and exit code, nothing pushed', async (t) => {
  const c = context(await tempWorkspace(t))
  c.ctx.services!.registry = new FakeRegistry({}, new RegistryError('registry fake is unreachable'))
  const error = await t.throwsAsync(pushImages(c.ctx), {instanceOf: RegistryError})
  t.is(error.message, 'registry fake is unreachable')
  t.deepEqual(c.pusher.pushed, [])

  const d = context(await tempWorkspace(t))
  const down: LocalImageStore = {imageId: async () => Promise.reject(new ToolError('cannot talk to the Docker daemon'))}
  d.ctx.services!.localImages = down
  const daemon = await t.throwsAsync(pushImages(d.ctx), {instanceOf: ToolError})
  t.is(daemon.exitCode, 3)
  t.deepEqual(d.pusher.pushed, [])
})

test('dependsOn: a base image is pushed before the images built on it; a reused base does not hold them up', async (t) => {
  const images = [image('app', {dependsOn: ['base']}), image('base'), image('tool', {dependsOn: ['old']}), image('old')]
  const c = context(await tempWorkspace(t, ['app', 'base', 'tool', 'old']), images, {parallel: 4})
  c.ctx.services!.registry = new FakeRegistry({'ci/old': DIGEST('b')})
  c.ctx.services!.pusher = new FakePusher({delayMs: 10})
  const results = await pushImages(c.ctx)
  const pushed = (c.ctx.services!.pusher as FakePusher).pushed
  t.true(pushed.indexOf(ref('base')) < pushed.indexOf(ref('app')))
  t.deepEqual(results.map((r) => [r.name, r.status]), [['app', 'pushed'], ['base', 'pushed'], ['tool', 'pushed'], ['old', 'reused']])
})

test('the tags are computed as images build computes them: a missing Dockerfile is exit 2 before anything is asked', async (t) => {
  const c = context(await tempWorkspace(t, ['php-fpm']))
  const error = await t.throwsAsync(pushImages(c.ctx), {instanceOf: ConfigError})
  t.regex(error.message, /elasticsearch/)
  t.deepEqual(c.registry.asked, [])
  t.deepEqual(c.localImages.asked, [])
})

test('no images: nothing to do', async (t) => {
  t.deepEqual(await pushImages(context('/nonexistent', []).ctx), [])
})

test('interrupted while pushing: one InterruptedError (exit 130) naming what was pushed and what not', async (t) => {
  const c = context(await tempWorkspace(t), undefined, {parallel: 1})
  const controller = new AbortController()
  c.ctx.signal = controller.signal
  const pushed: string[] = []
  c.ctx.services!.pusher = {
    async push(plan, options) {
      if (plan.name === 'php-fpm') {
        pushed.push(plan.name)
        return {digest: DIGEST('e')}
      }
      // elasticsearch is being pushed when the signal comes.
      const stopped = new Promise<never>((_resolve, reject) => options.signal!.addEventListener('abort', () => reject(new RegistryError('push stopped')), {once: true}))
      controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
      return stopped
    },
  }
  const error = await t.throwsAsync(pushImages(c.ctx), {instanceOf: InterruptedError})
  t.is(error.exitCode, 130)
  t.is(error.message, `images push: interrupted by SIGTERM while pushing elasticsearch; finished: php-fpm (pushed: ${ref('php-fpm')}); not finished: elasticsearch`)
  t.deepEqual(pushed, ['php-fpm'])
})

test('build.cache.registry: each pushed image also becomes the branch\'s cache tag (as images build --push does); a reused one does not', async (t) => {
  const ws = await tempWorkspace(t)
  const calls: string[] = []
  const cacheImages: CacheImageStore = {
    async pull(reference) {
      calls.push(`pull ${reference}`)
      return 'pulled'
    },
    async tag(source, target) {
      calls.push(`tag ${source} ${target}`)
    },
  }
  const c = context(ws, undefined, {branch: 'feature/x'})
  c.ctx.config.build.cache = {registry: true, fallbackBranches: []}
  c.ctx.services = {...c.ctx.services, cacheImages, registry: new FakeRegistry({[`ci/elasticsearch:ci-commit-${COMMIT}`]: DIGEST('f')})}
  const results = await pushImages(c.ctx)
  t.deepEqual(results.map((r) => r.status), ['pushed', 'reused'])
  const cacheRef = `127.0.0.1:5000/ci/php-fpm:${cacheTag('feature/x')}`
  t.deepEqual(calls, [`tag ${ref('php-fpm')} ${cacheRef}`], 'tagged once, nothing pulled: a push uses no cache')
  t.deepEqual(c.pusher.pushed, [ref('php-fpm'), cacheRef])
  t.true(c.logger.lines.includes(`[php-fpm] build cache: pushed ${cacheRef}`))

  // Without the setting, nothing of the cache happens.
  const off = context(ws)
  off.ctx.services = {...off.ctx.services, cacheImages}
  calls.length = 0
  await pushImages(off.ctx)
  t.deepEqual(calls, [])
  t.deepEqual(off.pusher.pushed.sort(), [ref('elasticsearch'), ref('php-fpm')])
})
