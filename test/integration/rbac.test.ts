/**
 * cluster/ (docs/cluster.md) on the real stack: the least-privilege ServiceAccount is enough for
 * every kube command of the CLI, and its admission policy refuses what lies outside the branches'
 * namespaces, whatever the tool (or someone holding its token) asks for.
 *
 * The manifests are applied with `kubectl apply -k` from a copy of cluster/ whose naming settings
 * are changed the way docs/cluster.md tells an admin to (plus a nameSuffix on the cluster-scoped
 * objects), so that parallel runs never share a ServiceAccount, policy or system namespace. The
 * token comes from the TokenRequest API and only ever sits in memory and in a 0600 kubeconfig in a
 * 0700 directory, deleted in after.always; it never goes into argv or a log.
 *
 *   eval "$(test/stack/env)" && npx ava --serial test/integration/rbac.test.ts
 */
import {randomBytes} from 'node:crypto'
import {chmodSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import {PassThrough} from 'node:stream'

import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node'
import test from 'ava'
import YAML from 'yaml'

import {buildAccessChecks, reviewAccess} from '../../src/kube/access.js'
import {runCli} from '../helpers/cli.js'
import {clientsThrough} from '../helpers/proxies.js'
import {apiStatus, deleteNamespace, kube, requireKubeconfig, runOk, waitFor, waitForPods} from '../helpers/stack.js'
import {fixture, REPO_ROOT} from './kube-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const ID = randomBytes(3).toString('hex')
/** The settings of cluster/kustomization.yaml, as an admin would set them. */
const SA_NAMESPACE = `h19-rbac-${ID}`
const SA_NAME = 'ci-bot'
const SYSTEM_NAMESPACE = `h19-rbac-sys-${ID}`
const SA_USER = `system:serviceaccount:${SA_NAMESPACE}:${SA_NAME}`
const SUFFIX = `-h19-${ID}`
const ROLE = `shopsys-ci${SUFFIX}`
const POLICY = `shopsys-ci-guard${SUFFIX}`
const PROJECT = `h19-rbac-${ID}`
/** A namespace nobody labelled: the account must not touch it (created by the test as admin). */
const FOREIGN = `h19-rbac-foreign-${ID}`
/** A fake registry account for the pull secret: nothing pulls on kwok, but it must never be printed. */
const PULL_PASSWORD = `pw-${randomBytes(12).toString('hex')}`
/** The value of the app's Secret (deploy.secrets): the account makes it, and it is never printed either. */
const APP_DB_PASSWORD = `db-${randomBytes(12).toString('hex')}`

const state: {dir?: string; kubeconfig?: string; token?: string; workspace?: string} = {}

function admin() {
  const k = kube()
  return {...k, rbac: k.kc.makeApiClient(RbacAuthorizationV1Api), admission: k.kc.makeApiClient(AdmissionregistrationV1Api)}
}

/** The API clients as the CI account. */
function asAccount() {
  const kc = new KubeConfig()
  kc.loadFromFile(state.kubeconfig!)
  return {kc, core: kc.makeApiClient(CoreV1Api)}
}

/** The message of an API error (the Status object's), for asserting the policy's words. */
function messageOf(error: unknown): string {
  const body = (error as {body?: unknown}).body
  if (typeof body === 'string') {
    try {
      return String((JSON.parse(body) as {message?: unknown}).message)
    } catch {
      return body
    }
  }
  return String((error as Error).message)
}

async function refusal(t: import('ava').ExecutionContext, request: Promise<unknown>): Promise<string> {
  const error = await t.throwsAsync(request)
  t.is(apiStatus(error), 403, messageOf(error))
  return messageOf(error)
}

const guard = (text: string) => new RegExp(`ValidatingAdmissionPolicy '${POLICY}' .*denied request: shopsys-ci-guard: ${text}`)

test.before(async () => {
  requireKubeconfig()
  const k = admin()
  state.dir = tempDir('shopsys-ci-rbac-')
  chmodSync(state.dir, 0o700)

  // The admin's step: cluster/ with its three names changed (podSecurity stays baseline), applied with kubectl apply -k.
  const overlay = path.join(state.dir, 'cluster')
  cpSync(path.join(REPO_ROOT, 'cluster'), overlay, {recursive: true})
  const file = path.join(overlay, 'kustomization.yaml')
  let kustomization = readFileSync(file, 'utf8')
  for (const [key, from, to] of [['serviceAccountNamespace', 'shopsys-ci', SA_NAMESPACE], ['serviceAccountName', 'jenkins', SA_NAME], ['systemNamespace', 'shopsys-ci-system', SYSTEM_NAMESPACE]]) {
    const line = `- ${key}=${from}\n`
    if (!kustomization.includes(line)) throw new Error(`cluster/kustomization.yaml has no setting line "${line.trim()}"`)
    kustomization = kustomization.replace(line, `- ${key}=${to}\n`)
  }
  writeFileSync(file, `${kustomization}\nnameSuffix: ${SUFFIX}\n`)
  await runOk('kubectl', ['apply', '-k', overlay])

  // The token, minted like `kubectl create token`, straight into a 0600 kubeconfig.
  const {status} = await k.core.createNamespacedServiceAccountToken({namespace: SA_NAMESPACE, name: SA_NAME, body: {spec: {audiences: [], expirationSeconds: 3600}}})
  state.token = status!.token
  const cluster = k.kc.getCurrentCluster()!
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined)
  state.kubeconfig = path.join(state.dir, 'ci.kubeconfig')
  writeFileSync(state.kubeconfig, YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: 'ci', cluster: {server: cluster.server, ...(ca ? {'certificate-authority-data': ca} : {})}}],
    users: [{name: SA_NAME, user: {token: state.token}}],
    contexts: [{name: 'ci', context: {cluster: 'ci', user: SA_NAME}}],
    'current-context': 'ci',
  }), {mode: 0o600})

  // The policy is enforced once the API server has loaded it: a dry run tells, without writing.
  const account = asAccount()
  await waitFor(`policy ${POLICY} to be enforced`, async () => {
    try {
      await account.core.createNamespace({dryRun: 'All', body: {metadata: {name: `h19-rbac-probe-${ID}`}}})
      return false
    } catch (error) {
      if (apiStatus(error) === 403 && guard('').test(messageOf(error))) return true
      throw error
    }
  }, {timeoutMs: 60_000})

  // A namespace that is not the tool's, with a pod in it (kwok makes it Running).
  await k.core.createNamespace({body: {metadata: {name: FOREIGN}}})
  await waitFor(`ServiceAccount default in ${FOREIGN}`, () => k.core.readNamespacedServiceAccount({name: 'default', namespace: FOREIGN}).then(() => true))
  await k.core.createNamespacedPod({namespace: FOREIGN, body: {metadata: {name: 'victim', labels: {app: 'victim'}}, spec: {containers: [{name: 'app', image: '127.0.0.1:5000/shopsys-ci-test/app:1'}]}}})
})

test.after.always(async () => {
  const k = admin()
  const ignoreGone = (error: unknown) => {
    if (apiStatus(error) !== 404) throw error
  }
  // Every cluster-scoped object the kustomization made, by name.
  await Promise.all([
    k.admission.deleteValidatingAdmissionPolicyBinding({name: POLICY}).catch(ignoreGone),
    k.admission.deleteValidatingAdmissionPolicy({name: POLICY}).catch(ignoreGone),
    k.rbac.deleteClusterRoleBinding({name: ROLE}).catch(ignoreGone),
    k.rbac.deleteClusterRole({name: ROLE}).catch(ignoreGone),
  ])
  const project = await k.core.listNamespace({labelSelector: `shopsys-ci/project=${PROJECT}`})
  await Promise.all([SA_NAMESPACE, SYSTEM_NAMESPACE, FOREIGN, ...project.items.map((ns) => ns.metadata!.name!)].map((name) => deleteNamespace(k.core, name)))
  for (const dir of [state.dir, state.workspace]) if (dir) rmSync(dir, {recursive: true, force: true})
})

test('the manifests: kubeconfig 0600, the names from the settings, no read of Secrets', async (t) => {
  t.is(statSync(state.kubeconfig!).mode & 0o777, 0o600)
  const k = admin()
  const binding = await k.rbac.readClusterRoleBinding({name: ROLE})
  t.deepEqual(binding.subjects?.map(({kind, name, namespace}) => ({kind, name, namespace})), [{kind: 'ServiceAccount', name: SA_NAME, namespace: SA_NAMESPACE}])
  const policy = await k.admission.readValidatingAdmissionPolicy({name: POLICY})
  t.is(policy.spec?.matchConditions?.[0]?.expression, `request.userInfo.username == 'system:serviceaccount:' + '${SA_NAMESPACE}' + ':' + '${SA_NAME}'`)
  t.is(policy.spec?.variables?.find((v) => v.name === 'systemNamespace')?.expression, `'${SYSTEM_NAMESPACE}'`)
  t.is((await k.admission.readValidatingAdmissionPolicyBinding({name: POLICY})).spec?.policyName, POLICY)
  // The settings ConfigMap is local to kustomize, never applied.
  await t.throwsAsync(k.core.readNamespacedConfigMap({namespace: SA_NAMESPACE, name: 'shopsys-ci-settings'}))

  const account = asAccount()
  const secrets = await refusal(t, account.core.listSecretForAllNamespaces())
  t.regex(secrets, new RegExp(`User "${SA_USER}" cannot list resource "secrets"`))
})

function writeWorkspace(manifests: string): void {
  state.workspace ??= tempDir('shopsys-ci-rbac-ws-')
  const ws = state.workspace
  mkdirSync(path.join(ws, '.ci'), {recursive: true})
  mkdirSync(path.join(ws, '.shopsys-ci'), {recursive: true})
  const podDir = path.join(ws, 'pod')
  mkdirSync(podDir, {recursive: true})
  writeFileSync(path.join(ws, '.ci/shopsys-ci.yaml'), `project: ${PROJECT}
deploy:
  timeout: 90s
  # cluster/'s policy makes every namespace of the account enforce Pod Security (podSecurity: baseline).
  namespaceLabels: {pod-security.kubernetes.io/enforce: baseline}
  ttl: 12h
  imagePullSecret: true
  secrets:
    app-db: {PASSWORD: RBAC_APP_DB_PASSWORD}
  resourceQuota: {pods: "20"}
  limitRange:
    - type: Container
      default: {memory: 256Mi}
phases:
  - name: tests
    target: deployment/web
    container: php-fpm
    command: "echo testing as the CI account; mkdir -p out; echo '<testsuites/>' > out/junit.xml"
    workingDir: ${podDir}
    env: {}
    artifacts: [out/junit.xml]
`)
  writeFileSync(path.join(ws, '.shopsys-ci/manifests.yaml'), manifests)
}

/** What the app fixture lacks of the usual kinds: an Ingress, a PVC, a ServiceAccount, a CronJob, a Secret. */
const EXTRA = `
---
apiVersion: v1
kind: Secret
metadata:
  name: app-keys
stringData:
  key: not-a-real-key
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: web.ci.example.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 8080}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: uploads
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
# A field of its own: an object applied with nothing but its name gets no managedFields entry,
# so prune could not tell it was applied by the tool.
automountServiceAccountToken: false
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: cron
            image: 127.0.0.1:5000/shopsys-ci-test/php-fpm:1
`

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, {
    env: {
      KUBECONFIG: state.kubeconfig!,
      SHOPSYS_CI_SYSTEM_NAMESPACE: SYSTEM_NAMESPACE,
      WORKSPACE: state.workspace!,
      DEVELOPMENT_SERVER_DOMAIN: 'ci.example.test',
      NGINX_INGRESS_CONTROLLER_HOST_PORT: '8000',
      GIT_COMMIT: 'c0ffee'.padEnd(40, '0'),
      BUILD_TAG: `jenkins-${PROJECT}-1`,
      BUILD_URL: 'https://jenkins.example.test/job/shop/1/',
      DOCKER_REGISTRY: '127.0.0.1:5000',
      DOCKER_USERNAME: 'puller',
      DOCKER_PASSWORD: PULL_PASSWORD,
      RBAC_APP_DB_PASSWORD: APP_DB_PASSWORD,
      ...env,
    },
  })
}

test('as the CI account: deploy (pull secret, deploy.secrets, quota, prune), status, list, run, logs export, gc, cleanup all succeed', async (t) => {
  const results: Array<{stdout: string; stderr: string}> = []
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const result = await cli(args, env)
    results.push(result)
    t.is(result.exitCode, 0, `${args.join(' ')}:\n${result.stderr}\n${result.stdout}`)
    return result
  }
  const k = admin()
  writeWorkspace(fixture('app.yaml') + EXTRA)
  const env = {BRANCH_NAME: 'feature/rbac'}

  const deployed = JSON.parse((await ok(['deploy', '--json'], env)).stdout)
  const namespace: string = deployed.namespace
  t.true(deployed.created)
  t.deepEqual([...new Set(deployed.applied.map((o: {kind: string}) => o.kind))].sort(), ['ConfigMap', 'CronJob', 'Deployment', 'Ingress', 'Job', 'PersistentVolumeClaim', 'Secret', 'Service', 'ServiceAccount', 'StatefulSet'])
  // What the deploy made besides the app, checked as admin.
  t.is((await k.core.readNamespacedSecret({namespace, name: 'shopsys-ci-registry'})).type, 'kubernetes.io/dockerconfigjson')
  t.deepEqual((await k.core.readNamespacedServiceAccount({namespace, name: 'default'})).imagePullSecrets?.map((s) => s.name), ['shopsys-ci-registry'])
  t.is((await k.core.readNamespacedResourceQuota({namespace, name: 'shopsys-ci-quota'})).spec?.hard?.pods, '20')
  t.truthy(await k.core.readNamespacedLimitRange({namespace, name: 'shopsys-ci-limits'}))
  t.is(Buffer.from((await k.core.readNamespacedSecret({namespace, name: 'app-db'})).data!.PASSWORD, 'base64').toString(), APP_DB_PASSWORD)

  // In place, without the extra objects: prune lists what was applied before and deletes them.
  writeWorkspace(fixture('app.yaml'))
  const again = JSON.parse((await ok(['deploy', '--json'], env)).stdout)
  t.false(again.created)
  t.deepEqual(again.pruned.map((o: {kind: string; name: string}) => `${o.kind}/${o.name}`).sort(), ['CronJob/nightly', 'Ingress/web', 'PersistentVolumeClaim/uploads', 'ServiceAccount/app'])
  // Secrets are write-only for the account: the dropped one stays, and the deploy says why instead of failing.
  t.regex(results.at(-1)!.stderr, /prune: not allowed to list Secret objects in \S+ \(.*secrets is forbidden: .*\); Secret objects dropped from the manifests stay/)
  t.is((await k.core.readNamespacedSecret({namespace, name: 'app-keys'})).metadata?.name, 'app-keys')

  t.regex((await ok(['status'], env)).stdout, /ok +deployment\/web: 2\/2 ready/)
  const listed = JSON.parse((await ok(['list', '--json'])).stdout)
  t.like(listed.environments[0], {namespace, branch: 'feature/rbac'})

  const phase = await ok(['run', 'tests', '--json'], env)
  t.like(JSON.parse(phase.stdout), {phase: 'tests', exitCode: 0, artifacts: ['shopsys-ci/artifacts/tests/out/junit.xml']})
  t.regex(phase.stderr, /\[tests\] testing as the CI account/)

  const logs = JSON.parse((await ok(['logs:export', '--json'], env)).stdout)
  t.true(logs.files.length >= 1)

  // gc deletes an expired environment of the project: a second branch, made to expire (as admin).
  const old = JSON.parse((await ok(['deploy', '--json', '--keep'], {BRANCH_NAME: 'old'})).stdout)
  await k.core.patchNamespace({name: old.namespace, body: [{op: 'replace', path: '/metadata/annotations/shopsys-ci~1expires-at', value: '2000-01-01T00:00:00Z'}]})
  const gc = JSON.parse((await ok(['gc', '--no-branch-check', '--json'])).stdout)
  t.deepEqual(gc.deleted, [old.namespace])
  t.deepEqual(gc.failed, [])
  await t.throwsAsync(k.core.readNamespace({name: old.namespace}))

  const cleanup = JSON.parse((await ok(['cleanup', '--json'], env)).stdout)
  t.like(cleanup, {outcome: 'deleted'})
  await t.throwsAsync(k.core.readNamespace({name: namespace}))

  // The Leases went to the system namespace, which the kustomization made, unlabelled.
  const system = await k.core.readNamespace({name: SYSTEM_NAMESPACE})
  t.is(system.metadata?.labels?.['app.kubernetes.io/managed-by'], undefined)

  for (const {stdout, stderr} of results) {
    t.false(stdout.includes(state.token!) || stderr.includes(state.token!), 'the token was printed')
    t.false(stdout.includes(PULL_PASSWORD) || stderr.includes(PULL_PASSWORD), 'the registry password was printed')
    t.false(stdout.includes(APP_DB_PASSWORD) || stderr.includes(APP_DB_PASSWORD), 'the app\'s secret was printed')
  }
})

test('as the CI account: the build\'s preflight finds every right it asks for (it must never refuse a build cluster/ allows)', async (t) => {
  const checks = buildAccessChecks({namespace: `${PROJECT}-feature-preflight`, systemNamespace: SYSTEM_NAMESPACE, phases: true, cleanup: true, secrets: true, pullSecret: true})
  const outcome = await reviewAccess(clientsThrough(state.kubeconfig!), checks)
  t.is(outcome.unchecked, undefined)
  t.deepEqual(outcome.denied, [])
  // And the review is not a yes to everything: the account may not create a ClusterRole.
  const other = await reviewAccess(clientsThrough(state.kubeconfig!), [{verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', why: 'a control'}])
  t.is(other.denied.length, 1)
})

test('as the CI account: writes outside managed namespaces are refused by the policy', async (t) => {
  const k = admin()
  const account = asAccount()

  const configMap = await refusal(t, account.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: `h19-${ID}`}}}))
  t.regex(configMap, guard('CREATE of configmaps in namespace "default" refused: the namespace belongs to the cluster'))

  const foreignConfigMap = await refusal(t, account.core.createNamespacedConfigMap({namespace: FOREIGN, body: {metadata: {name: `h19-${ID}`}}}))
  t.regex(foreignConfigMap, guard(`CREATE of configmaps in namespace "${FOREIGN}" refused: the namespace is not labelled app.kubernetes.io/managed-by=shopsys-ci`))

  const deletion = await refusal(t, account.core.deleteNamespace({name: FOREIGN}))
  t.regex(deletion, guard(`DELETE of namespace "${FOREIGN}" refused: it is not labelled app.kubernetes.io/managed-by=shopsys-ci`))

  const adoption = await refusal(t, account.core.patchNamespace({name: FOREIGN, body: [{op: 'add', path: '/metadata/labels/app.kubernetes.io~1managed-by', value: 'shopsys-ci'}]}))
  t.regex(adoption, guard(`UPDATE of namespace "${FOREIGN}" refused: it is not labelled app.kubernetes.io/managed-by=shopsys-ci`))

  const unlabelled = await refusal(t, account.core.createNamespace({body: {metadata: {name: `h19-rbac-new-${ID}`}}}))
  t.regex(unlabelled, guard(`CREATE of namespace "h19-rbac-new-${ID}" refused: a new namespace must be labelled`))

  const system = await refusal(t, account.core.deleteNamespace({name: SYSTEM_NAMESPACE}))
  t.regex(system, guard(`DELETE of namespace "${SYSTEM_NAMESPACE}" refused: it is the system namespace of shopsys-ci`))
  const systemSecret = await refusal(t, account.core.createNamespacedSecret({namespace: SYSTEM_NAMESPACE, body: {metadata: {name: `h19-${ID}`}}}))
  t.regex(systemSecret, guard(`CREATE of secrets in namespace "${SYSTEM_NAMESPACE}" refused: only Leases may be written in the system namespace`))

  // exec (CONNECT pods/exec) into a pod of the foreign namespace. The WebSocket client sees only
  // "403"; the same request without the upgrade gets the API's Status with the policy's words.
  await waitForPods(k.core, FOREIGN, 'app=victim', (pod) => pod.status?.phase === 'Running')
  const {status, body} = await postExec(FOREIGN, 'victim')
  t.is(status, 403, body)
  t.regex(JSON.parse(body).message, guard(`CONNECT of pods/exec in namespace "${FOREIGN}" refused: the namespace is not labelled`))
  const stdout = new PassThrough()
  // Only the message is kept: the rejection (a WebSocket ErrorEvent) carries the request's headers,
  // the bearer token among them, and must not reach the test's output.
  const refused = await new Exec(account.kc).exec(FOREIGN, 'victim', 'app', ['echo', 'owned'], stdout, stdout, null, false).then(
    (socket) => {
      socket.close()
      return 'connected'
    },
    (error: unknown) => String((error as {message?: unknown}).message),
  )
  t.is(refused, 'Unexpected server response: 403')

  // Nothing changed.
  const foreign = await k.core.readNamespace({name: FOREIGN})
  t.is(foreign.metadata?.labels?.['app.kubernetes.io/managed-by'], undefined)
  t.is(foreign.metadata?.deletionTimestamp, undefined)
  t.is((await k.core.listNamespacedConfigMap({namespace: 'default', fieldSelector: `metadata.name=h19-${ID}`})).items.length, 0)
})

test('as the CI account: nothing is written in a namespace without Pod Security, so a privileged pod is refused by Kubernetes', async (t) => {
  const k = admin()
  const account = asAccount()
  // A managed namespace without a Pod Security level (as one deployed before cluster/ was applied).
  const bare = `h19-rbac-psa-${ID}`
  await k.core.createNamespace({body: {metadata: {name: bare, labels: {'app.kubernetes.io/managed-by': 'shopsys-ci'}}}})
  t.teardown(() => deleteNamespace(k.core, bare))
  const write = await refusal(t, account.core.createNamespacedConfigMap({namespace: bare, body: {metadata: {name: 'x'}}}))
  t.regex(write, guard(`CREATE of configmaps in namespace "${bare}" refused: the namespace does not enforce Pod Security baseline`))
  const relabel = await refusal(t, account.core.patchNamespace({name: bare, body: [{op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'privileged'}]}))
  t.regex(relabel, guard(`UPDATE of namespace "${bare}" refused: it must be labelled pod-security.kubernetes.io/enforce=baseline \\(or stricter\\)`))
  // Stricter than required is fine.
  await t.notThrowsAsync(account.core.patchNamespace({name: bare, body: [{op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted'}]}))
  await t.notThrowsAsync(account.core.createNamespacedConfigMap({namespace: bare, body: {metadata: {name: 'x'}}}))

  // The tool's own deploy, with the level in the app's config (writeWorkspace): a privileged container
  // never becomes a pod; the rollout fails fast with Kubernetes' reason.
  writeWorkspace(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: root-on-the-node
spec:
  replicas: 1
  selector: {matchLabels: {app: root-on-the-node}}
  template:
    metadata: {labels: {app: root-on-the-node}}
    spec:
      containers:
      - name: app
        image: 127.0.0.1:5000/shopsys-ci-test/php-fpm:1
        securityContext: {privileged: true}
`)
  const env = {BRANCH_NAME: 'feature/privileged'}
  const deploy = await cli(['deploy'], env)
  t.is(deploy.exitCode, 6, deploy.stderr)
  t.regex(deploy.stdout + deploy.stderr, /violates PodSecurity "baseline:latest": privileged/)
  const namespace = JSON.parse((await cli(['names', '--json'], env)).stdout).namespace as string
  t.is((await admin().core.readNamespace({name: namespace})).metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline')
  t.is((await cli(['cleanup'], env)).exitCode, 0)
})

/** POST …/pods/<pod>/exec as the CI account, without a WebSocket upgrade: authorization and admission answer first. */
async function postExec(namespace: string, pod: string): Promise<{status: number; body: string}> {
  const {kc} = asAccount()
  const options: https.RequestOptions = {}
  await kc.applyToHTTPSOptions(options)
  const url = new URL(`${kc.getCurrentCluster()!.server}/api/v1/namespaces/${namespace}/pods/${pod}/exec?container=app&command=echo&command=owned&stdout=true`)
  return new Promise((resolve, reject) => {
    const request = https.request(url, {...options, method: 'POST'}, (response) => {
      let body = ''
      response.on('data', (d: Buffer) => (body += d.toString()))
      response.on('end', () => resolve({status: response.statusCode ?? 0, body}))
    })
    request.on('error', reject)
    request.end()
  })
}

test('as the CI account: cleanup of a branch whose namespace is unlabelled is refused by the tool itself', async (t) => {
  writeWorkspace(fixture('tiny.yaml'))
  const names = await cli(['names', '--json'], {BRANCH_NAME: 'feature/not-ours'})
  t.is(names.exitCode, 0, names.stderr)
  const namespace: string = JSON.parse(names.stdout).namespace
  const k = admin()
  await k.core.createNamespace({body: {metadata: {name: namespace}}})
  t.teardown(() => deleteNamespace(k.core, namespace))

  const cleanup = await cli(['cleanup', '--force'], {BRANCH_NAME: 'feature/not-ours'})
  t.is(cleanup.exitCode, 8, cleanup.stderr)
  t.regex(cleanup.stderr, new RegExp(`refusing to delete: namespace "${namespace}" is not managed by shopsys-ci`))
  // The tool's guard answered, not the policy: no delete request was sent.
  t.notRegex(cleanup.stderr, /shopsys-ci-guard|ValidatingAdmissionPolicy/)
  t.is((await k.core.readNamespace({name: namespace})).metadata?.deletionTimestamp, undefined)
})
