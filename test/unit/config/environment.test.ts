import test from 'ava'

import {checkEnvironment, environmentProblems, formatEnvironment, secretValues, variablesFor} from '../../../src/config/environment.js'
import {parseConfig} from '../../../src/config/load.js'

const required = (yaml: string, env: Record<string, string>) =>
  environmentProblems(checkEnvironment(parseConfig(yaml, 'c.yaml', {}), {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', ...env})).map((p) => p.name)

test('the registry credential is required for images, and for the image pull secret unless the read-only pair is set', (t) => {
  t.deepEqual(required('project: shop\n', {}), [])
  t.deepEqual(required('project: shop\nimages: [{name: php, context: .}]\n', {}), ['DOCKER_USERNAME', 'DOCKER_PASSWORD'])
  t.deepEqual(required('project: shop\ndeploy: {imagePullSecret: true}\n', {}), ['DOCKER_USERNAME', 'DOCKER_PASSWORD'])
  t.deepEqual(required('project: shop\ndeploy: {imagePullSecret: true}\n', {DOCKER_PULL_USERNAME: 'reader', DOCKER_PULL_PASSWORD: 'pull'}), [])
})

test('deploy.imagePullSecret: half of the read-only pull pair is a problem naming the other half, not a fallback', (t) => {
  const check = (env: Record<string, string>) =>
    environmentProblems(checkEnvironment(parseConfig('project: shop\ndeploy: {imagePullSecret: true}\n', 'c.yaml', {}), {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p', ...env}))
  t.deepEqual(check({DOCKER_PULL_USERNAME: 'reader'}).map((p) => [p.name, p.problem]), [['DOCKER_PULL_PASSWORD', 'is not set, but DOCKER_PULL_USERNAME is']])
  t.deepEqual(check({DOCKER_PULL_PASSWORD: 'pull'}).map((p) => [p.name, p.problem]), [['DOCKER_PULL_USERNAME', 'is not set, but DOCKER_PULL_PASSWORD is']])
  // Without a pull secret the pair is not used, so half of it is harmless.
  t.deepEqual(required('project: shop\n', {DOCKER_PULL_USERNAME: 'reader'}), [])
})

test('the pull pair is listed, its password never shown', (t) => {
  const statuses = checkEnvironment(parseConfig('project: shop\n', 'c.yaml', {}), {DOCKER_PULL_USERNAME: 'reader', DOCKER_PULL_PASSWORD: 's3cret'})
  const text = formatEnvironment(statuses)
  t.regex(text, /DOCKER_PULL_USERNAME\s+= reader/)
  t.regex(text, /DOCKER_PULL_PASSWORD\s+set/)
  t.false(text.includes('s3cret'))
})

const SECRETS = 'project: shop\ndeploy:\n  secrets:\n    app-secrets: {DATABASE_PASSWORD: APP_DB_PASSWORD, API_KEY: APP_API_KEY}\n    mailer: {PASSWORD: APP_DB_PASSWORD}\n'

test('deploy.secrets: every variable it reads is required, named once with every key it fills, and its value never shown', (t) => {
  const config = parseConfig(SECRETS, 'c.yaml', {})
  const missing = environmentProblems(checkEnvironment(config, {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com'}))
  t.deepEqual(missing.map((p) => [p.name, p.purpose, p.problem]), [
    ['APP_DB_PASSWORD', 'key DATABASE_PASSWORD of Secret app-secrets, key PASSWORD of Secret mailer (deploy.secrets)', 'is not set'],
    ['APP_API_KEY', 'key API_KEY of Secret app-secrets (deploy.secrets)', 'is not set'],
  ])
  const text = formatEnvironment(checkEnvironment(config, {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', APP_DB_PASSWORD: 'hunter2', APP_API_KEY: 'k-123'}))
  t.regex(text, /APP_DB_PASSWORD\s+set$/m)
  t.regex(text, /APP_API_KEY\s+set$/m)
  t.false(text.includes('hunter2') || text.includes('k-123'))
  t.deepEqual(required(SECRETS, {APP_DB_PASSWORD: 'hunter2', APP_API_KEY: 'k-123'}), [])
})

test('deploy.secrets: its values are among the secret values every output masks; without the config they are not known', (t) => {
  const env = {APP_DB_PASSWORD: 'hunter2', APP_API_KEY: 'k-123', DOCKER_PASSWORD: 'push-pw'}
  t.deepEqual(secretValues(env, variablesFor(parseConfig(SECRETS, 'c.yaml', {}))).sort(), ['hunter2', 'k-123', 'push-pw'])
  t.deepEqual(secretValues(env), ['push-pw'])
})
