import test from 'ava'

import {abortedBy, ExitCode, InterruptedError, interruptionMessage, interruptionOf, StageError} from '../../../src/errors.js'
import {cleanupInterruption, cleanupProgress, deployInterruption, deployProgress, gcInterruption, logsInterruption, phaseInterruption} from '../../../src/kube/interruption.js'

const say = (parts: Parameters<typeof interruptionMessage>[1]) => interruptionMessage('SIGTERM', parts)

test('an interruption is one line: what, while what, what was released, what is left', (t) => {
  t.is(say({what: 'deploy of ns', during: 'waiting for the rollout (after 3s)', released: ['the branch lock'], left: 'namespace ns stays'}), 'deploy of ns: interrupted by SIGTERM while waiting for the rollout (after 3s); released the branch lock; namespace ns stays')
  t.is(say({what: 'list of shop'}), 'list of shop: interrupted by SIGTERM')
  const error = InterruptedError.of('SIGINT', {what: 'x'})
  t.is(error.exitCode, ExitCode.interrupted)
  t.is(error.exitCode, 130)
  t.is(error.signal, 'SIGINT')
  t.notRegex(error.message, /\n/)
})

test('abortedBy names the signal of the interruption; interruptionOf finds it through a StageError', (t) => {
  const controller = new AbortController()
  t.is(abortedBy(controller.signal), 'an abort')
  controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'}))
  t.is(abortedBy(controller.signal), 'SIGTERM')
  const plain = new AbortController()
  plain.abort('SIGINT')
  t.is(abortedBy(plain.signal), 'SIGINT')
  const inner = InterruptedError.of('SIGTERM', {what: 'deploy of ns'})
  const wrapped = new StageError('deploy', inner)
  t.is(interruptionOf(wrapped), inner)
  t.is(wrapped.exitCode, 130)
  t.is(interruptionOf(new StageError('deploy', new Error('x'))), undefined)
})

test('deploy: before the lock nothing was changed; at the rollout the namespace stays and the lock was released', (t) => {
  const p = deployProgress('shop-x', 1000)
  t.deepEqual(deployInterruption(p, 1000), {what: 'deploy of shop-x', during: 'waiting for the branch lock (after 0ms)', released: [], left: 'nothing was changed'})
  p.lock = 'released'
  p.existed = true
  p.step = 'capacity'
  t.is(say(deployInterruption(p, 1000)), 'deploy of shop-x: interrupted by SIGTERM while waiting for a capacity slot (after 0ms); released the branch lock; nothing was changed: namespace shop-x stays as it was')
  Object.assign(p, {step: 'rollout', stepStartedAt: 0, changed: true})
  t.is(say(deployInterruption(p, 4000)), 'deploy of shop-x: interrupted by SIGTERM while waiting for the rollout (after 4.0s); released the branch lock; namespace shop-x stays as it is, its workloads not all ready: delete it with `shopsys-ci cleanup`, or deploy again')
  Object.assign(p, {step: 'apply', lock: 'expires'})
  t.regex(deployInterruption(p).left!, /part of the manifests applied: .*; the branch lock could not be released and expires within 30 s$/)
  t.deepEqual(deployInterruption(p).released, [])
})

test('deploy --fresh interrupted after its delete says the namespace is gone (or going), not that nothing changed', (t) => {
  const p = {...deployProgress('shop-x'), step: 'fresh' as const, lock: 'released' as const, existed: true, deletedFresh: true}
  t.regex(deployInterruption(p).left!, /^namespace shop-x was deleted by --fresh \(it may still be terminating\) and not created again: deploy again$/)
})

test('cleanup: before the delete nothing was deleted; after it the namespace is still going', (t) => {
  const p = cleanupProgress('shop-x', 0)
  p.lock = 'released'
  t.is(say(cleanupInterruption(p, 0)), 'cleanup of shop-x: interrupted by SIGTERM while waiting for the branch lock (after 0ms); released the branch lock; nothing was deleted: namespace shop-x stays; `shopsys-ci cleanup` again deletes it')
  Object.assign(p, {step: 'wait', deleting: true})
  t.regex(say(cleanupInterruption(p, 0)), /while waiting for namespace shop-x to go .*; namespace shop-x is still being deleted by the cluster .*`shopsys-ci cleanup` again waits for it$/)
})

test('gc, logs export and a phase say what they did and what is left', (t) => {
  t.is(say(gcInterruption('shop', {deleted: ['shop-b', 'shop-a'], deleting: ['shop-c'], locksReleased: 3})), 'gc of shop: interrupted by SIGTERM; released 3 branch lock(s); deleted shop-a, shop-b; still being deleted by the cluster (not waited for): shop-c; started no other deletion; the next gc goes on')
  t.is(say(gcInterruption('shop', {deleted: [], deleting: [], locksReleased: 0})), 'gc of shop: interrupted by SIGTERM; deleted nothing; started no other deletion; the next gc goes on')
  t.regex(say(logsInterruption('shop-x', 'shopsys-ci/logs', {written: 2, total: 5})), /^logs export of shop-x: interrupted by SIGTERM; 2 of 5 log\(s\) written into shopsys-ci\/logs/)
  t.is(say(phaseInterruption('tests', 'shop-x', {startedAt: 0})), 'phase tests: interrupted by SIGTERM while waiting for a Ready pod in shop-x; nothing was run')
  t.is(say(phaseInterruption('tests', 'shop-x', {pod: 'app-1', startedAt: 0, stopped: true}, 2000)), 'phase tests: interrupted by SIGTERM while running in pod app-1 (after 2.0s); stopped the command there (SIGTERM; it has ended); no artifacts copied; namespace shop-x stays as it is')
  t.regex(say(phaseInterruption('tests', 'shop-x', {pod: 'app-1', startedAt: 0, stopped: false}, 2000)), /; released the exec connection; no artifacts copied; the command may still run in pod app-1 \(it did not end after a SIGTERM, or could not be sent one\)$/)
})
