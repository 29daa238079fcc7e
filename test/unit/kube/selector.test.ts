import test from 'ava'

import {UsageError} from '../../../src/errors.js'
import {parsePhaseTarget, parseSelector, requirementsMatch, selectorMatches, selectorToString} from '../../../src/kube/selector.js'

test('phase targets', (t) => {
  t.deepEqual(parsePhaseTarget('deployment/webserver-php-fpm'), {kind: 'Deployment', name: 'webserver-php-fpm'})
  t.deepEqual(parsePhaseTarget('deploy/web'), {kind: 'Deployment', name: 'web'})
  t.deepEqual(parsePhaseTarget('statefulset/postgres'), {kind: 'StatefulSet', name: 'postgres'})
  t.deepEqual(parsePhaseTarget('sts/postgres'), {kind: 'StatefulSet', name: 'postgres'})
  t.deepEqual(parsePhaseTarget('daemonset/agent'), {kind: 'DaemonSet', name: 'agent'})
  t.deepEqual(parsePhaseTarget('app=web,tier=php'), {kind: 'selector', selector: 'app=web,tier=php'})
  t.deepEqual(parsePhaseTarget('app in (web, php)'), {kind: 'selector', selector: 'app in (web, php)'})
})

test('bad phase targets', (t) => {
  t.throws(() => parsePhaseTarget('pod/x'), {instanceOf: UsageError})
  t.throws(() => parsePhaseTarget('webserver'), {instanceOf: UsageError})
  t.throws(() => parsePhaseTarget('deployment/Web_1'), {instanceOf: UsageError})
  t.throws(() => parsePhaseTarget('app=we b'), {instanceOf: UsageError})
})

test('selector syntax', (t) => {
  t.deepEqual(parseSelector('a=b, c!=d,e in (x,y),f notin (z),g,!h,app.kubernetes.io/name==web'), [
    {key: 'a', op: '=', value: 'b'},
    {key: 'c', op: '!=', value: 'd'},
    {key: 'e', op: 'in', values: ['x', 'y']},
    {key: 'f', op: 'notin', values: ['z']},
    {key: 'g', op: 'exists'},
    {key: 'h', op: '!exists'},
    {key: 'app.kubernetes.io/name', op: '=', value: 'web'},
  ])
  t.throws(() => parseSelector(''), {instanceOf: UsageError})
  t.throws(() => parseSelector('a=b=c'), {instanceOf: UsageError})
})

test('requirementsMatch', (t) => {
  const labels = {app: 'web', tier: 'php'}
  t.true(requirementsMatch(parseSelector('app=web'), labels))
  t.true(requirementsMatch(parseSelector('app=web,tier in (php,js),!canary'), labels))
  t.false(requirementsMatch(parseSelector('app=web,tier notin (php)'), labels))
  t.false(requirementsMatch(parseSelector('missing'), labels))
  t.true(requirementsMatch(parseSelector('app!=db'), labels))
})

test('LabelSelector to string and matching', (t) => {
  const selector = {matchLabels: {app: 'web'}, matchExpressions: [{key: 'tier', operator: 'In', values: ['php', 'js']}, {key: 'canary', operator: 'DoesNotExist'}]}
  t.is(selectorToString(selector), 'app=web,tier in (php,js),!canary')
  t.true(selectorMatches(selector, {app: 'web', tier: 'php'}))
  t.false(selectorMatches(selector, {app: 'web', tier: 'php', canary: 'yes'}))
  t.false(selectorMatches(selector, {app: 'web'}))
  t.false(selectorMatches({}, {app: 'web'}), 'an empty selector selects nothing')
  t.true(selectorMatches({matchExpressions: [{key: 'x', operator: 'Exists'}]}, {x: ''}))
  t.true(selectorMatches({matchExpressions: [{key: 'x', operator: 'NotIn', values: ['a']}]}, {}))
})
