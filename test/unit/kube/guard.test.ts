import test from 'ava'

import {deletionVerdict, deployVerdict, isProtectedNamespace} from '../../../src/kube/guard.js'

const ns = (name: string, labels?: Record<string, string>) => ({metadata: {name, labels}})
const ours = (name: string, project = 'shop', slug = 'feature-x') =>
  ns(name, {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': project, 'shopsys-ci/branch-slug': slug})

for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'kube-anything', 'shopsys-ci-system', '']) {
  test(`"${name}" is protected`, (t) => {
    t.true(isProtectedNamespace(name))
  })
  test(`"${name}" is never deletable, even with our labels`, (t) => {
    t.false(deletionVerdict(ours(name), 'shop').ok)
    t.false(deployVerdict(ours(name), 'shop', 'feature-x').ok)
  })
}

test('a custom system namespace is protected too', (t) => {
  t.true(isProtectedNamespace('ci-locks', 'ci-locks'))
  t.false(deletionVerdict(ours('ci-locks'), 'shop', 'ci-locks').ok)
})

test('ordinary names are not protected by name', (t) => {
  t.false(isProtectedNamespace('shop-feature-x'))
  t.false(isProtectedNamespace('kubefoo'))
  t.false(isProtectedNamespace('my-kube-thing'))
})

test('an unlabelled namespace is never deletable', (t) => {
  const v = deletionVerdict(ns('shop-feature-x'), 'shop')
  t.false(v.ok)
  t.regex((v as {reason: string}).reason, /not managed by shopsys-ci/)
})

test('managed-by another tool is not ours', (t) => {
  t.false(deletionVerdict(ns('shop-x', {'app.kubernetes.io/managed-by': 'helm', 'shopsys-ci/project': 'shop'}), 'shop').ok)
})

test('managed by shopsys-ci but another project', (t) => {
  const v = deletionVerdict(ours('other-feature-x', 'other'), 'shop')
  t.false(v.ok)
  t.regex((v as {reason: string}).reason, /belongs to project "other"/)
})

test('managed by shopsys-ci without a project label', (t) => {
  t.false(deletionVerdict(ns('shop-x', {'app.kubernetes.io/managed-by': 'shopsys-ci'}), 'shop').ok)
})

test('an empty project never matches', (t) => {
  t.false(deletionVerdict(ns('x', {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': ''}), '').ok)
})

test('our own namespace is deletable and deployable by its branch', (t) => {
  t.true(deletionVerdict(ours('shop-feature-x'), 'shop').ok)
  t.true(deployVerdict(ours('shop-feature-x'), 'shop', 'feature-x').ok)
})

test('another branch of the same project may not deploy into it', (t) => {
  const v = deployVerdict(ours('shop-feature-x'), 'shop', 'feature-y')
  t.false(v.ok)
  t.regex((v as {reason: string}).reason, /branch slug "feature-x"/)
})
