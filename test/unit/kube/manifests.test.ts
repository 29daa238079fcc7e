import test from 'ava'

import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {DeployError, ManifestError} from '../../../src/errors.js'
import {applyOrder, planApply, readManifests} from '../../../src/kube/manifests.js'
import {parseManifests} from '../../../src/manifests/parse.js'
import {tempDir} from '../../helpers/tmp.js'

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

test('deploy reads the file with the shared parser: every problem located, and what to do', (t) => {
  const file = path.join(tempDir('shopsys-ci-manifests-'), 'manifests.yaml')
  writeFileSync(file, 'kind: X\nmetadata: {name: a}\n---\napiVersion: v1\nkind: X\n---\n- 1\n')
  const error = t.throws(() => readManifests(file), {instanceOf: ManifestError})
  t.true(error.message.startsWith(`3 problems in ${file}:\n`), error.message)
  t.regex(error.message, /document 1 \(line 1, X\/a\): missing apiVersion/)
  t.regex(error.message, /document 2 \(line 4, X\): missing metadata.name/)
  t.regex(error.message, /document 3 \(line 7\): not a mapping/)
  t.regex(error.suggestions.join('\n'), /shopsys-ci render/)
  writeFileSync(file, '# nothing\n')
  t.throws(() => readManifests(file), {instanceOf: ManifestError, message: /no objects/}, 'an empty file is refused, not deployed (and pruned) as nothing')
})

test('an unreadable manifests file says how to make one', (t) => {
  const error = t.throws(() => readManifests('/nonexistent/manifests.yaml'), {instanceOf: ManifestError})
  t.regex(error.message, /cannot read the manifests \/nonexistent\/manifests\.yaml/)
  t.regex(error.suggestions.join('\n'), /shopsys-ci render/)
})

test('cluster-scoped objects are refused by default', (t) => {
  const error = t.throws(() => planApply(parseManifests(yaml, 'm'), {namespace: 'shop-x', allowClusterScoped: false, scope}), {instanceOf: DeployError})
  t.regex(error.message, /Namespace shop-x \(v1\): cluster-scoped; a branch must not change the cluster/)
  t.regex(error.suggestions.join('\n'), /deploy\.allowClusterScoped: true/)
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
  // One suggestion per kind of problem, each about its own.
  t.deepEqual(error.suggestions, ['fix the kustomize overlay so every object lives in the branch namespace', 'kubectl api-resources | grep -i Widget   # the kinds this cluster has; a CRD is installed by the cluster\'s admin, not by a branch'])
})

test('apply order: three tiers; definitions and quotas, then config and Services, then workloads and the rest', (t) => {
  const objects = ['Ingress', 'Deployment', 'Service', 'ConfigMap', 'Job', 'Secret', 'Widget', 'ResourceQuota', 'Deployment', 'CustomResourceDefinition', 'PersistentVolumeClaim'].map((kind) => ({kind}))
  t.deepEqual(applyOrder(objects).map((g) => g.map((o) => o.kind)), [
    ['ResourceQuota', 'CustomResourceDefinition'],
    ['Service', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'],
    ['Ingress', 'Deployment', 'Job', 'Widget', 'Deployment'],
  ])
})
