import {mkdir, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {ConfigError, UsageError} from '../../../src/errors.js'
import {checkImageInputs, computeInputsDigests, dependencyBuildArg, needsInputsDigest, orderImages, planImages} from '../../../src/images/plan.js'
import {COMMIT, image} from './_helpers.js'
import {tempDir} from '../../helpers/tmp.js'

const registry = {host: '127.0.0.1:5000', namespace: 'ci'}

test('planImages: repositories, tags, references, absolute paths — no docker needed', (t) => {
  const plans = planImages({images: [image('php-fpm', {target: 'ci', buildArgs: {project_root: '/app'}}), image('elasticsearch')], registry, workspace: '/ws', commit: COMMIT})
  t.deepEqual(
    plans.map((p) => [p.name, p.reference, p.path, p.contextDir, p.dockerfile]),
    [
      ['php-fpm', `127.0.0.1:5000/ci/php-fpm:ci-commit-${COMMIT}`, 'ci/php-fpm', '/ws/php-fpm', '/ws/php-fpm/Dockerfile'],
      ['elasticsearch', `127.0.0.1:5000/ci/elasticsearch:ci-commit-${COMMIT}`, 'ci/elasticsearch', '/ws/elasticsearch', '/ws/elasticsearch/Dockerfile'],
    ],
  )
  t.deepEqual(plans[0].buildArgs, {project_root: '/app'})
  t.is(planImages({images: [image('php-fpm')], registry: {namespace: 'shopsys'}, workspace: '/ws', commit: COMMIT})[0].reference, `shopsys/php-fpm:ci-commit-${COMMIT}`)
})

test('planImages: a repository longer than docker and the registry accept is exit 2, before the registry is asked', (t) => {
  const name = `app-${'a'.repeat(233)}`
  // 127.0.0.1:5000/ci/ (18 characters) + 237 = 255: the longest accepted.
  t.is(planImages({images: [image(name)], registry, workspace: '/ws', commit: COMMIT})[0].repository.length, 255)
  const error = t.throws(() => planImages({images: [image('php-fpm'), image(`${name}b`)], registry, workspace: '/ws', commit: COMMIT}), {instanceOf: UsageError})
  t.is(error.exitCode, 2)
  t.regex(error.message, /^image "app-a+b": the repository 127\.0\.0\.1:5000\/ci\/app-a+b is 256 characters long; a Docker repository name \(DOCKER_REGISTRY, DOCKER_USERNAME and the image name together\) has at most 255$/)
})

test('planImages: dependsOn orders images and passes the dependency as IMAGE_<NAME>', (t) => {
  const images = [image('app', {dependsOn: ['php-base'], tag: 'content'}), image('php-base', {tag: 'content'}), image('other')]
  const digests = new Map([
    ['app', 'a'.repeat(64)],
    ['php-base', 'b'.repeat(64)],
  ])
  const plans = planImages({images, registry, workspace: '/ws', commit: COMMIT, inputsDigests: digests})
  t.deepEqual(plans.map((p) => p.name), ['php-base', 'app', 'other'])
  t.is(plans[1].buildArgs.IMAGE_PHP_BASE, plans[0].reference)
  t.is(dependencyBuildArg('php-fpm.v2'), 'IMAGE_PHP_FPM_V2')
  // A new base tag gives the dependent image a new content tag.
  const digests2 = new Map([...digests, ['php-base', 'c'.repeat(64)]])
  const plans2 = planImages({images, registry, workspace: '/ws', commit: COMMIT, inputsDigests: digests2})
  t.not(plans2[0].tag, plans[0].tag)
  t.not(plans2[1].tag, plans[1].tag)
  t.is(plans2[2].tag, plans[2].tag)
})

test('orderImages keeps config order where there are no dependencies; detects cycles', (t) => {
  const order = orderImages([
    {name: 'c', dependsOn: ['a']},
    {name: 'b', dependsOn: []},
    {name: 'a', dependsOn: []},
  ]).map((i) => i.name)
  t.deepEqual(order, ['a', 'c', 'b'])
  t.throws(() => orderImages([{name: 'x', dependsOn: ['y']}, {name: 'y', dependsOn: ['x']}]), {message: /cycle/})
})

test('checkImageInputs: every missing Dockerfile or context at once, exit 2', async (t) => {
  const ws = tempDir('shopsys-ci-plan-')
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  await mkdir(path.join(ws, 'ok'))
  await writeFile(path.join(ws, 'ok/Dockerfile'), 'FROM scratch\n')
  await mkdir(path.join(ws, 'nodockerfile'))
  await writeFile(path.join(ws, 'file-context'), '')
  t.notThrows(() => checkImageInputs([image('ok')], ws))
  const error = t.throws(() => checkImageInputs([image('ok'), image('nodockerfile'), image('missing'), image('file', {context: 'file-context', dockerfile: 'ok/Dockerfile'})], ws), {instanceOf: ConfigError})
  t.is(error.exitCode, 2)
  t.deepEqual(
    error.problems.map((p) => `${p.key}: ${/does not exist|is not a directory/.exec(p.message)![0]}`),
    ['images[1].dockerfile: does not exist', 'images[2].context: does not exist', 'images[2].dockerfile: does not exist', 'images[3].context: is not a directory'],
  )
})

test('computeInputsDigests: only for images whose tag needs it', async (t) => {
  const ws = tempDir('shopsys-ci-plan-')
  t.teardown(() => rm(ws, {recursive: true, force: true}))
  for (const n of ['a', 'b', 'c']) {
    await mkdir(path.join(ws, n))
    await writeFile(path.join(ws, n, 'Dockerfile'), `FROM scratch\n# ${n}\n`)
  }
  const images = [image('a', {tag: 'content'}), image('b'), image('c', {tag: 'template', tagTemplate: 'x-{{content}}'})]
  t.deepEqual(images.map(needsInputsDigest), [true, false, true])
  const digests = await computeInputsDigests(images, ws)
  t.deepEqual([...digests.keys()].sort(), ['a', 'c'])
})
