import test from 'ava'

import {namespaceMetadata, projectSelector, readEnvironment} from '../../../src/kube/metadata.js'
import type {EnvironmentIdentity} from '../../../src/kube/types.js'

const identity: EnvironmentIdentity = {
  project: 'shop',
  branch: 'feature/JIRA-1_Über',
  slug: 'feature-jira-1-uber-1a2b3c4d',
  namespace: 'shop-feature-jira-1-uber-1a2b3c4d',
  commit: '0123456789abcdef',
  buildUrl: 'https://jenkins/job/shop/42/',
  owner: 'jenkins-shop-feature-42',
  ownerSource: 'build',
  urls: {first: 'http://feature.ci.example.com:8000'},
}
const now = new Date('2026-01-02T03:04:05.000Z')

test('labels of DESIGN §5', (t) => {
  const {labels} = namespaceMetadata(identity, {keep: false, ttl: 3_600_000, now})
  t.deepEqual(labels, {
    'app.kubernetes.io/managed-by': 'shopsys-ci',
    'shopsys-ci/project': 'shop',
    'shopsys-ci/branch-slug': 'feature-jira-1-uber-1a2b3c4d',
  })
})

test('annotations: raw branch, commit, build URL, created-at, expires-at, owner, urls', (t) => {
  const {annotations} = namespaceMetadata(identity, {keep: true, ttl: 24 * 3_600_000, now})
  t.is(annotations['shopsys-ci/branch'], 'feature/JIRA-1_Über')
  t.is(annotations['shopsys-ci/commit'], '0123456789abcdef')
  t.is(annotations['shopsys-ci/build-url'], 'https://jenkins/job/shop/42/')
  t.is(annotations['shopsys-ci/created-at'], '2026-01-02T03:04:05.000Z')
  t.is(annotations['shopsys-ci/deployed-at'], '2026-01-02T03:04:05.000Z')
  t.is(annotations['shopsys-ci/expires-at'], '2026-01-03T03:04:05.000Z')
  t.is(annotations['shopsys-ci/owner'], 'jenkins-shop-feature-42')
  t.is(annotations['shopsys-ci/keep'], 'true')
  t.deepEqual(JSON.parse(annotations['shopsys-ci/urls']), identity.urls)
})

test('a redeploy keeps created-at and refreshes expires-at', (t) => {
  const {annotations} = namespaceMetadata(identity, {keep: false, ttl: 60_000, now, createdAt: '2025-12-31T00:00:00.000Z'})
  t.is(annotations['shopsys-ci/created-at'], '2025-12-31T00:00:00.000Z')
  t.is(annotations['shopsys-ci/expires-at'], '2026-01-02T03:05:05.000Z')
})

test('no build URL, no annotation', (t) => {
  const {annotations} = namespaceMetadata({...identity, buildUrl: undefined}, {keep: false, ttl: 1, now})
  t.false('shopsys-ci/build-url' in annotations)
})

test('readEnvironment reads back what namespaceMetadata wrote', (t) => {
  const meta = namespaceMetadata(identity, {keep: true, ttl: 60_000, now})
  const env = readEnvironment({metadata: {name: identity.namespace, ...meta, creationTimestamp: now}})
  t.like(env, {
    namespace: identity.namespace,
    project: 'shop',
    slug: identity.slug,
    branch: identity.branch,
    commit: identity.commit,
    owner: identity.owner,
    keep: true,
    managed: true,
    terminating: false,
    creationTimestamp: '2026-01-02T03:04:05.000Z',
  })
  t.deepEqual(env.urls, identity.urls)
})

test('readEnvironment survives a hand-edited urls annotation and sees Terminating', (t) => {
  const env = readEnvironment({metadata: {name: 'x', annotations: {'shopsys-ci/urls': '{nope'}}, status: {phase: 'Terminating'}})
  t.deepEqual(env.urls, {})
  t.true(env.terminating)
  t.false(env.managed)
})

test('project selector', (t) => {
  t.is(projectSelector('shop'), 'app.kubernetes.io/managed-by=shopsys-ci,shopsys-ci/project=shop')
})
