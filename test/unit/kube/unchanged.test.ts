import test from 'ava'

import type {ManifestObject} from '../../../src/kube/manifests.js'
import {APPLIED_HASH_ANNOTATION, canonicalJson, isLiveAs, isUnchanged, withAppliedHash} from '../../../src/kube/unchanged.js'

const deployment = (image = 'app:1', extra: Record<string, unknown> = {}): ManifestObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name: 'web', namespace: 'shop-x', labels: {app: 'web'}},
    spec: {replicas: 1, selector: {matchLabels: {app: 'web'}}, template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'app', image, ...extra}]}}},
  }) as ManifestObject

/** What the API server keeps of an applied object: defaults, status, managed fields; no apiVersion/kind in a list. */
function live(applied: ManifestObject, change: (o: Record<string, any>) => void = () => {}): unknown {
  const {apiVersion: _a, kind: _k, ...copy} = structuredClone(applied) as Record<string, any>
  copy.metadata.uid = 'u-1'
  copy.metadata.resourceVersion = '42'
  copy.metadata.managedFields = [{manager: 'shopsys-ci', operation: 'Apply'}]
  copy.metadata.labels['added-by-someone'] = 'x'
  copy.spec.strategy = {type: 'RollingUpdate'}
  copy.spec.template.spec.containers[0].imagePullPolicy = 'IfNotPresent'
  copy.spec.template.spec.restartPolicy = 'Always'
  copy.status = {readyReplicas: 1}
  change(copy)
  return copy
}

test('the hash does not depend on key order, and an annotation already there is not hashed into itself', (t) => {
  const a = withAppliedHash(deployment())
  const reordered = {kind: 'Deployment', spec: deployment().spec, metadata: {labels: {app: 'web'}, namespace: 'shop-x', name: 'web'}, apiVersion: 'apps/v1'} as unknown as ManifestObject
  const hash = (o: ManifestObject) => (o.metadata as {annotations: Record<string, string>}).annotations[APPLIED_HASH_ANNOTATION]
  t.regex(hash(a), /^[0-9a-f]{32}$/)
  t.is(hash(withAppliedHash(reordered)), hash(a))
  t.is(hash(withAppliedHash(a)), hash(a))
  t.not(hash(withAppliedHash(deployment('app:2'))), hash(a))
  t.is(canonicalJson({b: 1, a: [{d: 2, c: null}], u: undefined}), '{"a":[{"c":null,"d":2}],"b":1}')
})

test('live as applied, with what the server and others added: unchanged', (t) => {
  const applied = withAppliedHash(deployment())
  t.true(isUnchanged(applied, live(applied)))
})

test('a field changed by hand since (kubectl scale, edit): changed, so that the apply sets it back', (t) => {
  const applied = withAppliedHash(deployment())
  t.false(isUnchanged(applied, live(applied, (o) => (o.spec.replicas = 0))))
  t.false(isUnchanged(applied, live(applied, (o) => (o.spec.template.spec.containers[0].image = 'debug:1'))))
  t.false(isUnchanged(applied, live(applied, (o) => delete o.metadata.labels.app)))
})

test('another manifest than the one applied last (a field dropped, which the apply would remove): changed', (t) => {
  const before = withAppliedHash(deployment('app:1', {command: ['run']}))
  const now = withAppliedHash(deployment('app:1'))
  // Every field of the new manifest is live; only the hash tells that `command` is to go.
  const {apiVersion: _a, kind: _k, ...fields} = now
  t.true(isLiveAs({...fields, metadata: {...fields.metadata, annotations: {}}}, live(before)))
  t.false(isUnchanged(now, live(before)))
})

test('no live object, one without the hash (applied by an older version), a list with an item more: changed', (t) => {
  const applied = withAppliedHash(deployment())
  t.false(isUnchanged(applied, undefined))
  t.false(isUnchanged(applied, live(applied, (o) => delete o.metadata.annotations)))
  t.false(isUnchanged(applied, live(applied, (o) => o.spec.template.spec.containers.push({name: 'sidecar', image: 'x'}))))
})

test('a value the server normalised (1000m for 1) counts as changed: applied again, never wrongly skipped', (t) => {
  const applied = withAppliedHash(deployment('app:1', {resources: {limits: {cpu: '1000m'}}}))
  t.false(isUnchanged(applied, live(applied, (o) => (o.spec.template.spec.containers[0].resources.limits.cpu = '1'))))
  t.false(isLiveAs({port: 80}, {port: '80'}))
  t.true(isLiveAs({a: null}, {a: null}))
  t.false(isLiveAs({a: null}, {}))
  t.false(isLiveAs({a: {}}, {a: []}))
})
