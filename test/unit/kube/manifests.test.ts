import test from 'ava'

import {DeployError, ManifestError} from '../../../src/errors.js'
import {applyOrder, parseManifests, planApply} from '../../../src/kube/manifests.js'

const yaml = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
# only a comment
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop-x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop-x}
`

const scope = (apiVersion: string, kind: string) => (kind === 'Namespace' || kind === 'ClusterRole' ? false : kind === 'Widget' ? undefined : true)

test('every document, Lists flattened, empty documents skipped', (t) => {
  const objects = parseManifests(yaml, 'm.yaml')
  t.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Deployment/web', 'ConfigMap/a', 'Service/web', 'Namespace/shop-x'])
})

test('documents without kind, apiVersion or name are reported together', (t) => {
  const error = t.throws(() => parseManifests('kind: X\nmetadata: {name: a}\n---\napiVersion: v1\nkind: X\n---\n- 1\n', 'm.yaml'), {instanceOf: ManifestError})
  t.regex(error.message, /3 problem/)
  t.regex(error.message, /document 1: no apiVersion/)
  t.regex(error.message, /document 2 \(X\): no metadata.name/)
})

test('YAML errors are ManifestErrors', (t) => {
  t.throws(() => parseManifests('a: [1\n', 'm.yaml'), {instanceOf: ManifestError})
})

test('cluster-scoped objects are refused by default', (t) => {
  const error = t.throws(() => planApply(parseManifests(yaml, 'm'), {namespace: 'shop-x', allowClusterScoped: false, scope}), {instanceOf: DeployError})
  t.regex(error.message, /Namespace shop-x \(v1\): cluster-scoped; a branch must not change the cluster/)
})

test('cluster-scoped objects are allowed when configured; namespaced ones get the namespace', (t) => {
  const planned = planApply(parseManifests(yaml, 'm'), {namespace: 'shop-x', allowClusterScoped: true, scope})
  t.deepEqual(planned.map((o) => [o.kind, o.metadata.namespace]), [['Deployment', 'shop-x'], ['ConfigMap', 'shop-x'], ['Service', 'shop-x'], ['Namespace', undefined]])
})

test('objects naming another namespace and unknown kinds are refused', (t) => {
  const objects = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n---\napiVersion: x.io/v1\nkind: Widget\nmetadata: {name: w}\n', 'm')
  const error = t.throws(() => planApply(objects, {namespace: 'shop-x', allowClusterScoped: true, scope}), {instanceOf: DeployError})
  t.regex(error.message, /names namespace "kube-system"/)
  t.regex(error.message, /does not know this kind/)
})

test('apply order: three tiers; definitions and quotas, then config and Services, then workloads and the rest', (t) => {
  const objects = ['Ingress', 'Deployment', 'Service', 'ConfigMap', 'Job', 'Secret', 'Widget', 'ResourceQuota', 'Deployment', 'CustomResourceDefinition', 'PersistentVolumeClaim'].map((kind) => ({kind}))
  t.deepEqual(applyOrder(objects).map((g) => g.map((o) => o.kind)), [
    ['ResourceQuota', 'CustomResourceDefinition'],
    ['Service', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'],
    ['Ingress', 'Deployment', 'Job', 'Widget', 'Deployment'],
  ])
})
