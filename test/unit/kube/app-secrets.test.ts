import test from 'ava'

import {EnvironmentError} from '../../../src/errors.js'
import {appSecretObject, appSecretsFromEnv, formatSecretNames, parseSecretNames, sameSecretRecords, secretsAlsoInManifests, secretsReadBy, withSecretVersions} from '../../../src/kube/app-secrets.js'
import {ANN_APP_SECRETS, ANN_PULL_SECRET} from '../../../src/kube/constants.js'

const SECRETS = {'app-secrets': {DATABASE_PASSWORD: 'APP_DB_PASSWORD', API_KEY: 'APP_API_KEY'}, mailer: {PASSWORD: 'APP_DB_PASSWORD', DSN: 'APP_MAILER_DSN'}}

test('appSecretsFromEnv: each Secret with its values; one variable may fill several keys', (t) => {
  t.deepEqual(appSecretsFromEnv(SECRETS, {APP_DB_PASSWORD: 'pw', APP_API_KEY: 'key', APP_MAILER_DSN: 'smtp://x'}), [
    {name: 'app-secrets', data: {DATABASE_PASSWORD: 'pw', API_KEY: 'key'}},
    {name: 'mailer', data: {PASSWORD: 'pw', DSN: 'smtp://x'}},
  ])
  t.deepEqual(appSecretsFromEnv({}, {}), [])
})

test('appSecretsFromEnv: every missing or empty variable at once, each named once with every key it fills (as env check names it)', (t) => {
  const error = t.throws(() => appSecretsFromEnv(SECRETS, {APP_API_KEY: '', APP_MAILER_DSN: 'smtp://x'}), {instanceOf: EnvironmentError})
  t.deepEqual(
    error.problems.map((p) => [p.name, p.purpose]),
    [
      ['APP_DB_PASSWORD', 'key DATABASE_PASSWORD of Secret app-secrets, key PASSWORD of Secret mailer (deploy.secrets)'],
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

const POD_SPEC = {
  initContainers: [{name: 'migrate', env: [{name: 'DB', valueFrom: {secretKeyRef: {name: 'db', key: 'PASSWORD'}}}]}],
  containers: [
    {name: 'app', env: [{name: 'PLAIN', value: 'x'}, {name: 'CM', valueFrom: {configMapKeyRef: {name: 'cm', key: 'k'}}}], envFrom: [{secretRef: {name: 'api'}}, {configMapRef: {name: 'cm'}}]},
  ],
  volumes: [{name: 'tls', secret: {secretName: 'tls'}}, {name: 'all', projected: {sources: [{secret: {name: 'projected'}}, {configMap: {name: 'cm'}}]}}, {name: 'tmp', emptyDir: {}}],
}

test('secretsReadBy: env secretKeyRef (init containers too), envFrom secretRef, secret and projected volumes; not ConfigMaps', (t) => {
  t.deepEqual([...secretsReadBy(POD_SPEC)].sort(), ['api', 'db', 'projected', 'tls'])
  t.deepEqual([...secretsReadBy(undefined)], [])
  t.deepEqual([...secretsReadBy({containers: [{name: 'a', env: [{name: 'X', valueFrom: {secretKeyRef: {key: 'k'}}}]}]})], [])
})

test('withSecretVersions: the versions of the deploy.secrets Secrets a Deployment, StatefulSet or DaemonSet reads, on its pod template; the rest untouched', (t) => {
  const workload = (kind: string, name: string, spec: unknown, annotations?: Record<string, string>) => ({
    apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1',
    kind,
    metadata: {name},
    spec: {replicas: 1, template: {metadata: {labels: {app: name}, ...(annotations ? {annotations} : {})}, spec}},
  })
  type Workload = ReturnType<typeof workload>
  const objects: Array<Workload | {apiVersion: string; kind: string; metadata: {name: string}; data: Record<string, string>}> = [
    workload('Deployment', 'web', POD_SPEC, {'prometheus.io/scrape': 'true'}),
    workload('StatefulSet', 'db', {containers: [{name: 'db', envFrom: [{secretRef: {name: 'db'}}]}]}),
    workload('DaemonSet', 'other', {containers: [{name: 'o', envFrom: [{secretRef: {name: 'not-ours'}}]}]}),
    workload('Job', 'migrate', POD_SPEC),
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'cm'}, data: {k: 'v'}},
  ]
  const versions = new Map([['db', '101'], ['api', '99'], ['unread', '5']])
  const {objects: result, readers} = withSecretVersions(objects, versions)
  const [web, db] = result as Workload[]
  t.deepEqual(readers, ['deployment/web', 'statefulset/db'])
  t.deepEqual(web.spec.template.metadata, {labels: {app: 'web'}, annotations: {'prometheus.io/scrape': 'true', 'shopsys-ci/secret-versions': 'api=99,db=101'}})
  t.deepEqual(web.spec.template.spec, POD_SPEC)
  t.is(web.spec.replicas, 1)
  t.deepEqual(db.spec.template.metadata, {labels: {app: 'db'}, annotations: {'shopsys-ci/secret-versions': 'db=101'}})
  // Not a reader, a Job (its template cannot change), not a workload: the very same objects.
  t.is(result[2], objects[2])
  t.is(result[3], objects[3])
  t.is(result[4], objects[4])
  // The input is not changed.
  t.deepEqual((objects[0] as Workload).spec.template.metadata, {labels: {app: 'web'}, annotations: {'prometheus.io/scrape': 'true'}})
  t.deepEqual(withSecretVersions(objects, new Map()).readers, [])
})

test('sameSecretRecords: the namespace already records the Secrets a deploy makes (then the policies need not wait for its update)', (t) => {
  const recorded = {[ANN_PULL_SECRET]: 'true', [ANN_APP_SECRETS]: 'api-keys,db', other: 'x'}
  t.true(sameSecretRecords(recorded, {[ANN_PULL_SECRET]: 'true', [ANN_APP_SECRETS]: 'api-keys,db'}))
  t.true(sameSecretRecords({}, {}))
  t.false(sameSecretRecords(recorded, {[ANN_PULL_SECRET]: 'true', [ANN_APP_SECRETS]: 'api-keys,db,new'}))
  t.false(sameSecretRecords(recorded, {[ANN_APP_SECRETS]: 'api-keys,db'}))
  t.false(sameSecretRecords(undefined, {[ANN_PULL_SECRET]: 'true'}))
})
