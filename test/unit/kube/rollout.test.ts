import test from 'ava'

import {DeployError} from '../../../src/errors.js'
import type {Kube} from '../../../src/kube/client.js'
import {WatchRolloutWaiter} from '../../../src/kube/rollout.js'
import {MemoryLogger} from '../../../src/util/log.js'

const deployment = (ready: number) => ({
  kind: 'Deployment',
  metadata: {name: 'web', namespace: 'ns', generation: 1, uid: 'u'},
  spec: {replicas: 1, selector: {matchLabels: {app: 'web'}}},
  status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: ready, availableReplicas: ready},
})

/** A Kube whose lists return `deployments` (and nothing else), counting the watches opened. */
function fakeKube(deployments: object[], options: {eventsForbidden?: boolean} = {}): {kube: Kube; watches: string[]; lists: Array<{path: string; fieldSelector?: string}>} {
  const watches: string[] = []
  const lists: Array<{path: string; fieldSelector?: string}> = []
  class Watch {
    async watch(path: string) {
      watches.push(path)
      return new AbortController() // never sends anything
    }
  }
  const kube = {
    k8s: {Watch},
    kc: {},
    async listJSON(path: string, query: {fieldSelector?: string} = {}) {
      lists.push({path, ...query})
      if (path.endsWith('/events') && options.eventsForbidden) throw new Error('events is forbidden')
      return {items: path.endsWith('/deployments') ? deployments : [], metadata: {resourceVersion: '1'}}
    },
    core: {readNamespacedPodLog: async () => ''},
  } as unknown as Kube
  return {kube, watches, lists}
}

test('workloads that are ready in the lists: done without opening a single watch', async (t) => {
  const {kube, watches, lists} = fakeKube([deployment(1)])
  const evaluation = await new WatchRolloutWaiter(kube).wait({namespace: 'ns', timeout: 5000, logger: new MemoryLogger()})
  t.true(evaluation.allReady)
  t.deepEqual(watches, [])
  // Every collection listed once, as JSON, the events by their reason only.
  t.deepEqual(lists.map((l) => l.path).sort(), ['/api/v1/namespaces/ns/events', '/api/v1/namespaces/ns/pods', ...['daemonsets', 'deployments', 'replicasets', 'statefulsets'].map((r) => `/apis/apps/v1/namespaces/ns/${r}`), '/apis/batch/v1/namespaces/ns/jobs'])
  t.is(lists.find((l) => l.path.endsWith('/events'))?.fieldSelector, 'reason=FailedCreate')
})

test('a workload not ready in the lists: every collection is watched from the lists on', async (t) => {
  const {kube, watches} = fakeKube([deployment(0)])
  await t.throwsAsync(new WatchRolloutWaiter(kube).wait({namespace: 'ns', timeout: 300, logger: new MemoryLogger()}), {instanceOf: DeployError, message: /timed out .*deployment\/web/})
  t.deepEqual(watches.map((p) => p.split('/').pop()).sort(), ['daemonsets', 'deployments', 'events', 'jobs', 'pods', 'replicasets', 'statefulsets'])
})

test('an account that may not read events still waits for the workloads, without the event watch', async (t) => {
  const {kube, watches} = fakeKube([deployment(0)], {eventsForbidden: true})
  await t.throwsAsync(new WatchRolloutWaiter(kube).wait({namespace: 'ns', timeout: 300, logger: new MemoryLogger()}), {instanceOf: DeployError, message: /timed out .*deployment\/web/})
  t.false(watches.some((p) => p.endsWith('/events')))
  t.true(watches.some((p) => p.endsWith('/deployments')))
})
