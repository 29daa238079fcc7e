import test from 'ava'

import {slotVerdict} from '../../../src/kube/capacity.js'
import {microTime} from '../../../src/kube/client.js'
import type {Kube} from '../../../src/kube/client.js'
import {leaseHeld, leaseInfo, processHolderIdentity, releaseLease, tryCreateLease} from '../../../src/kube/lease.js'

const now = Date.parse('2026-01-01T12:00:00Z')
const lease = (holder: string | undefined, renewAgoSeconds: number, duration?: number) => ({
  metadata: {name: 'l', resourceVersion: '1'},
  spec: {holderIdentity: holder, leaseDurationSeconds: duration, renewTime: microTime(new Date(now - renewAgoSeconds * 1000))},
})

test('MicroTime has six fraction digits (the API refuses milliseconds)', (t) => {
  t.is(microTime(new Date('2026-01-01T12:00:00.123Z')), '2026-01-01T12:00:00.123000Z')
})

test('a lease is held while renewed within its duration', (t) => {
  t.true(leaseHeld(lease('a', 10, 30), now))
  t.false(leaseHeld(lease('a', 31, 30), now))
  t.false(leaseHeld(lease(undefined, 0, 30), now))
  t.false(leaseHeld(lease('', 0, 30), now))
  t.false(leaseHeld(undefined, now))
  t.true(leaseHeld(lease('a', 99999), now), 'no duration: held until released')
})

test('leaseInfo reads Date objects and strings', (t) => {
  t.is(leaseInfo({spec: {holderIdentity: 'x', renewTime: new Date(now)}}).renewTime, now)
  t.is(leaseInfo({spec: {holderIdentity: 'x', acquireTime: '2026-01-01T12:00:00.000000Z'}}).renewTime, now)
})

test('holder identities are unique per process instance', (t) => {
  const a = processHolderIdentity('jenkins-shop-42')
  const b = processHolderIdentity('jenkins-shop-42')
  t.regex(a, /^jenkins-shop-42 \(pid \d+ on .+, [0-9a-f]{6}\)$/)
  t.not(a, b)
})

const active = {metadata: {name: 'shop-b'}, status: {phase: 'Active'}}
const terminating = {metadata: {name: 'shop-b', deletionTimestamp: '2026-01-01T11:59:00Z'}, status: {phase: 'Terminating'}}

test('capacity slot: free, mine, held', (t) => {
  t.is(slotVerdict(undefined, 'shop-a', undefined, undefined, now), 'free')
  t.is(slotVerdict(lease(undefined, 0), 'shop-a', undefined, undefined, now), 'free')
  t.is(slotVerdict(lease('shop-a', 0), 'shop-a', undefined, undefined, now), 'mine')
  t.is(slotVerdict(lease('shop-b', 0), 'shop-a', active, undefined, now), 'held')
})

test('capacity slot of a namespace that is gone or terminating is free, unless its deploy is running', (t) => {
  t.is(slotVerdict(lease('shop-b', 0), 'shop-a', undefined, undefined, now), 'free')
  t.is(slotVerdict(lease('shop-b', 0), 'shop-a', terminating, undefined, now), 'free')
  t.is(slotVerdict(lease('shop-b', 0), 'shop-a', undefined, lease('jenkins-b (pid 1)', 5, 30), now), 'held', 'b is being deployed: its namespace is about to exist')
  t.is(slotVerdict(lease('shop-b', 0), 'shop-a', undefined, lease('jenkins-b (pid 1)', 60, 30), now), 'free', 'the deploy of b died')
})

/** A fake coordination client over one lease, recording the requests. */
function leaseApi(initial?: {holder: string; resourceVersion: string}) {
  let stored = initial ? {metadata: {name: 'lock', resourceVersion: initial.resourceVersion}, spec: {holderIdentity: initial.holder}} : undefined
  const requests: string[] = []
  const conflict = () => Object.assign(new Error('conflict'), {code: 409})
  const kube = {
    coordination: {
      async createNamespacedLease({body}: {body: {spec: {holderIdentity: string}}}) {
        requests.push('create')
        if (stored) throw conflict()
        stored = {metadata: {name: 'lock', resourceVersion: '10'}, spec: body.spec}
        return stored
      },
      async readNamespacedLease() {
        requests.push('read')
        if (!stored) throw Object.assign(new Error('not found'), {code: 404})
        return stored
      },
      async deleteNamespacedLease({body}: {body: {preconditions: {resourceVersion: string}}}) {
        requests.push(`delete rv=${body.preconditions.resourceVersion}`)
        if (!stored) throw Object.assign(new Error('not found'), {code: 404})
        if (stored.metadata.resourceVersion !== body.preconditions.resourceVersion) throw conflict()
        stored = undefined
      },
    },
  } as unknown as Kube
  return {kube, requests, current: () => stored}
}

const ref = {namespace: 'shopsys-ci-system', name: 'lock'}

test('tryCreateLease: a lease that is not there is created in one request; one that is, is left alone', async (t) => {
  const absent = leaseApi()
  t.like(await tryCreateLease(absent.kube, ref, 'me', 60), {spec: {holderIdentity: 'me'}})
  t.deepEqual(absent.requests, ['create'])
  const held = leaseApi({holder: 'other', resourceVersion: '5'})
  t.is(await tryCreateLease(held.kube, ref, 'me', 60), undefined)
  t.like(held.current(), {spec: {holderIdentity: 'other'}})
})

test('releaseLease with the version of our last write deletes without reading; if it was written since, it reads and decides', async (t) => {
  const ours = leaseApi({holder: 'me', resourceVersion: '10'})
  await releaseLease(ours.kube, ref, 'me', '10')
  t.deepEqual(ours.requests, ['delete rv=10'])
  t.is(ours.current(), undefined)
  // Taken over by another holder since our write: the precondition fails, the read shows it is not ours.
  const taken = leaseApi({holder: 'other', resourceVersion: '11'})
  await releaseLease(taken.kube, ref, 'me', '10')
  t.deepEqual(taken.requests, ['delete rv=10', 'read'])
  t.like(taken.current(), {spec: {holderIdentity: 'other'}})
  // Renewed by us with an answer we never saw: read, still ours, deleted at its version.
  const renewed = leaseApi({holder: 'me', resourceVersion: '12'})
  await releaseLease(renewed.kube, ref, 'me', '10')
  t.deepEqual(renewed.requests, ['delete rv=10', 'read', 'delete rv=12'])
  t.is(renewed.current(), undefined)
})
