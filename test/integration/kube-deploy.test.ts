/**
 * deploy against the real stack: fresh, in place, --fresh, while Terminating, refusals, keep/ttl.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-deploy.test.ts
 */
import {readFileSync} from 'node:fs'

import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import test from 'ava'

import {DeployError} from '../../src/errors.js'
import {appSecretsFromEnv} from '../../src/kube/app-secrets.js'
import {getKube, type Kube} from '../../src/kube/client.js'
import {ServerSideApplyDeployer} from '../../src/kube/deployer.js'
import {cleanupEnvironment, deployEnvironment} from '../../src/kube/index.js'
import {
  cleanupNamespace,
  cleanupProject,
  deleteSystemNamespace,
  fixture,
  identityOf,
  kube,
  logger,
  namespaceExists,
  requireKubeconfig,
  testConfig,
  uniqueProject,
  workspaceWith,
  writeManifests,
} from './kube-helpers.js'

test.before(() => {
  requireKubeconfig()
})
test.after.always(deleteSystemNamespace)

test('fresh deploy: namespace with labels and annotations, every workload ready across the kwok nodes', async (t) => {
  const config = testConfig(uniqueProject('dep'), {deploy: {resourceQuota: {pods: '20'}, limitRange: [{type: 'Container', default: {memory: '256Mi'}}]}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/JIRA-1_Über')
  const {manifestsFile} = workspaceWith(fixture('app.yaml'))
  const log = logger()
  const result = await deployEnvironment({identity, config, manifestsFile, logger: log})

  t.true(result.created)
  t.is(result.namespace, identity.namespace)
  t.deepEqual(result.workloads.map((w) => `${w.kind}/${w.name}:${w.ready}`), ['Deployment/web:true', 'Deployment/worker:true', 'Job/migrate:true', 'StatefulSet/postgres:true'])
  t.is(result.applied.length, 7)

  const k = kube()
  const ns = await k.core.readNamespace({name: identity.namespace})
  t.like(ns.metadata?.labels, {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': config.project, 'shopsys-ci/branch-slug': identity.slug})
  t.like(ns.metadata?.annotations, {
    'shopsys-ci/branch': 'feature/JIRA-1_Über',
    'shopsys-ci/commit': identity.commit,
    'shopsys-ci/build-url': identity.buildUrl,
    'shopsys-ci/owner': identity.owner,
    'shopsys-ci/keep': 'false',
  })
  t.deepEqual(JSON.parse(ns.metadata!.annotations!['shopsys-ci/urls']), identity.urls)
  const expires = Date.parse(ns.metadata!.annotations!['shopsys-ci/expires-at'])
  t.true(Math.abs(expires - (Date.now() + config.deploy.ttl)) < 60_000)

  // Spread over the nodes; every pod of the Deployments is Ready.
  const pods = (await k.core.listNamespacedPod({namespace: identity.namespace, labelSelector: 'app=web'})).items
  t.is(new Set(pods.map((p) => p.spec?.nodeName)).size, 2)
  // Objects are owned by the field manager shopsys-ci.
  const web = await k.apps.readNamespacedDeployment({name: 'web', namespace: identity.namespace})
  t.true(web.metadata?.managedFields?.some((f) => f.manager === 'shopsys-ci' && f.operation === 'Apply'))
  // Quota and limits from the config.
  t.is((await k.core.readNamespacedResourceQuota({name: 'shopsys-ci-quota', namespace: identity.namespace})).spec?.hard?.pods, '20')
  t.truthy(await k.core.readNamespacedLimitRange({name: 'shopsys-ci-limits', namespace: identity.namespace}))
  // Owner lease of the build.
  const lease = await kube().objects.read({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: 'shopsys-ci-owner', namespace: identity.namespace}})
  t.is((lease as {spec?: {holderIdentity?: string}}).spec?.holderIdentity, identity.owner)
  // Progress lines, one per change, readable in a log.
  t.true(log.lines.some((l) => /^\[rollout\] deployment\/web: 2\/2 ready/.test(l)))
  t.true(log.lines.some((l) => /all 4 workload\(s\) ready/.test(l)))
})

test('redeploy in place: same namespace, created-at kept, expiry refreshed, changes applied', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/in-place')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const first = await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const k = kube()
  const before = await k.core.readNamespace({name: identity.namespace})

  await new Promise((r) => setTimeout(r, 1100))
  writeManifests(manifestsFile, fixture('tiny.yaml').replace('greeting: hello', 'greeting: bonjour').replace('replicas: 1', 'replicas: 2'))
  const second = await deployEnvironment({identity: {...identity, commit: 'f'.repeat(40)}, config, manifestsFile, logger: logger()})
  const after = await k.core.readNamespace({name: identity.namespace})

  t.true(first.created)
  t.false(second.created)
  t.is(after.metadata?.uid, before.metadata?.uid)
  t.is(after.metadata?.annotations?.['shopsys-ci/created-at'], before.metadata?.annotations?.['shopsys-ci/created-at'])
  t.true(Date.parse(after.metadata!.annotations!['shopsys-ci/expires-at']) > Date.parse(before.metadata!.annotations!['shopsys-ci/expires-at']))
  t.is(after.metadata?.annotations?.['shopsys-ci/commit'], 'f'.repeat(40))
  t.is((await k.core.readNamespacedConfigMap({name: 'settings', namespace: identity.namespace})).data?.greeting, 'bonjour')
  t.like(second.workloads[0], {name: 'app', ready: true, status: '2/2 ready'})
})

test('redeploy in place: what is live as its manifest says is not sent again; a field changed by hand is set back, a dropped one removed', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/unchanged')
  const manifests = fixture('tiny.yaml').replace('greeting: hello', 'greeting: hello\n  farewell: bye')
  const {manifestsFile} = workspaceWith(manifests)
  const first = await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  t.is(first.unchanged, 0)
  const live = await getKube()
  const sent: string[] = []
  const lists: string[] = []
  const recording: Kube = {
    ...live,
    serverSideApply: (obj) => (sent.push(`${obj.kind}/${obj.metadata.name}`), live.serverSideApply(obj)),
    listJSON: (collection, query) => (lists.push(`${typeof collection === 'string' ? collection.split('/').pop() : collection.kind}${query?.resourceVersion === '0' ? ' from the cache' : ''}`), live.listJSON(collection, query)),
  }
  const deployer = new ServerSideApplyDeployer({kube: recording})

  const log = logger()
  const same = await deployer.deploy({identity, config, manifestsFile, logger: log})
  t.is(same.unchanged, 2)
  t.deepEqual(same.applied.map((o) => `${o.kind}/${o.name}`), ['ConfigMap/settings', 'Deployment/app'])
  t.deepEqual(sent.filter((s) => /^(ConfigMap|Deployment)\//.test(s)), [], 'neither sent again')
  t.true(log.lines.includes('applied 0 object(s) (server-side apply, field manager shopsys-ci); 2 unchanged since the last deploy, not sent again'), log.lines.join('\n'))
  // Nothing sent: the rollout's lists too come from the watch cache (a consistent one would wait for it).
  t.true(lists.includes('deployments from the cache'), lists.join(', '))
  t.true(lists.every((l) => l.endsWith('from the cache')), lists.join(', '))

  // By hand, as another field manager: the Deployment scaled, the ConfigMap's value edited.
  const k = kube()
  await k.apps.patchNamespacedDeployment({name: 'app', namespace: identity.namespace, body: [{op: 'replace', path: '/spec/replicas', value: 0}]}, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
  await k.core.patchNamespacedConfigMap({name: 'settings', namespace: identity.namespace, body: [{op: 'replace', path: '/data/greeting', value: 'edited'}]}, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
  sent.length = 0
  lists.length = 0
  const drifted = await deployer.deploy({identity, config, manifestsFile, logger: logger()})
  t.true(lists.includes('deployments'), `a Deployment was sent: its rollout list is consistent (${lists.join(', ')})`)
  t.is(drifted.unchanged, 0)
  t.deepEqual(sent.filter((s) => /^(ConfigMap|Deployment)\//.test(s)).sort(), ['ConfigMap/settings', 'Deployment/app'])
  t.is((await k.apps.readNamespacedDeployment({name: 'app', namespace: identity.namespace})).spec?.replicas, 1)
  t.is((await k.core.readNamespacedConfigMap({name: 'settings', namespace: identity.namespace})).data?.greeting, 'hello')

  // A key dropped from the manifest: every field left is live, but the apply must remove the key.
  writeManifests(manifestsFile, fixture('tiny.yaml'))
  sent.length = 0
  const dropped = await deployer.deploy({identity, config, manifestsFile, logger: logger()})
  t.is(dropped.unchanged, 1)
  t.deepEqual(sent.filter((s) => /^(ConfigMap|Deployment)\//.test(s)), ['ConfigMap/settings'])
  t.deepEqual((await k.core.readNamespacedConfigMap({name: 'settings', namespace: identity.namespace})).data, {greeting: 'hello'})
})

test('deploy.namespaceLabels and namespaceAnnotations: set on the namespace, and gone again when the config drops them', async (t) => {
  const base = testConfig(uniqueProject('dep'))
  cleanupProject(t, base.project)
  const identity = identityOf(base, 'feature/labels')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const labelled = {...base, deploy: {...base.deploy, namespaceLabels: {'pod-security.kubernetes.io/enforce': 'baseline'}, namespaceAnnotations: {'example.com/team': 'checkout'}}}
  await deployEnvironment({identity, config: labelled, manifestsFile, logger: logger()})
  const k = kube()
  const first = await k.core.readNamespace({name: identity.namespace})
  t.is(first.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline')
  t.is(first.metadata?.annotations?.['example.com/team'], 'checkout')
  t.is(first.metadata?.labels?.['app.kubernetes.io/managed-by'], 'shopsys-ci')

  await deployEnvironment({identity, config: base, manifestsFile, logger: logger()})
  const second = await k.core.readNamespace({name: identity.namespace})
  t.is(second.metadata?.labels?.['pod-security.kubernetes.io/enforce'], undefined)
  t.is(second.metadata?.annotations?.['example.com/team'], undefined)
  t.is(second.metadata?.labels?.['app.kubernetes.io/managed-by'], 'shopsys-ci')
  t.truthy(second.metadata?.annotations?.['shopsys-ci/expires-at'])
})

test('in place, the quota goes with the namespace\'s update: a namespace the API server refuses fails the deploy once the quota is applied, and frees the lock', async (t) => {
  const base = testConfig(uniqueProject('dep'), {deploy: {resourceQuota: {pods: '20'}, lockTimeout: 1_000}})
  cleanupProject(t, base.project)
  const identity = identityOf(base, 'feature/quota')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config: base, manifestsFile, logger: logger()})
  const quota = async () => (await kube().core.readNamespacedResourceQuota({name: 'shopsys-ci-quota', namespace: identity.namespace})).spec?.hard?.pods

  const refused = {...base, deploy: {...base.deploy, resourceQuota: {pods: '21'}, namespaceLabels: {'example.com/team': 'not a label value!'}}}
  const error = await t.throwsAsync(deployEnvironment({identity, config: refused, manifestsFile, logger: logger()}))
  t.regex(error.message, /namespace/i)
  t.is(await quota(), '21')
  // The lock was released (lockTimeout is 1 s): the next deploy takes it at once.
  await deployEnvironment({identity, config: base, manifestsFile, logger: logger()})
  t.is(await quota(), '20')
})

test('redeploy in place prunes what the manifests dropped, and nothing else', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/prune')
  const extra = ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: old-service', 'spec:', '  ports: [{port: 80}]', '  selector: {app: tiny}'].join('\n')
  const oldWorker = fixture('tiny.yaml').split('---')[1].replaceAll('name: app', 'name: old-worker').replaceAll('app: tiny', 'app: old-worker')
  const {manifestsFile} = workspaceWith([fixture('tiny.yaml'), extra, oldWorker].join('\n---\n'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const k = kube()
  const ns = identity.namespace
  // Someone else's objects in the namespace: created with kubectl-like clients, not by our apply.
  await k.core.createNamespacedConfigMap({namespace: ns, body: {metadata: {name: 'created-by-hand'}, data: {a: 'b'}}})
  const annotations = (await k.core.readNamespace({name: ns})).metadata?.annotations ?? {}
  t.regex(annotations['shopsys-ci/applied-kinds'] ?? '', /apps\/v1\/Deployment/)
  t.regex(annotations['shopsys-ci/applied-kinds'] ?? '', /v1\/Service/)

  // The next commit no longer has the Service nor the second Deployment.
  writeManifests(manifestsFile, fixture('tiny.yaml'))
  const log = logger()
  const second = await deployEnvironment({identity, config, manifestsFile, logger: log})
  t.deepEqual(second.pruned.map((o) => `${o.kind}/${o.name}`), ['Deployment/old-worker', 'Service/old-service'])
  t.regex(log.lines.join('\n'), /pruned 2 object\(s\) no longer in the manifests: deployment\/old-worker, service\/old-service/)
  const gone = async (read: () => Promise<unknown>) => read().then(() => false, (e: {code?: number}) => e.code === 404)
  t.true(await gone(() => k.apps.readNamespacedDeployment({name: 'old-worker', namespace: ns})))
  t.true(await gone(() => k.core.readNamespacedService({name: 'old-service', namespace: ns})))
  t.deepEqual(second.workloads.map((w) => w.name), ['app'], 'the removed Deployment is not waited for')
  // What stays: what the manifests still have, what others made, and what controllers made.
  await k.apps.readNamespacedDeployment({name: 'app', namespace: ns})
  await k.core.readNamespacedConfigMap({name: 'settings', namespace: ns})
  await k.core.readNamespacedConfigMap({name: 'created-by-hand', namespace: ns})
  t.true((await k.apps.listNamespacedReplicaSet({namespace: ns})).items.some((rs) => rs.metadata?.name?.startsWith('app-')))

  // A third deploy of the same manifests prunes nothing.
  t.deepEqual((await deployEnvironment({identity, config, manifestsFile, logger: logger()})).pruned, [])
})

test('deploy.prune: false leaves dropped objects in place', async (t) => {
  const config = testConfig(uniqueProject('dep'), {deploy: {prune: false}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'feature/no-prune')
  const extra = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: dropped', 'data: {a: b}'].join('\n')
  const {manifestsFile} = workspaceWith([fixture('tiny.yaml'), extra].join('\n---\n'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  writeManifests(manifestsFile, fixture('tiny.yaml'))
  const second = await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  t.deepEqual(second.pruned, [])
  await kube().core.readNamespacedConfigMap({name: 'dropped', namespace: identity.namespace})
  t.pass()
})

test('--fresh deletes and recreates the namespace', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'fresh')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const before = await kube().core.readNamespace({name: identity.namespace})
  const result = await deployEnvironment({identity, config, manifestsFile, logger: logger(), fresh: true})
  const after = await kube().core.readNamespace({name: identity.namespace})
  t.true(result.created)
  t.true(result.fresh)
  t.not(after.metadata?.uid, before.metadata?.uid)
})

test('deploy waits for a namespace that is still Terminating, then creates it', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'terminating')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  const k = kube()
  // Hold the namespace in Terminating with a finalizer on an object inside it.
  await k.core.createNamespacedConfigMap({namespace: identity.namespace, body: {metadata: {name: 'held', finalizers: ['shopsys-ci.test/hold']}}})
  const old = await k.core.readNamespace({name: identity.namespace})
  await k.core.deleteNamespace({name: identity.namespace})
  const release = setTimeout(() => {
    void k.core.patchNamespacedConfigMap({name: 'held', namespace: identity.namespace, body: [{op: 'remove', path: '/metadata/finalizers'}]})
  }, 4000)
  t.teardown(() => clearTimeout(release))

  const log = logger()
  const result = await deployEnvironment({identity, config, manifestsFile, logger: log})
  const now = await k.core.readNamespace({name: identity.namespace})
  t.true(result.created)
  t.not(now.metadata?.uid, old.metadata?.uid)
  t.is(now.status?.phase, 'Active')
  // It waited for the old one to go (a new uid), and said so.
  t.true(log.lines.some((l) => /still being deleted; waiting/.test(l)))
  t.true(log.lines.some((l) => /is gone \(waited /.test(l)))
})

test('never deploys into a namespace the tool does not own', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'foreign')
  const k = kube()
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))

  // Same name, no labels (someone else's namespace).
  await k.core.createNamespace({body: {metadata: {name: identity.namespace}}})
  cleanupNamespace(t, identity.namespace)
  const unlabelled = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(unlabelled.message, /not managed by shopsys-ci/)
  t.is((await k.apps.listNamespacedDeployment({namespace: identity.namespace})).items.length, 0)

  // Another project's environment.
  const foreignName = `${config.project}-other`
  await k.core.createNamespace({body: {metadata: {name: foreignName, labels: {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': 'someone-else', 'shopsys-ci/branch-slug': identity.slug}}}})
  cleanupNamespace(t, foreignName)
  const foreign = await t.throwsAsync(deployEnvironment({identity: {...identity, namespace: foreignName}, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(foreign.message, /belongs to project "someone-else"/)
  t.deepEqual((await k.core.readNamespace({name: foreignName})).metadata?.annotations ?? {}, {})

  // default and kube-system, whatever is asked.
  for (const namespace of ['default', 'kube-system']) {
    await t.throwsAsync(deployEnvironment({identity: {...identity, namespace}, config, manifestsFile, logger: logger()}), {instanceOf: DeployError, message: /refusing to deploy into namespace/})
  }
})

test('an Ingress whose host patch did not apply: the deploy goes on and warns of every URL that leads nowhere', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'unrouted')
  const first = new URL(identity.urls.first).hostname
  const ingress = `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - host: ${first}\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}\n  - host: second.invalid\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}\n`
  const {manifestsFile} = workspaceWith(`${fixture('tiny.yaml')}\n---\n${ingress}`)
  const log = logger()
  await deployEnvironment({identity, config, manifestsFile, logger: log})
  const warnings = log.lines.filter((l) => l.startsWith('WARNING: no Ingress or HTTPRoute'))
  t.deepEqual(warnings.map((w) => /the URL "([^"]+)"/.exec(w)?.[1]).sort(), Object.keys(identity.urls).filter((name) => name !== 'first').sort())
  t.regex(warnings.find((w) => w.includes('"second"')) ?? '', /serves 2\.unrouted\.ci\.example\.test, so the URL "second" \(http:\/\/2\.unrouted\.ci\.example\.test:8000\) leads nowhere: check the host patches/)
})

test('cluster-scoped objects are refused before anything is applied', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'cluster-scoped')
  const {manifestsFile} = workspaceWith(`${fixture('tiny.yaml')}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ${config.project}-reader}\nrules: []\n`)
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(error.message, /ClusterRole .*cluster-scoped; a branch must not change the cluster/)
  t.false(await namespaceExists(identity.namespace))
})

test('unknown fields are rejected by the API server, not silently dropped', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'typo')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml').replace('replicas: 1', 'replicas: 1\n  replica: 3'))
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(error.message, /deployment\/app failed: .*\.spec\.replica: field not declared in schema/)
})

test('a change in place that the API refuses (a Deployment\'s selector) fails with a short message and says how to recreate', async (t) => {
  const config = testConfig(uniqueProject('dep'))
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'immutable')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  await deployEnvironment({identity, config, manifestsFile, logger: logger()})
  writeManifests(manifestsFile, fixture('tiny.yaml').replace(/app: tiny/g, 'app: tiny2'))
  const error = await t.throwsAsync(deployEnvironment({identity, config, manifestsFile, logger: logger()}), {instanceOf: DeployError})
  t.regex(error.message, /deployment\/app failed: .*spec\.selector: Invalid value: .*field is immutable/)
  t.true(error.message.length < 600, error.message)
  t.regex(error.suggestions.join('\n'), /shopsys-ci build --fresh/)
})

test('deploy.imagePullSecret: a Secret the registry accepts, named by the default ServiceAccount and so in the pods; kept by pruning, removed when turned off', async (t) => {
  const registry = process.env.SHOPSYS_CI_TEST_REGISTRY!
  const username = process.env.SHOPSYS_CI_TEST_REGISTRY_USER!
  const password = process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD!
  const config = testConfig(uniqueProject('dep'), {deploy: {imagePullSecret: true}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'pull-secret')
  const namespace = identity.namespace
  // A Secret and a ServiceAccount of the app's own, so both kinds are where pruning looks. (With
  // a label, as render's overlay gives every object: an object of nothing but a name has no
  // managedFields entry, so nothing marks it as applied by the tool.)
  const own = 'apiVersion: v1\nkind: Secret\nmetadata: {name: app-settings}\nstringData: {a: b}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: worker, labels: {app: tiny}}\n'
  const {manifestsFile} = workspaceWith(`${fixture('tiny.yaml')}\n---\n${own}`)
  const log = logger()
  await deployEnvironment({identity, config, manifestsFile, logger: log, pullCredentials: {server: registry, username, password}})

  const secret = await kube().core.readNamespacedSecret({name: 'shopsys-ci-registry', namespace})
  t.is(secret.type, 'kubernetes.io/dockerconfigjson')
  const auths = JSON.parse(Buffer.from(secret.data!['.dockerconfigjson'], 'base64').toString()).auths as Record<string, {auth: string}>
  t.deepEqual(Object.keys(auths), [registry])
  // The registry itself accepts what the Secret says (and refuses the same request without it).
  t.is((await fetch(`http://${registry}/v2/`, {headers: {authorization: `Basic ${auths[registry].auth}`}})).status, 200)
  t.is((await fetch(`http://${registry}/v2/`)).status, 401)
  const account = await kube().core.readNamespacedServiceAccount({name: 'default', namespace})
  t.deepEqual(account.imagePullSecrets?.map((r) => r.name), ['shopsys-ci-registry'])
  // The API server's ServiceAccount admission copied it into the pod.
  const [pod] = (await kube().core.listNamespacedPod({namespace, labelSelector: 'app=tiny'})).items
  t.deepEqual(pod.spec?.imagePullSecrets?.map((r) => r.name), ['shopsys-ci-registry'])
  t.false(log.lines.join('\n').includes(password))

  // In place without the app's Secret and ServiceAccount: they are pruned, the tool's own stay.
  writeManifests(manifestsFile, fixture('tiny.yaml'))
  const again = await deployEnvironment({identity, config, manifestsFile, logger: logger(), pullCredentials: {server: registry, username, password}})
  t.deepEqual(again.pruned.map((o) => `${o.kind}/${o.name}`).sort(), ['Secret/app-settings', 'ServiceAccount/worker'])
  t.truthy(await kube().core.readNamespacedSecret({name: 'shopsys-ci-registry', namespace}))
  t.deepEqual((await kube().core.readNamespacedServiceAccount({name: 'default', namespace})).imagePullSecrets?.map((r) => r.name), ['shopsys-ci-registry'])

  // Turned off: the Secret goes, and so does its name in the ServiceAccount and the annotation.
  t.is((await kube().core.readNamespace({name: namespace})).metadata?.annotations?.['shopsys-ci/pull-secret'], 'true')
  const off = testConfig(config.project, {deploy: {imagePullSecret: false}})
  await deployEnvironment({identity, config: off, manifestsFile, logger: logger()})
  t.is((await kube().core.readNamespace({name: namespace})).metadata?.annotations?.['shopsys-ci/pull-secret'], undefined)
  await t.throwsAsync(kube().core.readNamespacedSecret({name: 'shopsys-ci-registry', namespace}), {message: /404|not found/i})
  t.deepEqual((await kube().core.readNamespacedServiceAccount({name: 'default', namespace})).imagePullSecrets ?? [], [])
})

test('deploy.secrets: the app\'s Secrets from environment variables, never in the log; kept by pruning, updated, removed when the config drops them', async (t) => {
  const secrets = {'app-secrets': {DATABASE_PASSWORD: 'IT_DB_PASSWORD', API_KEY: 'IT_API_KEY'}, 'mailer': {DSN: 'IT_MAILER_DSN'}}
  const config = testConfig(uniqueProject('dep'), {deploy: {secrets}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'app-secrets')
  const namespace = identity.namespace
  const env = {IT_DB_PASSWORD: `pw-${namespace}-1`, IT_API_KEY: 'key with spaces & "quotes"', IT_MAILER_DSN: 'smtp://user:pass@smtp-server:25'}
  // A Secret of the app's own in the manifests, so Secrets are where pruning looks.
  const own = 'apiVersion: v1\nkind: Secret\nmetadata: {name: app-settings, labels: {app: tiny}}\nstringData: {a: b}\n'
  const {manifestsFile} = workspaceWith(`${fixture('tiny.yaml')}\n---\n${own}`)
  const log = logger()
  await deployEnvironment({identity, config, manifestsFile, logger: log, appSecrets: appSecretsFromEnv(secrets, env)})

  const read = async (name: string) => {
    const secret = await kube().core.readNamespacedSecret({name, namespace})
    return {type: secret.type, labels: secret.metadata?.labels, data: Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))}
  }
  t.like(await read('app-secrets'), {type: 'Opaque', data: {DATABASE_PASSWORD: env.IT_DB_PASSWORD, API_KEY: env.IT_API_KEY}, labels: {'app.kubernetes.io/managed-by': 'shopsys-ci'}})
  t.deepEqual((await read('mailer')).data, {DSN: env.IT_MAILER_DSN})
  t.regex(log.lines.join('\n'), /made 2 Secret\(s\) of deploy\.secrets: app-secrets \(2 key\(s\)\), mailer \(1 key\(s\)\)/)
  for (const value of Object.values(env)) t.false(log.lines.join('\n').includes(value), 'no value in the log')
  t.false(readFileSync(manifestsFile, 'utf8').includes(env.IT_DB_PASSWORD), 'nor in the manifests')
  t.is((await kube().core.readNamespace({name: namespace})).metadata?.annotations?.['shopsys-ci/secrets'], 'app-secrets,mailer')

  // In place, the app's own Secret gone from the manifests, `mailer` from the config, a value changed:
  // pruning takes the app's Secret only; `mailer` is removed as the config's; the value is updated.
  writeManifests(manifestsFile, fixture('tiny.yaml'))
  const fewer = {'app-secrets': secrets['app-secrets']}
  const changed = {...env, IT_DB_PASSWORD: `pw-${namespace}-2`}
  const again = await deployEnvironment({identity, config: testConfig(config.project, {deploy: {secrets: fewer}}), manifestsFile, logger: logger(), appSecrets: appSecretsFromEnv(fewer, changed)})
  t.deepEqual(again.pruned.map((o) => `${o.kind}/${o.name}`), ['Secret/app-settings'])
  t.is((await read('app-secrets')).data.DATABASE_PASSWORD, changed.IT_DB_PASSWORD)
  await t.throwsAsync(kube().core.readNamespacedSecret({name: 'mailer', namespace}), {message: /404|not found/i})
  t.is((await kube().core.readNamespace({name: namespace})).metadata?.annotations?.['shopsys-ci/secrets'], 'app-secrets')

  // None left in the config: the last one goes, and so does the annotation.
  await deployEnvironment({identity, config: testConfig(config.project), manifestsFile, logger: logger()})
  await t.throwsAsync(kube().core.readNamespacedSecret({name: 'app-secrets', namespace}), {message: /404|not found/i})
  t.is((await kube().core.readNamespace({name: namespace})).metadata?.annotations?.['shopsys-ci/secrets'], undefined)

  // A Secret both in deploy.secrets and in the manifests: refused before anything is applied.
  writeManifests(manifestsFile, `${fixture('tiny.yaml')}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-secrets}\nstringData: {a: b}\n`)
  const twice = await t.throwsAsync(deployEnvironment({identity, config: testConfig(config.project, {deploy: {secrets: fewer}}), manifestsFile, logger: logger(), appSecrets: appSecretsFromEnv(fewer, changed)}), {instanceOf: DeployError})
  t.regex(twice.message, /Secret app-secrets is both in deploy\.secrets and in the manifests/)
  await t.throwsAsync(kube().core.readNamespacedSecret({name: 'app-secrets', namespace}), {message: /404|not found/i})
})

test('deploy.secrets: a changed value restarts the pods that read it (the Secret\'s version on their template); an unchanged one restarts nothing', async (t) => {
  const secrets = {'app-secrets': {DATABASE_PASSWORD: 'IT_RESTART_PASSWORD'}}
  const config = testConfig(uniqueProject('dep'), {deploy: {secrets}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'secret-restart')
  const namespace = identity.namespace
  // `app` reads the Secret (envFrom); `other` does not.
  const reader = fixture('tiny.yaml').replace('        image: 127.0.0.1:5000/shopsys-ci-test/app:1', '        image: 127.0.0.1:5000/shopsys-ci-test/app:1\n        envFrom: [{secretRef: {name: app-secrets}}]')
  t.not(reader, fixture('tiny.yaml'))
  const other = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: other}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: other, image: 127.0.0.1:5000/shopsys-ci-test/app:1}]}\n'
  const {manifestsFile} = workspaceWith(`${reader}\n---\n${other}`)
  const deployWith = async (password: string, log = logger()) => {
    const result = await deployEnvironment({identity, config, manifestsFile, logger: log, appSecrets: appSecretsFromEnv(secrets, {IT_RESTART_PASSWORD: password})})
    const [app, oth, secret] = await Promise.all([
      kube().apps.readNamespacedDeployment({name: 'app', namespace}),
      kube().apps.readNamespacedDeployment({name: 'other', namespace}),
      kube().core.readNamespacedSecret({name: 'app-secrets', namespace}),
    ])
    return {result, app, other: oth, secretVersion: secret.metadata?.resourceVersion}
  }

  const log = logger()
  const first = await deployWith('first-password', log)
  t.is(first.app.spec?.template.metadata?.annotations?.['shopsys-ci/secret-versions'], `app-secrets=${first.secretVersion}`)
  t.is(first.other.spec?.template.metadata?.annotations?.['shopsys-ci/secret-versions'], undefined)
  t.regex(log.lines.join('\n'), /a changed value restarts the pods of deployment\/app\b/)
  t.false(log.lines.join('\n').includes('first-password'))

  // The same value again: the Secret keeps its version, no template changes, no new pods.
  const same = await deployWith('first-password')
  t.is(same.secretVersion, first.secretVersion)
  t.is(same.app.metadata?.generation, first.app.metadata?.generation)

  // A new value: a new version on `app`'s template, so a new rollout of `app`, waited for; `other` untouched.
  const changed = await deployWith('second-password')
  t.not(changed.secretVersion, first.secretVersion)
  t.is(changed.app.spec?.template.metadata?.annotations?.['shopsys-ci/secret-versions'], `app-secrets=${changed.secretVersion}`)
  t.true((changed.app.metadata?.generation ?? 0) > (first.app.metadata?.generation ?? 0))
  t.is(changed.other.metadata?.generation, first.other.metadata?.generation)
  t.true(changed.result.workloads.every((w) => w.ready), JSON.stringify(changed.result.workloads))
  const sets = await kube().apps.listNamespacedReplicaSet({namespace, labelSelector: 'app=tiny'})
  t.is(sets.items.length, 2, 'a second ReplicaSet for the new pods')
})

test('keep for review: the build\'s cleanup leaves it, every deploy refreshes the expiry', async (t) => {
  const config = testConfig(uniqueProject('dep'), {deploy: {ttl: 2 * 3_600_000}})
  cleanupProject(t, config.project)
  const identity = identityOf(config, 'review')
  const {manifestsFile} = workspaceWith(fixture('tiny.yaml'))
  const result = await deployEnvironment({identity, config, manifestsFile, logger: logger(), keep: true})
  t.true(result.keep)
  t.true(Math.abs(Date.parse(result.expiresAt) - (Date.now() + 2 * 3_600_000)) < 60_000)
  const cleanup = await cleanupEnvironment({identity, config, logger: logger()})
  t.is(cleanup.outcome, 'kept')
  t.true(await namespaceExists(identity.namespace))
  const forced = await cleanupEnvironment({identity, config, logger: logger(), force: true})
  t.is(forced.outcome, 'deleted')
  t.false(await namespaceExists(identity.namespace))
})
