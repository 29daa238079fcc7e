/**
 * The build's cluster preflight: before any image is built, ask the API server (SelfSubjectAccessReview,
 * what `kubectl auth can-i` sends) whether the kubeconfig's account has the rights the build will
 * use. An unreachable cluster, expired credentials or a missing right then fail the check stage in
 * seconds (exit 3), not the deploy after minutes of image builds.
 *
 * This asks RBAC (and any other authorizer), not admission: cluster/'s policy can still refuse a
 * write the role allows, and the deploy says so when it does.
 */
import {ClusterForbiddenError} from '../errors.js'
import {getKube, type Kube} from './client.js'
import {OWNER_LEASE_NAME, systemNamespace} from './constants.js'

export interface AccessCheck {
  verb: string
  /** Plural resource name, e.g. `namespaces`. */
  resource: string
  /** API group; `''` for the core group. */
  group: string
  subresource?: string
  /** Absent: cluster-scoped. */
  namespace?: string
  name?: string
  /** What the build does with it, for the message. */
  why: string
}

export interface BuildAccessInput {
  /** The branch's namespace. */
  namespace: string
  /** Where branch locks and capacity slots live. */
  systemNamespace: string
  /** Will the build exec into a pod (a phase)? */
  phases: boolean
  /** Will the build delete its namespace at the end (`--cleanup`, not kept)? */
  cleanup: boolean
  /** Will the deploy apply Secrets of its own (deploy.imagePullSecret, deploy.secrets)? */
  secrets?: boolean
  /** Will the deploy name the pull secret in the namespace's `default` ServiceAccount (deploy.imagePullSecret)? */
  pullSecret?: boolean
}

/** Pure: the rights a build needs, each asked once, in the order the build uses them. */
export function buildAccessChecks({namespace, systemNamespace, phases, cleanup, secrets, pullSecret}: BuildAccessInput): AccessCheck[] {
  const checks: AccessCheck[] = [
    {verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: systemNamespace, why: 'the branch lock and the capacity slots'},
    {verb: 'create', group: '', resource: 'namespaces', why: "the branch's namespace"},
    {verb: 'patch', group: '', resource: 'namespaces', name: namespace, why: "the namespace's labels and annotations"},
    {verb: 'patch', group: 'coordination.k8s.io', resource: 'leases', namespace, name: OWNER_LEASE_NAME, why: "the build's owner lease"},
  ]
  if (secrets) {
    // Server-side apply is a patch, and a create too for a Secret that is not there yet.
    const why = 'the Secrets of deploy.imagePullSecret and deploy.secrets'
    checks.push({verb: 'create', group: '', resource: 'secrets', namespace, why}, {verb: 'patch', group: '', resource: 'secrets', namespace, why})
  }
  if (pullSecret) {
    // The controller-manager creates `default`; the deploy's apply of it is a patch.
    checks.push({verb: 'patch', group: '', resource: 'serviceaccounts', namespace, name: 'default', why: "naming the pull secret in the namespace's default ServiceAccount"})
  }
  checks.push(
    {verb: 'list', group: '', resource: 'pods', namespace, why: 'waiting for the workloads'},
    {verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace, why: 'exporting the logs'},
  )
  if (phases) checks.push({verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace, why: 'running the phases'})
  if (cleanup) checks.push({verb: 'delete', group: '', resource: 'namespaces', name: namespace, why: 'deleting the namespace at the end (--cleanup)'})
  return checks
}

/** `leases.coordination.k8s.io`, or `pods` for the core group: how kubectl names a resource. */
const qualified = (check: AccessCheck) => `${check.resource}${check.group ? `.${check.group}` : ''}`

/** Pure: `create pods/exec in namespace x`, as `kubectl auth can-i` would be asked. */
export function describeAccess(check: AccessCheck): string {
  return `${check.verb} ${qualified(check)}${check.subresource ? `/${check.subresource}` : ''}${check.name ? ` ${check.name}` : ''}${check.namespace ? ` in namespace ${check.namespace}` : ' (cluster-wide)'}`
}

/** Pure: the `kubectl auth can-i` command that asks the same question. */
export function canICommand(check: AccessCheck, context?: string): string {
  // can-i reads RESOURCE/NAME, so a subresource goes in its own flag.
  return `kubectl${context ? ` --context ${context}` : ''} auth can-i ${check.verb} ${qualified(check)}${check.name ? `/${check.name}` : ''}${check.subresource ? ` --subresource=${check.subresource}` : ''}${check.namespace ? ` -n ${check.namespace}` : ''}`
}

export interface AccessOutcome {
  /** The rights the account lacks. */
  denied: Array<AccessCheck & {reason?: string}>
  /** Set when the account may not even ask (no SelfSubjectAccessReview): nothing was checked. */
  unchecked?: string
}

/** Asks every check at once. Connection, certificate and 401 failures throw (the retry layer's exit-3 errors). */
export async function reviewAccess(kube: Pick<Kube, 'authorization'>, checks: AccessCheck[]): Promise<AccessOutcome> {
  const answers = await Promise.allSettled(
    checks.map((check) =>
      kube.authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {resourceAttributes: {verb: check.verb, group: check.group, resource: check.resource, subresource: check.subresource, namespace: check.namespace, name: check.name}},
        },
      }),
    ),
  )
  const failed = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected')
  if (failed) {
    // An account that may not ask has lost the default system:basic-user binding: the build goes on,
    // and a missing right shows when it is used.
    if (failed.reason instanceof ClusterForbiddenError) return {denied: [], unchecked: failed.reason.message}
    throw failed.reason
  }
  const denied: AccessOutcome['denied'] = []
  answers.forEach((answer, i) => {
    const status = (answer as PromiseFulfilledResult<{status?: {allowed?: boolean; reason?: string}}>).value.status
    if (!status?.allowed) denied.push({...checks[i], ...(status?.reason ? {reason: status.reason} : {})})
  })
  return {denied}
}

/** Pure: the error for rights the account lacks, each with its `kubectl auth can-i`. */
export function accessError(denied: AccessOutcome['denied'], cluster: {server?: string; context?: string}): ClusterForbiddenError {
  const lines = denied.map((d) => `  - ${describeAccess(d)}: for ${d.why}${d.reason ? ` (${d.reason})` : ''}`)
  return new ClusterForbiddenError(
    `the kubeconfig's account may not do ${denied.length === 1 ? 'one thing' : `${denied.length} things`} the build needs on ${cluster.server ?? 'the cluster'}${cluster.context ? ` (context ${cluster.context})` : ''}; nothing was built or deployed:\n${lines.join('\n')}`,
    {
      suggestions: [
        'give the account the rights of cluster/ (kubectl apply -k cluster/, docs/cluster.md), or bind it to a role that has them',
        `ask the cluster yourself: ${canICommand(denied[0], cluster.context)}`,
      ],
    },
  )
}

export interface BuildAccessContext extends Omit<BuildAccessInput, 'systemNamespace'> {
  logger: {info(message: string): void; warn(message: string): void}
  env?: Readonly<Record<string, string | undefined>>
}

/**
 * The check stage's cluster part: loads the kubeconfig, asks for every right at once, and throws
 * before anything is built when one is missing. One line names the cluster the build will use.
 */
export async function preflightClusterAccess(ctx: BuildAccessContext): Promise<void> {
  const kube = await getKube()
  const cluster = {server: kube.kc.getCurrentCluster()?.server, context: kube.kc.getCurrentContext() || undefined}
  const checks = buildAccessChecks({...ctx, systemNamespace: systemNamespace(ctx.env)})
  const outcome = await reviewAccess(kube, checks)
  if (outcome.unchecked) {
    ctx.logger.warn(`cluster ${cluster.server}: could not check the account's rights (${outcome.unchecked}); a missing right shows when the build uses it`)
    return
  }
  if (outcome.denied.length > 0) throw accessError(outcome.denied, cluster)
  ctx.logger.info(`cluster ${cluster.server}${cluster.context ? ` (context ${cluster.context})` : ''}: the account has the ${checks.length} rights the build needs`)
}
