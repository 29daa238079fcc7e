import test from 'ava'

import type {Kube} from '../../../src/kube/client.js'
import {startOwnerHeartbeat} from '../../../src/kube/owner.js'
import {MemoryLogger} from '../../../src/util/log.js'

function countingKube(): {kube: Kube; applied: Array<Record<string, any>>} {
  const applied: Array<Record<string, any>> = []
  const kube = {serverSideApply: async (obj: Record<string, any>) => applied.push(obj)} as unknown as Kube
  return {kube, applied}
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 30))

test('the heartbeat renews the owner lease at once, then every third of its duration', async (t) => {
  const {kube, applied} = countingKube()
  const heartbeat = startOwnerHeartbeat(kube, 'shop-x', 'jenkins-1', new MemoryLogger(), {durationSeconds: 0.3})
  t.is(applied.length, 1)
  t.like(applied[0], {kind: 'Lease', metadata: {namespace: 'shop-x', name: 'shopsys-ci-owner'}, spec: {holderIdentity: 'jenkins-1'}})
  await tick()
  await tick()
  await tick()
  await tick()
  heartbeat.stop()
  t.true(applied.length >= 2, String(applied.length))
})

test('now: false (the lease was just renewed) waits for the first third before renewing', async (t) => {
  const {kube, applied} = countingKube()
  const heartbeat = startOwnerHeartbeat(kube, 'shop-x', 'jenkins-1', new MemoryLogger(), {durationSeconds: 30, now: false})
  await tick()
  heartbeat.stop()
  t.is(applied.length, 0)
})
