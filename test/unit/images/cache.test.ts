import test from 'ava'

import {InterruptedError, RegistryError} from '../../../src/errors.js'
import {CACHE_TAG_PREFIX, cacheRefs, cacheTag, RegistryBuildCache, type RegistryBuildCacheOptions} from '../../../src/images/cache.js'
import {planImages} from '../../../src/images/plan.js'
import {tagProblem} from '../../../src/images/reference.js'
import type {CacheImageStore} from '../../../src/images/types.js'
import {computeNames} from '../../../src/names/index.js'
import {DIGEST, FakePusher, FakeRegistry} from './_fakes.js'
import {COMMIT, image} from './_helpers.js'

const REPO = '127.0.0.1:5000/ci/php-fpm'
const plan = planImages({images: [image('php-fpm')], registry: {host: '127.0.0.1:5000', namespace: 'ci'}, workspace: '/ws', commit: COMMIT})[0]

test('cacheTag: ci-cache- and the branch slug of the names module', (t) => {
  const table: Array<[string, string | RegExp]> = [
    ['master', 'ci-cache-master'],
    ['feature-x', 'ci-cache-feature-x'],
    [' master ', 'ci-cache-master'],
    ['feature/JIRA-1_Über', /^ci-cache-feature-jira-1-uber-[0-9a-f]{8}$/],
    ['1.2', /^ci-cache-b-1-2-[0-9a-f]{8}$/],
    ['日本語', /^ci-cache-b-[0-9a-f]{8}$/],
  ]
  for (const [branch, expected] of table) {
    const tag = cacheTag(branch)
    if (typeof expected === 'string') t.is(tag, expected, branch)
    else t.regex(tag, expected, branch)
    t.is(tagProblem(tag), undefined, `${branch}: a valid Docker tag`)
  }
})

test('cacheTag: the namespace\'s slug for ordinary branches; distinct branches never share a tag; stable', (t) => {
  for (const branch of ['master', 'feature/x', 'Feature/A', 'release-2026.1']) {
    const {slug} = computeNames({branch, project: 'shop', domain: 'ci.example.com', scheme: 'http', hosts: {first: '{{slug}}.{{domain}}'}})
    t.is(cacheTag(branch), CACHE_TAG_PREFIX + slug, branch)
  }
  const folded = ['Feature/A', 'feature/a', 'feature-a'].map(cacheTag)
  t.is(new Set(folded).size, 3)
  t.is(cacheTag('feature/x'), cacheTag('feature/x'))
})

test('cacheTag: a long branch is cut with its hash, within the 128 characters of a tag', (t) => {
  const long = `feature/${'very-long-name-'.repeat(30)}`
  const tag = cacheTag(long)
  t.true(tag.length <= 128)
  t.is(tag.length, CACHE_TAG_PREFIX.length + 63, 'the slug at its full DNS-label length, not cut for hosts')
  t.regex(tag, /-[0-9a-f]{8}$/)
  t.is(tagProblem(tag), undefined)
  t.not(tag, cacheTag(`${long}2`))
})

test('cacheRefs: the branch\'s own first, then each fallback once, none twice', (t) => {
  t.deepEqual(cacheRefs(REPO, 'feature/x', ['master', 'develop']), [
    {branch: 'feature/x', own: true, tag: cacheTag('feature/x'), reference: `${REPO}:${cacheTag('feature/x')}`},
    {branch: 'master', own: false, tag: 'ci-cache-master', reference: `${REPO}:ci-cache-master`},
    {branch: 'develop', own: false, tag: 'ci-cache-develop', reference: `${REPO}:ci-cache-develop`},
  ])
  t.deepEqual(cacheRefs(REPO, 'master', ['master', 'develop', 'develop']).map((r) => [r.tag, r.own]), [['ci-cache-master', true], ['ci-cache-develop', false]])
  t.deepEqual(cacheRefs(REPO, 'master', []).map((r) => r.reference), [`${REPO}:ci-cache-master`])
})

class FakeCacheImages implements CacheImageStore {
  readonly calls: string[] = []
  constructor(private readonly behaviour: Record<string, 'missing' | Error> = {}) {}
  async pull(reference: string) {
    this.calls.push(`pull ${reference}`)
    const b = this.behaviour[reference]
    if (b instanceof Error) throw b
    return b ?? 'pulled'
  }
  async tag(source: string, target: string) {
    this.calls.push(`tag ${source} ${target}`)
    const b = this.behaviour[`tag ${target}`]
    if (b instanceof Error) throw b
  }
}

function cache(overrides: Partial<RegistryBuildCacheOptions> = {}) {
  const lines: string[] = []
  const warnings: string[] = []
  let logins = 0
  const options: RegistryBuildCacheOptions = {
    branch: 'feature/x',
    fallbackBranches: ['master'],
    registry: new FakeRegistry(),
    images: new FakeCacheImages(),
    pusher: new FakePusher(),
    login: async () => void logins++,
    say: (name, m) => lines.push(`[${name}] ${m}`),
    warn: (name, m) => warnings.push(`[${name}] ${m}`),
    ...overrides,
  }
  return {cache: new RegistryBuildCache(options), options, lines, warnings, logins: () => logins}
}
const OWN = `${REPO}:${cacheTag('feature/x')}`
const MASTER = `${REPO}:ci-cache-master`

test('sources: the branch\'s own cache when the registry has it, pulled (logged in first); fallbacks not even asked', async (t) => {
  const registry = new FakeRegistry({'ci/php-fpm': DIGEST('a')})
  const c = cache({registry})
  t.deepEqual(await c.cache.sources(plan), [OWN])
  t.deepEqual(registry.asked, [`ci/php-fpm:${cacheTag('feature/x')}`])
  t.deepEqual((c.options.images as FakeCacheImages).calls, [`pull ${OWN}`])
  t.is(c.logins(), 1)
  t.deepEqual(c.lines, [`[php-fpm] build cache: pulled ${OWN} (this branch)`])
  t.deepEqual(c.warnings, [])
})

test('sources: until the branch has its own, the first fallback the registry has; only that one is pulled', async (t) => {
  const registry = new FakeRegistry({'ci/php-fpm:ci-cache-master': DIGEST('a'), 'ci/php-fpm:ci-cache-develop': DIGEST('b')})
  const c = cache({registry, fallbackBranches: ['release', 'master', 'develop']})
  t.deepEqual(await c.cache.sources(plan), [MASTER])
  t.deepEqual(registry.asked, [`ci/php-fpm:${cacheTag('feature/x')}`, 'ci/php-fpm:ci-cache-release', 'ci/php-fpm:ci-cache-master'])
  t.deepEqual((c.options.images as FakeCacheImages).calls, [`pull ${MASTER}`])
  t.deepEqual(c.lines, [`[php-fpm] build cache: ${cacheTag('feature/x')}, ci-cache-release not in fake yet; pulled ${MASTER} (fallback branch master)`])
})

test('no cache yet: one info line, no warning, no docker call, no login, no sources', async (t) => {
  const c = cache()
  t.deepEqual(await c.cache.sources(plan), [])
  t.deepEqual((c.options.images as FakeCacheImages).calls, [])
  t.is(c.logins(), 0)
  t.deepEqual(c.lines, [`[php-fpm] build cache: ${cacheTag('feature/x')}, ci-cache-master not in fake yet; building without one`])
  t.deepEqual(c.warnings, [])
})

test('a pull that finds nothing is normal (info), the next reference is tried; any other pull failure is a warning and the build goes on', async (t) => {
  const images = new FakeCacheImages({[OWN]: 'missing', [MASTER]: new RegistryError('docker pull x failed: toomanyrequests')})
  const c = cache({registry: new FakeRegistry({'ci/php-fpm': DIGEST('a')}), images})
  t.deepEqual(await c.cache.sources(plan), [])
  t.deepEqual(images.calls, [`pull ${OWN}`, `pull ${MASTER}`])
  t.deepEqual(c.lines, [`[php-fpm] build cache: ${cacheTag('feature/x')} not in fake yet; building without one`])
  t.deepEqual(c.warnings, [`[php-fpm] build cache: cannot pull ${MASTER}, building without it: docker pull x failed: toomanyrequests`])
})

test('a failed lookup is a warning, not a failed build', async (t) => {
  const c = cache({registry: new FakeRegistry({}, new RegistryError('registry fake is unreachable'))})
  t.deepEqual(await c.cache.sources(plan), [])
  t.is(c.warnings.length, 2)
  t.regex(c.warnings[0], /^\[php-fpm\] build cache: cannot ask fake for \S+, building without it: registry fake is unreachable$/)
})

test('interrupted during a lookup or a pull: the interruption goes on, not a warning', async (t) => {
  const controller = new AbortController()
  const stop = new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'})
  const registry = {displayName: 'fake', manifest: async () => (controller.abort(stop), Promise.reject(stop))}
  const c = cache({registry})
  await t.throwsAsync(c.cache.sources(plan, controller.signal), {is: stop})
  t.deepEqual(c.warnings, [])

  const pulling = new AbortController()
  const images = {pull: async () => (pulling.abort(stop), Promise.reject(stop)), tag: async () => {}}
  const d = cache({registry: new FakeRegistry({'ci/php-fpm': DIGEST('a')}), images})
  await t.throwsAsync(d.cache.sources(plan, pulling.signal), {is: stop})
  t.deepEqual(d.warnings, [])
})

test('publish: the pushed image is tagged and pushed as the branch\'s cache tag, in one line', async (t) => {
  const c = cache()
  await c.cache.publish(plan)
  t.deepEqual((c.options.images as FakeCacheImages).calls, [`tag ${plan.reference} ${OWN}`])
  t.deepEqual((c.options.pusher as FakePusher).pushed, [OWN])
  t.deepEqual(c.lines, [`[php-fpm] build cache: pushed ${OWN}`])
})

test('publish: a refused cache push or a failed tag is a warning, never a failure; interrupted, it says nothing', async (t) => {
  const c = cache({pusher: new FakePusher({refused: ['php-fpm']})})
  await t.notThrowsAsync(c.cache.publish(plan))
  t.deepEqual(c.lines, [])
  t.deepEqual(c.warnings, [`[php-fpm] build cache: cannot push ${OWN} (the image itself is pushed; the next build of this branch uses an older cache or none): the registry refused the push of ${OWN} (authentication or permission)`])

  const d = cache({images: new FakeCacheImages({[`tag ${OWN}`]: new Error('docker tag failed: no space left on device')})})
  await t.notThrowsAsync(d.cache.publish(plan))
  t.deepEqual((d.options.pusher as FakePusher).pushed, [])
  t.is(d.warnings.length, 1)

  const controller = new AbortController()
  const e = cache({images: {pull: async () => 'pulled', tag: async () => (controller.abort(new InterruptedError('interrupted by SIGINT', {signal: 'SIGINT'})), Promise.reject(new Error('stopped')))}})
  await t.notThrowsAsync(e.cache.publish(plan, controller.signal))
  t.deepEqual([...e.lines, ...e.warnings], [])
})
