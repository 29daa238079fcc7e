import test from 'ava'

import {microTime} from '../../../src/kube/client.js'
import {gcDecision, type GcInputs, parseLsRemoteHeads} from '../../../src/kube/gc.js'

const HOUR = 3_600_000
const now = Date.parse('2026-01-10T12:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()

function env(name: string, opts: {branch?: string; keep?: boolean; createdAgo?: number; expiresIn?: number; labels?: Record<string, string> | null; terminating?: boolean} = {}) {
  const labels = opts.labels === null ? undefined : (opts.labels ?? {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': 'shop', 'shopsys-ci/branch-slug': name})
  return {
    metadata: {
      name,
      labels,
      annotations: {
        'shopsys-ci/branch': opts.branch ?? name,
        'shopsys-ci/created-at': iso(now - (opts.createdAgo ?? 2 * HOUR)),
        'shopsys-ci/expires-at': iso(now + (opts.expiresIn ?? 20 * HOUR)),
        'shopsys-ci/keep': String(opts.keep ?? false),
        'shopsys-ci/owner': 'jenkins-shop-7',
      },
      ...(opts.terminating ? {deletionTimestamp: iso(now - 1000)} : {}),
    },
  }
}
const ownerLease = (renewedAgo: number, duration = 300) => ({spec: {holderIdentity: 'jenkins-shop-7', leaseDurationSeconds: duration, renewTime: microTime(new Date(now - renewedAgo))}})
const inputs = (extra: Partial<GcInputs> = {}): GcInputs => ({project: 'shop', now, grace: HOUR, ownerLease: ownerLease(60_000), ...extra})

test('expired environments go', (t) => {
  t.like(gcDecision(env('a', {expiresIn: -60_000, keep: true}), inputs()), {action: 'delete', rule: 'expired'})
})

test('not yet expired, kept, branch exists: kept', (t) => {
  const d = gcDecision(env('a', {keep: true}), inputs({remoteBranches: new Set(['a']), ownerLease: undefined}))
  t.like(d, {action: 'keep'})
  t.regex(d.reason, /kept for review/)
})

test('deleted branches go', (t) => {
  t.like(gcDecision(env('feature/x'), inputs({remoteBranches: new Set(['main', 'feature/y'])})), {action: 'delete', rule: 'branch-deleted', branch: 'feature/x'})
})

test('the branch rule compares the raw branch name, not the slug', (t) => {
  t.like(gcDecision(env('shop-feature-x-1a2b', {branch: 'feature/X'}), inputs({remoteBranches: new Set(['feature/X'])})), {action: 'keep'})
})

test('without remote branches the branch rule does not apply', (t) => {
  t.like(gcDecision(env('a'), inputs()), {action: 'keep'})
})

test('owner gone: no renewal for duration + grace, older than grace', (t) => {
  t.like(gcDecision(env('a', {createdAgo: 3 * HOUR}), inputs({ownerLease: ownerLease(2 * HOUR)})), {action: 'delete', rule: 'owner-gone'})
  t.like(gcDecision(env('a', {createdAgo: 3 * HOUR}), inputs({ownerLease: undefined})), {action: 'delete', rule: 'owner-gone'})
})

test('owner alive or within the grace period: kept', (t) => {
  t.like(gcDecision(env('a', {createdAgo: 3 * HOUR}), inputs({ownerLease: ownerLease(HOUR)})), {action: 'keep'}, 'lapsed 55 min ago < grace 1 h')
  t.like(gcDecision(env('a', {createdAgo: 10 * 60_000}), inputs({ownerLease: undefined})), {action: 'keep'}, 'young')
})

test('a kept environment outlives its build until it expires', (t) => {
  t.like(gcDecision(env('a', {keep: true, createdAgo: 10 * HOUR}), inputs({ownerLease: ownerLease(9 * HOUR)})), {action: 'keep'})
})

test('terminating namespaces are skipped', (t) => {
  t.like(gcDecision(env('a', {terminating: true, expiresIn: -1}), inputs()), {action: 'skip', reason: 'already being deleted'})
})

test('never unlabelled, foreign, default or kube-* namespaces, even when "expired" with a deleted branch', (t) => {
  const cases = [
    env('shop-x', {labels: null, expiresIn: -HOUR}),
    env('other-x', {labels: {'app.kubernetes.io/managed-by': 'shopsys-ci', 'shopsys-ci/project': 'other'}, expiresIn: -HOUR}),
    env('default', {expiresIn: -HOUR}),
    env('kube-system', {expiresIn: -HOUR}),
    env('shopsys-ci-system', {expiresIn: -HOUR}),
  ]
  for (const ns of cases) t.is(gcDecision(ns, inputs({remoteBranches: new Set(['main'])})).action, 'skip', ns.metadata.name)
})

test('ls-remote output', (t) => {
  const heads = parseLsRemoteHeads('0123abcd\trefs/heads/main\nfedc9876\trefs/heads/feature/x\n\nabcd\trefs/tags/v1\n')
  t.deepEqual([...heads], ['main', 'feature/x'])
})
