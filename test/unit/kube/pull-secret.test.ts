import test from 'ava'

import {checkEnvironment, environmentProblems} from '../../../src/config/environment.js'
import {parseConfig} from '../../../src/config/load.js'
import {EnvironmentError} from '../../../src/errors.js'
import {DOCKER_HUB_AUTH_SERVER, dockerConfigJson, pullCredentialsFromEnv, pullSecretObjects} from '../../../src/kube/pull-secret.js'

test('pull credentials: the read-only pair first, else the push credential; the registry host, else Docker Hub', (t) => {
  t.deepEqual(pullCredentialsFromEnv({DOCKER_REGISTRY: 'registry.example.com:5000', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'push'}), {server: 'registry.example.com:5000', username: 'shop', password: 'push'})
  t.deepEqual(pullCredentialsFromEnv({DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'push', DOCKER_PULL_USERNAME: 'reader', DOCKER_PULL_PASSWORD: 'pull'}), {server: DOCKER_HUB_AUTH_SERVER, username: 'reader', password: 'pull'})
  // The pull pair alone is enough.
  t.is(pullCredentialsFromEnv({DOCKER_PULL_USERNAME: 'reader', DOCKER_PULL_PASSWORD: 'pull'}).username, 'reader')
})

test('pull credentials: every missing variable is named, half a pair too; no value is ever in the message', (t) => {
  const none = t.throws(() => pullCredentialsFromEnv({}), {instanceOf: EnvironmentError})
  t.deepEqual(none.problems.map((p) => p.name), ['DOCKER_USERNAME', 'DOCKER_PASSWORD'])
  const half = t.throws(() => pullCredentialsFromEnv({DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'push', DOCKER_PULL_USERNAME: 'reader'}), {instanceOf: EnvironmentError})
  t.deepEqual(half.problems.map((p) => p.name), ['DOCKER_PULL_PASSWORD'])
  t.notRegex(half.message, /push|reader/)
  t.throws(() => pullCredentialsFromEnv({DOCKER_REGISTRY: 'https://r.example.com', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p'}), {instanceOf: EnvironmentError, message: /DOCKER_REGISTRY/})
})

test('half of the pull pair: deploy names the same problem, with the same words, as env check and the build\'s check stage', (t) => {
  const config = parseConfig('project: shop\ndeploy: {imagePullSecret: true}\n', 'c.yaml', {})
  for (const half of [{DOCKER_PULL_USERNAME: 'reader'}, {DOCKER_PULL_PASSWORD: 'pull'}]) {
    const env = {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'push', ...half}
    const deploy = t.throws(() => pullCredentialsFromEnv(env), {instanceOf: EnvironmentError})
    const check = new EnvironmentError(environmentProblems(checkEnvironment(config, env)))
    t.deepEqual(deploy.problems, check.problems)
    t.is(deploy.message, check.message)
  }
})

test('the Secret is a docker config as `docker login` writes it, and the default ServiceAccount names it', (t) => {
  const credentials = {server: '127.0.0.1:5000', username: 'shop', password: 'p:ss wörd'}
  const config = JSON.parse(dockerConfigJson(credentials)) as {auths: Record<string, {username: string; password: string; auth: string}>}
  t.deepEqual(config.auths['127.0.0.1:5000'], {username: 'shop', password: 'p:ss wörd', auth: Buffer.from('shop:p:ss wörd').toString('base64')})
  const {secret, serviceAccount} = pullSecretObjects(credentials, 'ns', {'app.kubernetes.io/managed-by': 'shopsys-ci'})
  t.like(secret, {apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: {name: 'shopsys-ci-registry', namespace: 'ns', labels: {'app.kubernetes.io/managed-by': 'shopsys-ci'}}})
  t.is(Buffer.from((secret.data as Record<string, string>)['.dockerconfigjson'], 'base64').toString(), dockerConfigJson(credentials))
  t.deepEqual(serviceAccount, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace: 'ns'}, imagePullSecrets: [{name: 'shopsys-ci-registry'}]})
})
