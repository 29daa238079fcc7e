import test from 'ava'

import {ClusterForbiddenError, ClusterUnreachableError} from '../../../src/errors.js'
import {type AccessCheck, accessError, buildAccessChecks, canICommand, describeAccess, reviewAccess} from '../../../src/kube/access.js'

const input = {namespace: 'shop-feature-x', systemNamespace: 'shopsys-ci-system', phases: true, cleanup: true}

test('a build asks for its lock, namespace, owner lease, pods, logs, exec and (with --cleanup) the namespace delete', (t) => {
  t.deepEqual(buildAccessChecks(input).map(describeAccess), [
    'create leases.coordination.k8s.io in namespace shopsys-ci-system',
    'create namespaces (cluster-wide)',
    'patch namespaces shop-feature-x (cluster-wide)',
    'patch leases.coordination.k8s.io shopsys-ci-owner in namespace shop-feature-x',
    'list pods in namespace shop-feature-x',
    'get pods/log in namespace shop-feature-x',
    'create pods/exec in namespace shop-feature-x',
    'delete namespaces shop-feature-x (cluster-wide)',
  ])
})

test('no phases: exec is not asked for; no cleanup (or kept): delete is not', (t) => {
  const described = buildAccessChecks({...input, phases: false, cleanup: false}).map(describeAccess)
  t.false(described.some((d) => d.includes('exec')))
  t.false(described.some((d) => d.startsWith('delete')))
  t.is(described.length, 6)
})

test('a deploy that makes Secrets (deploy.imagePullSecret, deploy.secrets) asks to create and patch them in its namespace', (t) => {
  const described = buildAccessChecks({...input, secrets: true}).map(describeAccess)
  t.deepEqual(described.slice(4, 6), ['create secrets in namespace shop-feature-x', 'patch secrets in namespace shop-feature-x'])
  t.is(described.length, 10)
  t.false(buildAccessChecks(input).some((c) => c.resource === 'secrets'))
})

test("deploy.imagePullSecret also asks to patch the namespace's default ServiceAccount, which names the pull secret", (t) => {
  const described = buildAccessChecks({...input, secrets: true, pullSecret: true}).map(describeAccess)
  t.is(described[6], 'patch serviceaccounts default in namespace shop-feature-x')
  t.is(described.length, 11)
  t.false(buildAccessChecks({...input, secrets: true}).some((c) => c.resource === 'serviceaccounts'))
  t.is(canICommand(buildAccessChecks({...input, pullSecret: true})[4]), 'kubectl auth can-i patch serviceaccounts/default -n shop-feature-x')
})

test('the kubectl auth can-i command asks the same question', (t) => {
  const [lease, , patch, , , log, exec] = buildAccessChecks(input)
  t.is(canICommand(lease), 'kubectl auth can-i create leases.coordination.k8s.io -n shopsys-ci-system')
  t.is(canICommand(patch, 'ci'), 'kubectl --context ci auth can-i patch namespaces/shop-feature-x')
  t.is(canICommand(log), 'kubectl auth can-i get pods --subresource=log -n shop-feature-x')
  t.is(canICommand(exec), 'kubectl auth can-i create pods --subresource=exec -n shop-feature-x')
})

/** A fake authorization client that answers from `allowed` (by described check) or fails with `error`. */
function authorization(allowed: (attributes: Record<string, unknown>) => boolean | Error) {
  const asked: Array<Record<string, unknown>> = []
  return {
    asked,
    kube: {
      authorization: {
        async createSelfSubjectAccessReview({body}: {body: {spec: {resourceAttributes: Record<string, unknown>}}}) {
          const attributes = body.spec.resourceAttributes
          asked.push(attributes)
          const answer = allowed(attributes)
          if (answer instanceof Error) throw answer
          return {status: {allowed: answer, ...(answer ? {} : {reason: 'no RBAC policy matched'})}}
        },
      },
    } as never,
  }
}

test('reviewAccess asks every check and returns the denied ones with the server\'s reason', async (t) => {
  const fake = authorization((a) => !(a.resource === 'pods' && a.subresource === 'exec') && a.verb !== 'delete')
  const checks = buildAccessChecks(input)
  const outcome = await reviewAccess(fake.kube, checks)
  t.is(fake.asked.length, checks.length)
  t.deepEqual(fake.asked[3], {verb: 'patch', group: 'coordination.k8s.io', resource: 'leases', subresource: undefined, namespace: 'shop-feature-x', name: 'shopsys-ci-owner'})
  t.deepEqual(outcome.denied.map(describeAccess), ['create pods/exec in namespace shop-feature-x', 'delete namespaces shop-feature-x (cluster-wide)'])
  t.is(outcome.denied[0].reason, 'no RBAC policy matched')
  t.is(outcome.unchecked, undefined)
})

test('an account that may not even ask is unchecked, not refused: the build goes on', async (t) => {
  const fake = authorization(() => new ClusterForbiddenError('https://k refused createSelfSubjectAccessReview: forbidden'))
  const outcome = await reviewAccess(fake.kube, buildAccessChecks(input))
  t.deepEqual(outcome.denied, [])
  t.regex(outcome.unchecked!, /refused createSelfSubjectAccessReview/)
})

test('an unreachable cluster is the retry layer\'s error, thrown as it is', async (t) => {
  const fake = authorization(() => new ClusterUnreachableError('no answer from https://k'))
  await t.throwsAsync(reviewAccess(fake.kube, buildAccessChecks(input)), {instanceOf: ClusterUnreachableError})
})

test('the error lists every missing right with its purpose, exit 3, and a can-i to check it', (t) => {
  const denied: AccessCheck[] = buildAccessChecks(input).filter((c) => c.verb === 'create')
  const error = accessError(denied, {server: 'https://k:6443', context: 'ci'})
  t.is(error.exitCode, 3)
  t.is(error.code, 'CLUSTER_FORBIDDEN')
  t.is(
    error.message,
    "the kubeconfig's account may not do 3 things the build needs on https://k:6443 (context ci); nothing was built or deployed:\n" +
      '  - create leases.coordination.k8s.io in namespace shopsys-ci-system: for the branch lock and the capacity slots\n' +
      "  - create namespaces (cluster-wide): for the branch's namespace\n" +
      '  - create pods/exec in namespace shop-feature-x: for running the phases',
  )
  t.is(error.suggestions![1], 'ask the cluster yourself: kubectl --context ci auth can-i create leases.coordination.k8s.io -n shopsys-ci-system')
})
