import test from 'ava'

import {EnvironmentError} from '../../../src/errors.js'
import {appSecretObject, appSecretsFromEnv, formatSecretNames, parseSecretNames, secretsAlsoInManifests} from '../../../src/kube/app-secrets.js'

const SECRETS = {'app-secrets': {DATABASE_PASSWORD: 'APP_DB_PASSWORD', API_KEY: 'APP_API_KEY'}, mailer: {PASSWORD: 'APP_DB_PASSWORD', DSN: 'APP_MAILER_DSN'}}

test('appSecretsFromEnv: each Secret with its values; one variable may fill several keys', (t) => {
  t.deepEqual(appSecretsFromEnv(SECRETS, {APP_DB_PASSWORD: 'pw', APP_API_KEY: 'key', APP_MAILER_DSN: 'smtp://x'}), [
    {name: 'app-secrets', data: {DATABASE_PASSWORD: 'pw', API_KEY: 'key'}},
    {name: 'mailer', data: {PASSWORD: 'pw', DSN: 'smtp://x'}},
  ])
  t.deepEqual(appSecretsFromEnv({}, {}), [])
})

test('appSecretsFromEnv: every missing or empty variable at once, each named once with the key it is for', (t) => {
  const error = t.throws(() => appSecretsFromEnv(SECRETS, {APP_API_KEY: '', APP_MAILER_DSN: 'smtp://x'}), {instanceOf: EnvironmentError})
  t.deepEqual(
    error.problems.map((p) => [p.name, p.purpose]),
    [
      ['APP_DB_PASSWORD', 'key DATABASE_PASSWORD of Secret app-secrets (deploy.secrets)'],
      ['APP_API_KEY', 'key API_KEY of Secret app-secrets (deploy.secrets)'],
    ],
  )
  t.regex(error.suggestions.join('\n'), /secretCredentials/)
})

test('appSecretObject: an Opaque Secret with the values base64-encoded, in the namespace, with the labels', (t) => {
  const object = appSecretObject({name: 'app-secrets', data: {DSN: 'smtp://user:pä$$@host', EMPTYISH: ' '}}, 'shop-feature-x', {'app.kubernetes.io/managed-by': 'shopsys-ci'})
  t.deepEqual(object, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: 'app-secrets', namespace: 'shop-feature-x', labels: {'app.kubernetes.io/managed-by': 'shopsys-ci'}},
    type: 'Opaque',
    data: {DSN: Buffer.from('smtp://user:pä$$@host').toString('base64'), EMPTYISH: 'IA=='},
  })
})

test('the namespace annotation of the Secrets made: sorted names, read back', (t) => {
  t.is(formatSecretNames([{name: 'mailer', data: {}}, {name: 'app-secrets', data: {}}]), 'app-secrets,mailer')
  t.deepEqual(parseSecretNames('app-secrets,mailer'), ['app-secrets', 'mailer'])
  t.deepEqual(parseSecretNames(undefined), [])
  t.deepEqual(parseSecretNames(''), [])
})

test('secretsAlsoInManifests: a Secret both in deploy.secrets and in the manifests (v1 Secrets only)', (t) => {
  const objects = [
    {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'app-secrets'}},
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'mailer'}},
    {apiVersion: 'example.com/v1', kind: 'Secret', metadata: {name: 'mailer'}},
  ]
  t.deepEqual(secretsAlsoInManifests([{name: 'app-secrets', data: {}}, {name: 'mailer', data: {}}], objects), ['app-secrets'])
  t.deepEqual(secretsAlsoInManifests([], objects), [])
})
