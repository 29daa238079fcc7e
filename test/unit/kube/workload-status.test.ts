import test from 'ava'

import {evaluateRollout, type KEvent, type KObject, podProblems, progressLine, refusedCreation, workloadState} from '../../../src/kube/workload-status.js'

const deployment = (status: Record<string, unknown>, extra: Partial<KObject> = {}): KObject => ({
  kind: 'Deployment',
  metadata: {name: 'web', namespace: 'ns', generation: 2, annotations: {'deployment.kubernetes.io/revision': '2'}},
  spec: {replicas: 2, selector: {matchLabels: {app: 'web'}}},
  status,
  ...extra,
})

test('Deployment: waiting for the controller until the generation is observed', (t) => {
  t.like(workloadState(deployment({observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2})), {ready: false, summary: 'waiting for the controller'})
  t.like(workloadState(deployment({})), {ready: false})
})

test('Deployment: progress and ready', (t) => {
  t.like(workloadState(deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 0})), {ready: false, summary: '0/2 ready, 1/2 updated'})
  t.like(workloadState(deployment({observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2})), {ready: false, summary: '1 old replica(s) terminating'})
  t.like(workloadState(deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1})), {ready: false, summary: '1/2 ready'})
  t.like(workloadState(deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2})), {ready: true, summary: '2/2 ready'})
})

test('Deployment: scaled to zero is ready', (t) => {
  t.true(workloadState({...deployment({observedGeneration: 2}), spec: {replicas: 0}}).ready)
})

test('Deployment: progress deadline exceeded is a failure', (t) => {
  const state = workloadState(deployment({observedGeneration: 2, conditions: [{type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.'}]}))
  t.false(state.ready)
  t.regex(state.failure ?? '', /progress deadline exceeded/)
})

test('Deployment: the previous rollout\'s verdict does not fail a new spec the controller has not seen yet', (t) => {
  // A redeploy that fixes a Deployment stuck past its progress deadline (or refused by a quota): the
  // conditions still read as before until observedGeneration reaches the applied generation.
  const stuck = {type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.'}
  const refused = {type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-1-x" is forbidden: failed quota: q: must specify requests.cpu for: web'}
  for (const c of [stuck, refused]) {
    const state = workloadState(deployment({observedGeneration: 1, conditions: [c]}))
    t.like(state, {ready: false, summary: 'waiting for the controller'}, c.type)
    t.is(state.failure, undefined, c.type)
  }
})

test('Deployment: pods refused at admission fail fast; an exceeded quota may clear and only shows', (t) => {
  const refused = workloadState(deployment({observedGeneration: 2, conditions: [{type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-1-x" is forbidden: failed quota: q: must specify requests.cpu for: web'}]}))
  t.false(refused.ready)
  t.regex(refused.failure ?? '', /pods cannot be created: .*must specify requests\.cpu/)
  const exceeded = workloadState(deployment({observedGeneration: 2, conditions: [{type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-1-x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=30, limited: pods=30'}]}))
  t.false(exceeded.ready)
  t.is(exceeded.failure, undefined)
  t.regex(exceeded.summary, /exceeded quota/)
})

const failedCreate = (kind: string, name: string, message: string, lastTimestamp: string, extra: Partial<KEvent> = {}): KEvent => ({
  kind: 'Event',
  metadata: {name: `${name}.1`},
  type: 'Warning',
  reason: 'FailedCreate',
  message,
  involvedObject: {kind, name, uid: 'u1'},
  lastTimestamp,
  ...extra,
})
const FORBIDDEN = 'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: failed quota: q: must specify requests.cpu for: db'

test('refusedCreation: a FailedCreate event of this deploy fails a StatefulSet, DaemonSet or Job', (t) => {
  const since = new Date('2026-11-26T10:00:00.000Z')
  for (const kind of ['StatefulSet', 'DaemonSet', 'Job']) {
    const workload: KObject = {kind, metadata: {name: 'db', uid: 'u1', creationTimestamp: '2026-11-20T00:00:00Z'}}
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', FORBIDDEN, '2026-11-26T10:00:01Z')], since), `pods cannot be created: ${FORBIDDEN}`, kind)
    // An earlier deploy's event, or one from this deploy's second; another workload's; a Normal
    // event; an exceeded quota, which may clear.
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', FORBIDDEN, '2026-11-26T09:59:59Z')], since), undefined, kind)
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', FORBIDDEN, '2026-11-26T10:00:00Z')], since), undefined, kind)
    t.is(refusedCreation(workload, [failedCreate(kind, 'web', FORBIDDEN, '2026-11-26T10:00:05Z')], since), undefined, kind)
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', FORBIDDEN, '2026-11-26T10:00:05Z', {involvedObject: {kind, name: 'db', uid: 'u0'}})], since), undefined, `${kind}: a deleted namesake's`)
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', FORBIDDEN, '2026-11-26T10:00:05Z', {type: 'Normal'})], since), undefined, kind)
    t.is(refusedCreation(workload, [failedCreate(kind, 'db', 'pods "db-0" is forbidden: exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3', '2026-11-26T10:00:05Z')], since), undefined, kind)
  }
  // A Deployment says it in its ReplicaFailure condition instead (see above).
  t.is(refusedCreation({kind: 'Deployment', metadata: {name: 'db', uid: 'u1'}}, [failedCreate('Deployment', 'db', FORBIDDEN, '2026-11-26T10:00:05Z')], since), undefined)
})

test('refusedCreation: the newest event counts; series and eventTime are read; creation and the last apply start the count too', (t) => {
  const sts: KObject = {kind: 'StatefulSet', metadata: {name: 'db', uid: 'u1', creationTimestamp: '2026-11-26T10:00:00Z'}}
  const events = [failedCreate('StatefulSet', 'db', 'older', '2026-11-26T10:00:01Z'), failedCreate('StatefulSet', 'db', 'newer', '2026-11-26T10:00:03Z')]
  t.is(refusedCreation(sts, events), 'pods cannot be created: newer')
  t.is(refusedCreation(sts, [failedCreate('StatefulSet', 'db', 'before creation', '2026-11-26T09:00:00Z')]), undefined)
  const series = failedCreate('StatefulSet', 'db', 'repeated', '2026-11-26T09:00:00Z', {series: {lastObservedTime: '2026-11-26T10:00:02.123456Z'}})
  t.is(refusedCreation(sts, [series]), 'pods cannot be created: repeated')
  const modern = failedCreate('StatefulSet', 'db', 'events.k8s.io', '', {lastTimestamp: undefined, eventTime: '2026-11-26T10:00:01.500000Z'})
  t.is(refusedCreation(sts, [modern]), 'pods cannot be created: events.k8s.io')
  // Applied again (a fixed spec) after the namespace: the old spec's refusals are not this one's.
  const reapplied: KObject = {...sts, metadata: {...sts.metadata, managedFields: [{manager: 'shopsys-ci', operation: 'Apply', time: '2026-11-26T10:00:05Z'}, {manager: 'kube-controller-manager', operation: 'Update', time: '2026-11-26T10:00:09Z'}]}}
  t.is(refusedCreation(reapplied, [failedCreate('StatefulSet', 'db', 'old spec', '2026-11-26T10:00:05Z')], new Date('2026-11-26T10:00:04Z')), undefined)
  t.is(refusedCreation(reapplied, [failedCreate('StatefulSet', 'db', 'new spec', '2026-11-26T10:00:06Z')], new Date('2026-11-26T10:00:04Z')), 'pods cannot be created: new spec')
})

test('evaluateRollout: a StatefulSet whose pods admission refuses fails at once; once ready, old events do not matter', (t) => {
  const sts = (readyReplicas: number): KObject => ({kind: 'StatefulSet', metadata: {name: 'db', uid: 'u1', generation: 1}, spec: {replicas: 1}, status: {observedGeneration: 1, readyReplicas}})
  const events = [failedCreate('StatefulSet', 'db', FORBIDDEN, '2026-11-26T10:00:01Z')]
  const since = new Date('2026-11-26T10:00:00Z')
  const refused = evaluateRollout({workloads: [sts(0)], replicaSets: [], pods: [], events, since})
  t.deepEqual(refused.failed.map((w) => w.name), ['db'])
  t.regex(refused.failed[0].fatal ?? '', /^pods cannot be created: .*must specify requests\.cpu/)
  t.true(evaluateRollout({workloads: [sts(1)], replicaSets: [], pods: [], events, since}).allReady)
})

test('StatefulSet', (t) => {
  const sts = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KObject => ({kind: 'StatefulSet', metadata: {name: 'db', generation: 1}, spec: {replicas: 2, ...spec}, status})
  t.like(workloadState(sts({observedGeneration: 1, readyReplicas: 1})), {ready: false, summary: '1/2 ready'})
  t.like(workloadState(sts({observedGeneration: 1, readyReplicas: 2, currentRevision: 'a', updateRevision: 'b', updatedReplicas: 1})), {ready: false, summary: '1/2 updated'})
  t.like(workloadState(sts({observedGeneration: 1, readyReplicas: 2, currentRevision: 'b', updateRevision: 'b'})), {ready: true})
  t.like(workloadState(sts({observedGeneration: 1, readyReplicas: 2, currentRevision: 'a', updateRevision: 'b'}, {updateStrategy: {type: 'OnDelete'}})), {ready: true})
  t.like(workloadState(sts({observedGeneration: 1, readyReplicas: 2, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b'}, {updateStrategy: {type: 'RollingUpdate', rollingUpdate: {partition: 1}}})), {ready: true})
})

test('DaemonSet', (t) => {
  const ds = (status: Record<string, unknown>): KObject => ({kind: 'DaemonSet', metadata: {name: 'agent', generation: 1}, spec: {}, status: {observedGeneration: 1, ...status}})
  t.like(workloadState(ds({desiredNumberScheduled: 3, updatedNumberScheduled: 2})), {ready: false, summary: '2/3 updated'})
  t.like(workloadState(ds({desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1})), {ready: false, summary: '1/3 ready'})
  t.like(workloadState(ds({desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3})), {ready: true})
  t.like(workloadState(ds({desiredNumberScheduled: 0})), {ready: true})
})

test('Job', (t) => {
  const job = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KObject => ({kind: 'Job', metadata: {name: 'migrate'}, spec, status})
  t.like(workloadState(job({active: 1})), {ready: false, summary: '0/1 complete, 1 running'})
  t.like(workloadState(job({succeeded: 1, conditions: [{type: 'Complete', status: 'True'}]})), {ready: true, summary: 'complete'})
  const failed = workloadState(job({failed: 7, conditions: [{type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit'}]}))
  t.false(failed.ready)
  t.is(failed.failure, 'job failed: BackoffLimitExceeded: Job has reached the specified backoff limit')
  t.like(workloadState(job({}, {suspend: true})), {ready: true, summary: 'suspended'})
})

const pod = (name: string, status: Record<string, unknown>, meta: Partial<NonNullable<KObject['metadata']>> = {}): KObject => ({
  kind: 'Pod',
  metadata: {name, namespace: 'ns', labels: {app: 'web'}, ownerReferences: [{kind: 'ReplicaSet', name: 'web-2'}], ...meta},
  spec: {containers: [{name: 'app'}]},
  status,
})
const waiting = (name: string, reason: string, extra: Record<string, unknown> = {}) => ({name, ready: false, restartCount: 0, state: {waiting: {reason, message: `${reason} message`}}, ...extra})

for (const reason of ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'InvalidImageName']) {
  test(`${reason} is fatal`, (t) => {
    const problems = podProblems(pod('web-2-a', {phase: 'Pending', containerStatuses: [waiting('app', reason)]}))
    t.is(problems.length, 1)
    t.like(problems[0], {pod: 'web-2-a', container: 'app', init: false, reason, fatal: true})
  })
}

test('ContainerCreating and PodInitializing are not problems', (t) => {
  t.deepEqual(podProblems(pod('p', {containerStatuses: [waiting('app', 'ContainerCreating'), waiting('side', 'PodInitializing')]})), [])
})

test('init containers are looked at too', (t) => {
  const problems = podProblems(pod('p', {initContainerStatuses: [waiting('init-db', 'CrashLoopBackOff', {restartCount: 3})]}))
  t.like(problems[0], {container: 'init-db', init: true, fatal: true, restartCount: 3})
})

test('a container that exited non-zero is a problem, not fatal', (t) => {
  const problems = podProblems(pod('p', {containerStatuses: [{name: 'app', restartCount: 1, state: {terminated: {exitCode: 2, reason: 'Error'}}}]}))
  t.like(problems[0], {reason: 'Error', fatal: false, message: 'exited with code 2'})
})

test('an unschedulable pod is reported, not fatal', (t) => {
  const problems = podProblems(pod('p', {phase: 'Pending', conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available'}]}))
  t.like(problems[0], {reason: 'Unschedulable', fatal: false})
})

const rs = (name: string, revision: string): KObject => ({kind: 'ReplicaSet', metadata: {name, namespace: 'ns', annotations: {'deployment.kubernetes.io/revision': revision}, ownerReferences: [{kind: 'Deployment', name: 'web'}]}})

test('evaluateRollout: a crashing pod of the current ReplicaSet fails the rollout', (t) => {
  const evaluation = evaluateRollout({
    workloads: [deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1})],
    replicaSets: [rs('web-1', '1'), rs('web-2', '2')],
    pods: [pod('web-2-a', {phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', {restartCount: 2})]})],
  })
  t.false(evaluation.allReady)
  t.is(evaluation.failed.length, 1)
  t.regex(evaluation.failed[0].fatal ?? '', /container app of pod web-2-a: CrashLoopBackOff/)
})

test('evaluateRollout: crashing pods of the old ReplicaSet do not fail a rollout that fixes them', (t) => {
  const old = pod('web-1-a', {phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', {restartCount: 5})]}, {ownerReferences: [{kind: 'ReplicaSet', name: 'web-1'}]})
  const evaluation = evaluateRollout({
    workloads: [deployment({observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2})],
    replicaSets: [rs('web-1', '1'), rs('web-2', '2')],
    pods: [old, pod('web-2-a', {phase: 'Running'})],
  })
  t.is(evaluation.failed.length, 0)
  t.deepEqual(evaluation.workloads[0].pods, ['web-2-a'])
})

test('evaluateRollout: terminating pods are ignored', (t) => {
  const evaluation = evaluateRollout({
    workloads: [deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1})],
    replicaSets: [rs('web-2', '2')],
    pods: [pod('web-2-a', {containerStatuses: [waiting('app', 'ErrImagePull')]}, {deletionTimestamp: '2026-01-01T00:00:00Z'})],
  })
  t.is(evaluation.failed.length, 0)
})

test('evaluateRollout: a failed Job fails, a complete one is ready; no workloads is ready', (t) => {
  const failed = evaluateRollout({workloads: [{kind: 'Job', metadata: {name: 'j'}, status: {conditions: [{type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded'}]}}], replicaSets: [], pods: []})
  t.is(failed.failed.length, 1)
  t.true(evaluateRollout({workloads: [], replicaSets: [], pods: []}).allReady)
})

test('evaluateRollout: other kinds are not waited for', (t) => {
  t.is(evaluateRollout({workloads: [{kind: 'Service', metadata: {name: 's'}}], replicaSets: [], pods: []}).workloads.length, 0)
})

test('progress lines name the workload and the first problem', (t) => {
  const evaluation = evaluateRollout({
    workloads: [deployment({observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 0})],
    replicaSets: [rs('web-2', '2')],
    pods: [pod('web-2-a', {containerStatuses: [{name: 'app', restartCount: 1, state: {terminated: {exitCode: 1, reason: 'Error'}}}]})],
  })
  t.is(progressLine(evaluation.workloads[0]), 'deployment/web: 0/2 ready (web-2-a/app: Error)')
})
