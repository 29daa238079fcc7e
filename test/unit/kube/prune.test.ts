import test from 'ava'

import {ClusterForbiddenError} from '../../../src/errors.js'
import type {Kube} from '../../../src/kube/client.js'
import {appliedByTool, appliedKindsAnnotation, formatAppliedKinds, parseAppliedKinds, pruneCandidates, pruneRemoved, type LiveObject} from '../../../src/kube/prune.js'
import {MemoryLogger} from '../../../src/util/log.js'

const byTool = [{manager: 'shopsys-ci', operation: 'Apply'}]
const obj = (name: string, extra: Partial<NonNullable<LiveObject['metadata']>> = {}): LiveObject => ({metadata: {name, managedFields: byTool, ...extra}})

test('applied-kinds round-trips, sorted and without duplicates; core and grouped apiVersions', (t) => {
  const kinds = [
    {apiVersion: 'apps/v1', kind: 'Deployment'},
    {apiVersion: 'v1', kind: 'ConfigMap'},
    {apiVersion: 'apps/v1', kind: 'Deployment'},
    {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress'},
  ]
  const value = formatAppliedKinds(kinds)
  t.is(value, 'apps/v1/Deployment,networking.k8s.io/v1/Ingress,v1/ConfigMap')
  t.deepEqual(parseAppliedKinds(value), [
    {apiVersion: 'apps/v1', kind: 'Deployment'},
    {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress'},
    {apiVersion: 'v1', kind: 'ConfigMap'},
  ])
})

test('a hand-edited or missing applied-kinds annotation does not break the deploy', (t) => {
  t.deepEqual(parseAppliedKinds(undefined), [])
  t.deepEqual(parseAppliedKinds(''), [])
  t.deepEqual(parseAppliedKinds('garbage,/Kind,v1/,apps/v1/Deployment'), [{apiVersion: 'apps/v1', kind: 'Deployment'}])
})

test('the annotation keeps every kind ever applied: a kind dropped from the manifests is still looked at', (t) => {
  const previous = 'apps/v1/StatefulSet,v1/ConfigMap'
  t.deepEqual(appliedKindsAnnotation(previous, [{apiVersion: 'v1', kind: 'ConfigMap'}, {apiVersion: 'apps/v1', kind: 'Deployment'}]), {
    'shopsys-ci/applied-kinds': 'apps/v1/Deployment,apps/v1/StatefulSet,v1/ConfigMap',
  })
})

test('only objects applied with our field manager count as ours', (t) => {
  t.true(appliedByTool(obj('a')))
  t.false(appliedByTool({metadata: {name: 'a', managedFields: [{manager: 'kube-controller-manager', operation: 'Update'}]}}))
  t.false(appliedByTool({metadata: {name: 'a', managedFields: [{manager: 'shopsys-ci', operation: 'Update'}]}}), 'an Update, not an apply')
  t.false(appliedByTool({metadata: {name: 'a', managedFields: [{manager: 'kubectl', operation: 'Apply'}]}}))
  t.false(appliedByTool({metadata: {name: 'a'}}))
})

test('candidates: ours and no longer applied; never what controllers own, what is going, or the tool\'s own objects', (t) => {
  const live: LiveObject[] = [
    obj('kept'),
    obj('removed'),
    obj('made-by-a-controller', {ownerReferences: [{kind: 'Deployment', name: 'x'}]}),
    obj('already-deleting', {deletionTimestamp: '2026-01-01T00:00:00Z'}),
    {metadata: {name: 'someone-elses', managedFields: [{manager: 'kubectl-client-side-apply', operation: 'Update'}]}},
  ]
  t.deepEqual(
    pruneCandidates('Deployment', live, new Set(['kept'])).map((o) => o.metadata?.name),
    ['removed'],
  )
  const own: LiveObject[] = [obj('shopsys-ci-quota'), obj('shopsys-ci-limits'), obj('shopsys-ci-owner')]
  t.deepEqual(pruneCandidates('ResourceQuota', own, new Set()).map((o) => o.metadata?.name), ['shopsys-ci-limits', 'shopsys-ci-owner'], 'a quota of that name is the tool\'s own')
  t.deepEqual(pruneCandidates('LimitRange', own, new Set()).map((o) => o.metadata?.name), ['shopsys-ci-quota', 'shopsys-ci-owner'])
  t.deepEqual(pruneCandidates('Lease', own, new Set()).map((o) => o.metadata?.name), ['shopsys-ci-quota', 'shopsys-ci-limits'])
})

test('a kind the account may not list is not pruned: a warning with the remedy, and the other kinds are pruned', async (t) => {
  const deleted: string[] = []
  const forbidden = Object.assign(new Error('HTTP-Code: 403'), {code: 403, body: {message: 'secrets is forbidden: User "system:serviceaccount:ci:jenkins" cannot list resource "secrets"'}})
  const kube = {
    isNamespaced: async () => true,
    listJSON: async ({kind}: {kind: string}) => {
      if (kind === 'Secret') throw forbidden
      return {items: [{metadata: {name: 'old', managedFields: byTool}}]}
    },
    objects: {
      delete: async (ref: {kind: string; metadata: {name: string}}) => {
        deleted.push(`${ref.kind}/${ref.metadata.name}`)
      },
    },
  } as unknown as Kube
  const logger = new MemoryLogger()
  const pruned = await pruneRemoved(kube, {namespace: 'shop-x', kinds: [{apiVersion: 'v1', kind: 'Secret'}, {apiVersion: 'v1', kind: 'ConfigMap'}], applied: [], logger})
  t.deepEqual(deleted, ['ConfigMap/old'])
  t.deepEqual(pruned.map((o) => `${o.kind}/${o.name}`), ['ConfigMap/old'])
  const warning = logger.lines.find((l) => l.startsWith('WARNING: prune:'))
  t.truthy(warning)
  t.regex(warning!, /not allowed to list Secret objects in shop-x \(secrets is forbidden: .*\); Secret objects dropped from the manifests stay\. Grant "list" on them to prune them, or set deploy\.prune: false/)
})

test('the client\'s forbidden error (what the retrying client throws for a 403) counts the same', async (t) => {
  const kube = {
    isNamespaced: async () => true,
    listJSON: async () => Promise.reject(new ClusterForbiddenError('https://127.0.0.1:6443 refused list: secrets is forbidden: User "ci" cannot list resource "secrets"')),
  } as unknown as Kube
  const logger = new MemoryLogger()
  t.deepEqual(await pruneRemoved(kube, {namespace: 'shop-x', kinds: [{apiVersion: 'v1', kind: 'Secret'}], applied: [], logger}), [])
  t.regex(logger.lines.join('\n'), /WARNING: prune: not allowed to list Secret objects in shop-x \(https:\/\/127\.0\.0\.1:6443 refused list: secrets is forbidden/)
})

test('any other failure to list a kind still fails the deploy', async (t) => {
  const kube = {
    isNamespaced: async () => true,
    listJSON: async () => Promise.reject(Object.assign(new Error('boom'), {code: 500, body: {message: 'etcdserver: request timed out'}})),
  } as unknown as Kube
  await t.throwsAsync(pruneRemoved(kube, {namespace: 'shop-x', kinds: [{apiVersion: 'v1', kind: 'Secret'}], applied: [], logger: new MemoryLogger()}), {message: /cannot list Secret objects in shop-x to prune removed ones: etcdserver: request timed out/})
})

test('with the apply still running: the kinds are listed at once, and the removed objects deleted only once it succeeded', async (t) => {
  const events: string[] = []
  const kube = {
    isNamespaced: async () => true,
    listJSON: async () => {
      events.push('list')
      return {items: [obj('old'), obj('web')]}
    },
    objects: {delete: async (ref: {metadata: {name: string}}) => void events.push(`delete ${ref.metadata.name}`)},
  } as unknown as Kube
  let finishApply!: () => void
  const applyDone = new Promise<void>((resolve) => {
    finishApply = resolve
  })
  const pruning = pruneRemoved(kube, {namespace: 'shop-x', kinds: [{apiVersion: 'v1', kind: 'ConfigMap'}], applied: [{apiVersion: 'v1', kind: 'ConfigMap', name: 'web'}], logger: new MemoryLogger(), applyDone})
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(events, ['list'], 'listed while the apply runs, nothing deleted yet')
  events.push('apply done')
  finishApply()
  t.deepEqual((await pruning).map((o) => o.name), ['old'])
  t.deepEqual(events, ['list', 'apply done', 'delete old'])
})

test('with an apply that fails, nothing is deleted', async (t) => {
  const deleted: string[] = []
  const kube = {
    isNamespaced: async () => true,
    listJSON: async () => ({items: [obj('old')]}),
    objects: {delete: async (ref: {metadata: {name: string}}) => void deleted.push(ref.metadata.name)},
  } as unknown as Kube
  const applyDone = Promise.reject(new Error('apply failed'))
  await t.throwsAsync(pruneRemoved(kube, {namespace: 'shop-x', kinds: [{apiVersion: 'v1', kind: 'ConfigMap'}], applied: [], logger: new MemoryLogger(), applyDone}), {message: 'apply failed'})
  t.deepEqual(deleted, [])
})
