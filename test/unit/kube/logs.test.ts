import test from 'ava'

import {eventsFor, formatEvent, formatEventLog} from '../../../src/kube/diagnostics.js'
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
