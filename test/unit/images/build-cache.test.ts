/** buildImages with build.cache (cache.ts holds the cache's own tests): what the builder gets, what is pushed when. */
import {rm} from 'node:fs/promises'

import test from 'ava'

import {InterruptedError, UsageError} from '../../../src/errors.js'
import {buildImages, type ImagesContext} from '../../../src/images/index.js'
import {cacheTag} from '../../../src/images/cache.js'
import type {BuildOptions, CacheImageStore, ImageBuilder, ImagePlan} from '../../../src/images/types.js'
import {MemoryLogger} from '../../../src/util/log.js'
import {DIGEST, FakePusher, FakeRegistry} from './_fakes.js'
import {COMMIT, configWith, image, workspace} from './_helpers.js'

class RecordingBuilder implements ImageBuilder {
  readonly cacheFrom = new Map<string, readonly string[]>()
  async describe() {
    return 'a fake builder'
  }
  async build(plan: ImagePlan, _labels: Record<string, string>, options: BuildOptions) {
    this.cacheFrom.set(plan.name, options.cacheFrom ?? [])
  }
}

class RecordingCacheImages implements CacheImageStore {
  readonly calls: string[] = []
  async pull(reference: string) {
    this.calls.push(`pull ${reference}`)
    return 'pulled' as const
  }
  async tag(source: string, target: string) {
    this.calls.push(`tag ${source} ${target}`)
  }
}

const OWN = cacheTag('feature/x')
const repo = (name: string) => `127.0.0.1:5000/ci/${name}`

async function setup(t: {teardown(fn: () => unknown): void}, cache: {registry: boolean; fallbackBranches?: string[]}, extra: Partial<ImagesContext> = {}, existing: Record<string, string> = {}) {
  const ws = await workspace(['php-fpm', 'elasticsearch'])
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  const config = configWith([image('php-fpm'), image('elasticsearch')])
  config.build.cache = {registry: cache.registry, fallbackBranches: cache.fallbackBranches ?? []}
  const registry = new FakeRegistry(existing)
  const builder = new RecordingBuilder()
  const pusher = new FakePusher()
  const cacheImages = new RecordingCacheImages()
  const logger = new MemoryLogger()
  const ctx: ImagesContext = {
    config,
    workspace: ws,
    env: {DOCKER_REGISTRY: '127.0.0.1:5000', DOCKER_USERNAME: 'ci', DOCKER_PASSWORD: 'pw'},
    commit: COMMIT,
    logger,
    push: true,
    branch: 'feature/x',
    services: {registry, builder, pusher, cacheImages, login: async () => {}},
    ...extra,
  }
  return {ctx, registry, builder, pusher, cacheImages, logger}
}

test('registry: false (the default): no cache lookup, no --cache-from, no cache tag pushed', async (t) => {
  const c = await setup(t, {registry: false}, {branch: undefined})
  await buildImages(c.ctx)
  t.deepEqual(c.registry.asked.filter((a) => a.includes(':ci-cache-')), [])
  t.deepEqual([...c.builder.cacheFrom.values()], [[], []])
  t.deepEqual(c.pusher.pushed.sort(), [`${repo('elasticsearch')}:ci-commit-${COMMIT}`, `${repo('php-fpm')}:ci-commit-${COMMIT}`])
  t.deepEqual(c.cacheImages.calls, [])
  t.false(c.logger.lines.some((l) => l.includes('build cache')))
})

test('registry: true: the cache the registry has is pulled and becomes --cache-from; after the push the image becomes the branch\'s cache tag', async (t) => {
  const c = await setup(t, {registry: true, fallbackBranches: ['master']}, {}, {'ci/php-fpm:ci-cache-master': DIGEST('c')})
  const results = await buildImages(c.ctx)
  t.deepEqual(results.map((r) => [r.name, r.status, r.tag]), [['php-fpm', 'built', `ci-commit-${COMMIT}`], ['elasticsearch', 'built', `ci-commit-${COMMIT}`]], 'the results name the image, not its cache tag')
  t.deepEqual(c.builder.cacheFrom.get('php-fpm'), [`${repo('php-fpm')}:ci-cache-master`])
  t.deepEqual(c.builder.cacheFrom.get('elasticsearch'), [])
  t.deepEqual(c.cacheImages.calls.filter((l) => l.startsWith('pull')), [`pull ${repo('php-fpm')}:ci-cache-master`])
  t.deepEqual(c.registry.asked.filter((a) => a.startsWith('ci/php-fpm:')).sort(), [`ci/php-fpm:${OWN}`, 'ci/php-fpm:ci-cache-master', `ci/php-fpm:ci-commit-${COMMIT}`])
  for (const name of ['php-fpm', 'elasticsearch']) {
    const image = `${repo(name)}:ci-commit-${COMMIT}`
    t.true(c.pusher.pushed.indexOf(image) < c.pusher.pushed.indexOf(`${repo(name)}:${OWN}`), `${name}: the image first, then its cache tag`)
    t.true(c.cacheImages.calls.includes(`tag ${image} ${repo(name)}:${OWN}`))
    t.true(c.logger.lines.includes(`[${name}] build cache: pushed ${repo(name)}:${OWN}`))
  }
})

test('a reused image moves no cache tag; a local build (no push) uses the cache but pushes nothing', async (t) => {
  const reused = await setup(t, {registry: true}, {}, {'ci/php-fpm': DIGEST('a'), 'ci/elasticsearch': DIGEST('b')})
  await buildImages(reused.ctx)
  t.deepEqual(reused.pusher.pushed, [])
  t.deepEqual(reused.cacheImages.calls, [])
  t.is(reused.builder.cacheFrom.size, 0)

  const local = await setup(t, {registry: true}, {push: false, forceBuild: true}, {[`ci/php-fpm:${OWN}`]: DIGEST('c')})
  await buildImages(local.ctx)
  t.deepEqual(local.builder.cacheFrom.get('php-fpm'), [`${repo('php-fpm')}:${OWN}`], '--force-build still uses the cache')
  t.deepEqual(local.pusher.pushed, [])
  t.deepEqual(local.cacheImages.calls, [`pull ${repo('php-fpm')}:${OWN}`], 'pulled, but no tag moved')
})

test('--force-build with push: built, pushed, and the cache tag moved', async (t) => {
  const c = await setup(t, {registry: true}, {forceBuild: true}, {'ci/php-fpm': DIGEST('a')})
  await buildImages(c.ctx)
  t.true(c.pusher.pushed.includes(`${repo('php-fpm')}:${OWN}`))
})

test('registry: true without a branch: exit 2 saying where the branch comes from, before anything is built', async (t) => {
  const c = await setup(t, {registry: true}, {branch: undefined})
  const error = await t.throwsAsync(buildImages(c.ctx), {instanceOf: UsageError})
  t.is(error.exitCode, 2)
  t.regex(error.message, /build\.cache\.registry is on, but the branch/)
  t.true(error.suggestions?.some((s) => s.includes('BRANCH_NAME')))
  t.is(c.builder.cacheFrom.size, 0)
})

test('interrupted while pulling the cache: exit 130 naming it; while pushing the cache tag: the image counts as finished', async (t) => {
  const stop = () => new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'})
  const pulling = new AbortController()
  const a = await setup(t, {registry: true}, {signal: pulling.signal}, {'ci/php-fpm': DIGEST('c')})
  a.ctx.config.images = [image('php-fpm')]
  a.ctx.services!.registry = new FakeRegistry({[`ci/php-fpm:${OWN}`]: DIGEST('c')})
  a.ctx.services!.cacheImages = {
    pull: async () => {
      pulling.abort(stop())
      throw new Error('docker pull was stopped')
    },
    tag: async () => {},
  }
  const error = await t.throwsAsync(buildImages(a.ctx), {instanceOf: InterruptedError})
  t.is(error.exitCode, 130)
  t.is(error.message, 'images build: interrupted by SIGTERM while looking up the build cache of php-fpm; finished: none; not finished: php-fpm')
  t.is(a.builder.cacheFrom.size, 0, 'nothing built')

  const tagging = new AbortController()
  const b = await setup(t, {registry: true}, {signal: tagging.signal})
  b.ctx.config.images = [image('php-fpm')]
  b.ctx.services!.cacheImages = {
    pull: async () => 'pulled',
    tag: async () => {
      tagging.abort(stop())
      throw new Error('docker tag was stopped')
    },
  }
  const stopped = await t.throwsAsync(buildImages(b.ctx), {instanceOf: InterruptedError})
  t.is(stopped.message, `images build: interrupted by SIGTERM; finished: php-fpm (built and pushed: ${repo('php-fpm')}:ci-commit-${COMMIT})`)
  t.false(b.logger.lines.some((l) => l.startsWith('WARNING')), 'no warning for the cache push an interruption stopped')
})
