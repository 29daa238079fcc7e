import test from 'ava'

import {EnvironmentError} from '../../../src/errors.js'
import {
  checkRegistryHost,
  hostname,
  registryApiBase,
  registryFromEnv,
  registryScheme,
  repositoryFor,
  repositoryPath,
  tagProblem,
} from '../../../src/images/reference.js'

test('repository names: <registry>/<user>/<image>, or <user>/<image> on Docker Hub', (t) => {
  t.is(repositoryFor({host: '127.0.0.1:5000', namespace: 'ci'}, 'php-fpm'), '127.0.0.1:5000/ci/php-fpm')
  t.is(repositoryFor({host: 'registry.example.com', namespace: 'ci'}, 'php-fpm'), 'registry.example.com/ci/php-fpm')
  t.is(repositoryFor({namespace: 'shopsys'}, 'php-fpm'), 'shopsys/php-fpm')
  t.is(repositoryPath({host: 'r:1', namespace: 'shopsys'}, 'a/b'), 'shopsys/a/b')
})

test('registryFromEnv: empty DOCKER_REGISTRY is Docker Hub; host:port accepted', (t) => {
  t.deepEqual(registryFromEnv({DOCKER_USERNAME: 'ci'}), {host: undefined, namespace: 'ci'})
  t.deepEqual(registryFromEnv({DOCKER_USERNAME: 'ci', DOCKER_REGISTRY: ''}), {host: undefined, namespace: 'ci'})
  t.deepEqual(registryFromEnv({DOCKER_USERNAME: 'ci', DOCKER_REGISTRY: '127.0.0.1:35000'}), {host: '127.0.0.1:35000', namespace: 'ci'})
})

test('registryFromEnv reports every problem at once, exit 3', (t) => {
  const error = t.throws(() => registryFromEnv({DOCKER_REGISTRY: 'https://r.example/x'}), {instanceOf: EnvironmentError})
  t.is(error.exitCode, 3)
  t.deepEqual(
    error.problems.map((p) => p.name),
    ['DOCKER_REGISTRY', 'DOCKER_USERNAME'],
  )
  t.throws(() => registryFromEnv({DOCKER_USERNAME: 'Upper'}), {message: /DOCKER_USERNAME.*cannot be part of a repository name/s})
})

test('checkRegistryHost', (t) => {
  for (const ok of ['r', 'r.example.com', 'r:5000', '127.0.0.1:35000', '[::1]:5000', 'my-registry.local:443']) t.is(checkRegistryHost(ok), undefined, ok)
  for (const bad of ['http://r', 'r/path', 'r:0', 'r:99999', '-r', 'r:port', 'a b']) t.truthy(checkRegistryHost(bad), bad)
})

test('scheme: plain HTTP for loopback (docker treats 127.0.0.0/8 as insecure), HTTPS otherwise', (t) => {
  const table: Array<[string, 'http' | 'https']> = [
    ['127.0.0.1:35000', 'http'],
    ['127.1.2.3', 'http'],
    ['localhost:5000', 'http'],
    ['[::1]:5000', 'http'],
    ['128.0.0.1:5000', 'https'],
    ['127.0.0.1.example.com', 'https'],
    ['registry.example.com', 'https'],
    ['10.0.0.1:5000', 'https'],
    ['hub.example.com', 'https'],
  ]
  for (const [host, scheme] of table) t.is(registryScheme(host), scheme, host)
  t.is(hostname('[::1]:5000'), '::1')
  t.is(hostname('r:5000'), 'r')
})

test('registryApiBase: a host by its scheme; Docker Hub by the daemon\'s default index', (t) => {
  t.is(registryApiBase({host: '127.0.0.1:35000'}), 'http://127.0.0.1:35000')
  t.is(registryApiBase({host: 'r.example:5000'}), 'https://r.example:5000')
  t.is(registryApiBase({}, 'https://hub.example.com/v1/'), 'https://hub.example.com')
  t.throws(() => registryApiBase({}), {message: /default index/})
})

test('tags: at most 128 of [A-Za-z0-9_.-], not starting with "." or "-"', (t) => {
  for (const ok of ['latest', 'ci-commit-abc', 'v1.2.3', '_x', 'A'.repeat(128), '0']) t.is(tagProblem(ok), undefined, ok)
  t.regex(tagProblem('')!, /empty/)
  t.regex(tagProblem('a'.repeat(129))!, /129 characters/)
  t.regex(tagProblem('.x')!, /must not start/)
  t.regex(tagProblem('-x')!, /must not start/)
  t.regex(tagProblem('feature/x')!, /"\/"/)
  t.regex(tagProblem('a b')!, /" "/)
})
