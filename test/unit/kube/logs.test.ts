import test from 'ava'

import {claimsOf, eventsFor, formatEvent, formatEventLog, logContainers} from '../../../src/kube/diagnostics.js'
import {environmentRow, formatEnvironmentTable} from '../../../src/kube/inventory.js'
import {formatTable} from '../../../src/util/table.js'
import {logTargets} from '../../../src/kube/logs.js'
import {readEnvironment} from '../../../src/kube/metadata.js'

test('log targets: init, regular and previous instances', (t) => {
  const targets = logTargets({
    metadata: {name: 'web-1'},
    spec: {initContainers: [{name: 'init-db'}], containers: [{name: 'php-fpm'}, {name: 'nginx'}]},
    status: {
      initContainerStatuses: [{name: 'init-db', restartCount: 0}],
      containerStatuses: [{name: 'php-fpm', restartCount: 2, lastState: {terminated: {exitCode: 1}}}, {name: 'nginx', restartCount: 0}],
    },
  })
  t.deepEqual(targets, [
    {pod: 'web-1', container: 'init-db', previous: false},
    {pod: 'web-1', container: 'php-fpm', previous: false},
    {pod: 'web-1', container: 'php-fpm', previous: true},
    {pod: 'web-1', container: 'nginx', previous: false},
  ])
})

test('events of a workload: itself, its pods, its ReplicaSets; oldest first', (t) => {
  const events = [
    {involvedObject: {kind: 'Pod', name: 'web-abc-1'}, reason: 'BackOff', type: 'Warning', message: 'Back-off restarting failed container', lastTimestamp: '2026-01-01T00:00:10Z', count: 4},
    {involvedObject: {kind: 'ReplicaSet', name: 'web-abc'}, reason: 'SuccessfulCreate', type: 'Normal', message: 'Created pod', lastTimestamp: '2026-01-01T00:00:01Z'},
    {involvedObject: {kind: 'Deployment', name: 'web'}, reason: 'ScalingReplicaSet', type: 'Normal', message: 'Scaled up', lastTimestamp: '2026-01-01T00:00:00Z'},
    {involvedObject: {kind: 'Pod', name: 'db-0'}, reason: 'Pulled', type: 'Normal', message: 'x', lastTimestamp: '2026-01-01T00:00:05Z'},
    {involvedObject: {kind: 'ReplicaSet', name: 'webhook-1'}, reason: 'X', lastTimestamp: '2026-01-01T00:00:05Z'},
  ]
  const picked = eventsFor(events, {kind: 'Deployment', name: 'web'}, ['web-abc-1'])
  t.deepEqual(picked.map((e) => e.reason), ['ScalingReplicaSet', 'SuccessfulCreate', 'BackOff'])
  t.is(formatEvent(picked[2], Date.parse('2026-01-01T00:00:40Z')), '30s ago  Warning  BackOff  pod/web-abc-1: Back-off restarting failed container (x4)')
})

test('events of a workload include those of the claims its pods mount (why a claim does not bind)', (t) => {
  const pods = [
    {metadata: {name: 'db-0'}, spec: {volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'data-db-0'}}, {name: 'tmp', ephemeral: {volumeClaimTemplate: {}}}, {name: 'cfg', configMap: {name: 'x'}}]}},
  ]
  t.deepEqual(claimsOf(pods), ['data-db-0', 'db-0-tmp'])
  const events = [
    {involvedObject: {kind: 'Pod', name: 'db-0'}, reason: 'FailedScheduling', type: 'Warning', message: 'pod has unbound immediate PersistentVolumeClaims', lastTimestamp: '2026-01-01T00:00:01Z'},
    {involvedObject: {kind: 'PersistentVolumeClaim', name: 'data-db-0'}, reason: 'ProvisioningFailed', type: 'Warning', message: 'storageclass.storage.k8s.io "fast" not found', lastTimestamp: '2026-01-01T00:00:02Z'},
    {involvedObject: {kind: 'PersistentVolumeClaim', name: 'other'}, reason: 'ProvisioningFailed', type: 'Warning', message: 'x', lastTimestamp: '2026-01-01T00:00:03Z'},
    // A claim named like the workload is not the workload.
    {involvedObject: {kind: 'PersistentVolumeClaim', name: 'db'}, reason: 'ProvisioningFailed', type: 'Warning', message: 'y', lastTimestamp: '2026-01-01T00:00:04Z'},
  ]
  t.deepEqual(eventsFor(events, {kind: 'StatefulSet', name: 'db'}, ['db-0'], claimsOf(pods)).map((e) => e.message), ['pod has unbound immediate PersistentVolumeClaims', 'storageclass.storage.k8s.io "fast" not found'])
})

test('log lines shown: failing containers first, then running but not ready ones, init containers before the others', (t) => {
  const pods = [
    {
      metadata: {name: 'web-1'},
      status: {
        initContainerStatuses: [{name: 'wait-for-db', ready: false, restartCount: 0, state: {running: {}}}],
        containerStatuses: [{name: 'php-fpm', ready: false, restartCount: 3, state: {waiting: {reason: 'CrashLoopBackOff'}}}, {name: 'nginx', ready: false, restartCount: 0, state: {running: {}}}, {name: 'ok', ready: true, state: {running: {}}}],
      },
    },
  ]
  const crash = {pod: 'web-1', container: 'php-fpm', init: false, reason: 'CrashLoopBackOff', fatal: true, restartCount: 3}
  const unscheduled = {pod: 'web-2', container: '', init: false, reason: 'Unschedulable', fatal: false, restartCount: 0}
  t.deepEqual(
    logContainers([unscheduled, crash], pods).map((c) => `${c.container}${c.unready ? ' (unready)' : ''}`),
    ['php-fpm', 'wait-for-db (unready)', 'nginx (unready)'],
  )
  // Readiness that never comes, nothing failing: the unready containers' logs say why.
  t.deepEqual(logContainers([], [{metadata: {name: 'web-1'}, status: {containerStatuses: [{name: 'app', ready: false, state: {running: {}}}]}}]).map((c) => c.container), ['app'])
})

test('events.log: every event of the namespace, oldest first, absolute times; events.k8s.io fields too', (t) => {
  const log = formatEventLog([
    {involvedObject: {kind: 'Pod', name: 'web-1'}, reason: 'BackOff', type: 'Warning', message: 'Back-off restarting failed container\n', lastTimestamp: '2026-01-01T00:00:10Z', count: 4},
    {regarding: {kind: 'Pod', name: 'db-0'}, reason: 'Scheduled', type: 'Normal', message: 'assigned to node-1', eventTime: '2026-01-01T00:00:01.500000Z'},
    {involvedObject: {kind: 'Deployment', name: 'web'}, reason: 'ScalingReplicaSet', type: 'Normal', message: 'Scaled up'},
  ])
  t.is(
    log,
    [
      '-  Normal   ScalingReplicaSet  deployment/web: Scaled up',
      '2026-01-01T00:00:01.500Z  Normal   Scheduled  pod/db-0: assigned to node-1',
      '2026-01-01T00:00:10.000Z  Warning  BackOff  pod/web-1: Back-off restarting failed container (x4)',
      '',
    ].join('\n'),
  )
  t.is(formatEventLog([]), '')
})

test('tables', (t) => {
  t.is(formatTable(['A', 'LONG'], [['xx', '1'], ['y', '22']]), 'A   LONG\nxx  1\ny   22')
  const now = Date.parse('2026-01-01T12:00:00Z')
  const env = readEnvironment({
    metadata: {
      name: 'shop-feature-x',
      annotations: {
        'shopsys-ci/branch': 'feature/x',
        'shopsys-ci/commit': '0123456789abcdef0123',
        'shopsys-ci/created-at': '2026-01-01T11:00:00.000Z',
        'shopsys-ci/expires-at': '2026-01-02T11:00:00.000Z',
        'shopsys-ci/urls': '{"first":"http://feature-x.ci.test:8000"}',
      },
    },
  })
  const row = environmentRow(env, [{kind: 'Deployment', name: 'a', ready: true, status: ''}, {kind: 'Job', name: 'b', ready: false, status: ''}], now)
  t.like(row, {namespace: 'shop-feature-x', branch: 'feature/x', ageMs: 3_600_000, workloads: {ready: 1, total: 2}})
  t.is(formatEnvironmentTable([row], now), 'BRANCH     NAMESPACE       COMMIT        AGE  EXPIRES  READY  URL\nfeature/x  shop-feature-x  0123456789ab  1h   23h      1/2    http://feature-x.ci.test:8000')
})
