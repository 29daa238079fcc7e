import test from 'ava'

import {DEFAULT_HOSTS} from '../../../src/config/model.js'
import {UsageError} from '../../../src/errors.js'
import {computeNames, type NameInputs, urlFor, validateDomain, validateHost, validateNamespace, validatePort} from '../../../src/names/names.js'
import {slugify} from '../../../src/names/slug.js'
import {BRANCHES} from './_branches.js'

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function inputs(overrides: Partial<NameInputs> = {}): NameInputs {
  return {
    branch: 'master',
    project: 'shop',
    domain: 'ci.example.com',
    scheme: 'http',
    hosts: DEFAULT_HOSTS,
    ...overrides,
  }
}

function assertValidNames(t: import('ava').ExecutionContext, names: ReturnType<typeof computeNames>): void {
  t.regex(names.namespace, DNS_LABEL)
  t.true(names.namespace.length <= 63, `namespace ${names.namespace} ≤ 63`)
  t.regex(names.slug, DNS_LABEL)
  t.true(names.slug.length <= 63)
  for (const host of Object.values(names.hosts)) {
    t.true(host.length <= 253, `host ${host} ≤ 253`)
    for (const label of host.split('.')) {
      t.regex(label, DNS_LABEL)
      t.true(label.length <= 63, `label ${label} of ${host} ≤ 63`)
    }
    t.is(validateHost(host), undefined)
  }
}

/** Host setups that squeeze the slug: a label that carries more than the slug, and a long domain. */
const SETUPS: Record<string, Partial<NameInputs>> = {
  defaults: {},
  'slug inside a longer label': {hosts: {first: '{{slug}}.{{domain}}', adminer: 'redis-admin-{{slug}}.{{domain}}', twice: '{{slug}}-{{slug}}.{{domain}}'}},
  'long domain': {domain: `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.example.com`},
  'long prefix': {namespacePrefix: `${'p'.repeat(40)}-`},
  'no prefix': {namespacePrefix: ''},
}

for (const [setup, overrides] of Object.entries(SETUPS)) {
  test(`every table branch gives valid names (${setup})`, (t) => {
    const namespaces = new Set<string>()
    for (const branch of BRANCHES) {
      const names = computeNames(inputs({...overrides, branch}))
      assertValidNames(t, names)
      t.false(namespaces.has(names.namespace), `namespace of ${JSON.stringify(branch)} is unique`)
      namespaces.add(names.namespace)
    }
  })
}

test('default names of master', (t) => {
  const names = computeNames(inputs({hostPort: '8000'}))
  t.deepEqual(names, {
    branch: 'master',
    slug: 'master',
    namespace: 'shop-master',
    hosts: {
      first: 'master.ci.example.com',
      second: '2.master.ci.example.com',
      adminer: 'adminer.master.ci.example.com',
      elasticsearch: 'elasticsearch.master.ci.example.com',
      'redis-admin': 'redis-admin.master.ci.example.com',
    },
    urls: {
      first: 'http://master.ci.example.com:8000',
      second: 'http://2.master.ci.example.com:8000',
      adminer: 'http://adminer.master.ci.example.com:8000',
      elasticsearch: 'http://elasticsearch.master.ci.example.com:8000',
      'redis-admin': 'http://redis-admin.master.ci.example.com:8000',
    },
  })
  t.deepEqual(Object.keys(names.hosts), Object.keys(DEFAULT_HOSTS), 'hosts keep the configured order')
})

test('the slug is cut so the namespace fits after the prefix', (t) => {
  const branch = 'feature/' + 'x'.repeat(100)
  const names = computeNames(inputs({branch}))
  t.is(names.namespace.length, 63)
  t.is(names.namespace, `shop-${names.slug}`)
  t.is(names.slug, slugify(branch, 63 - 'shop-'.length))
})

test('a clean branch that fits is used unchanged in the namespace', (t) => {
  t.is(computeNames(inputs({branch: 'x'.repeat(58)})).namespace, `shop-${'x'.repeat(58)}`)
  t.regex(computeNames(inputs({branch: 'x'.repeat(59)})).slug, /-[0-9a-f]{8}$/)
})

test('the namespace prefix is used literally', (t) => {
  t.is(computeNames(inputs({namespacePrefix: 'ci-'})).namespace, 'ci-master')
  t.is(computeNames(inputs({namespacePrefix: ''})).namespace, 'master')
  t.throws(() => computeNames(inputs({namespacePrefix: 'CI_'})), {instanceOf: UsageError, message: /namespace prefix/})
  t.throws(() => computeNames(inputs({namespacePrefix: 'p'.repeat(54)})), {instanceOf: UsageError, message: /at most 53/})
})

test('the slug is cut so every host label fits, the same slug everywhere', (t) => {
  const branch = 'feature/JIRA-1234-implement-the-new-checkout-flow-with-payment-gateway'
  const names = computeNames(inputs({branch, hosts: {first: '{{slug}}.{{domain}}', adminer: 'adminer-{{slug}}.{{domain}}'}}))
  t.is(names.hosts.adminer.split('.')[0].length, 63)
  t.is(names.hosts.first, `${names.slug}.ci.example.com`)
  t.is(names.namespace, `shop-${names.slug}`)
})

test('an explicit namespace is validated and used as is', (t) => {
  t.is(computeNames(inputs({namespace: 'my-review-env', branch: 'Feature/X'})).namespace, 'my-review-env')
  for (const bad of ['My-Env', 'env_1', '-env', 'env-', 'a'.repeat(64), '', 'a.b', 'default', 'kube-system']) {
    t.throws(() => computeNames(inputs({namespace: bad})), {instanceOf: UsageError}, bad)
  }
})

test('validateNamespace explains the DNS-1123 rule', (t) => {
  t.notThrows(() => validateNamespace('shop-feature-a-1234abcd'))
  t.notThrows(() => validateNamespace('1abc'))
  const error = t.throws(() => validateNamespace('Feature/A'), {instanceOf: UsageError})
  t.regex(error!.message, /DNS-1123 label/)
  t.regex(error!.message, /lower-case letters, digits and "-"/)
  t.regex(t.throws(() => validateNamespace('a'.repeat(64)))!.message, /it has 64/)
  const reserved = t.throws(() => validateNamespace('kube-public'), {instanceOf: UsageError})!
  t.regex(reserved.message, /reserved/)
  t.true(reserved.suggestions.some((s) => s.includes('names.namespacePrefix')), 'a slug can only name one with an empty prefix')
})

test('URLs leave out the default port', (t) => {
  t.is(urlFor('http', 'a.example.com'), 'http://a.example.com')
  t.is(urlFor('http', 'a.example.com', 80), 'http://a.example.com')
  t.is(urlFor('http', 'a.example.com', '8080'), 'http://a.example.com:8080')
  t.is(urlFor('http', 'a.example.com', 443), 'http://a.example.com:443')
  t.is(urlFor('https', 'a.example.com', 443), 'https://a.example.com')
  t.is(urlFor('https', 'a.example.com', '8443'), 'https://a.example.com:8443')
  t.is(urlFor('https', 'a.example.com', ''), 'https://a.example.com')
  t.is(computeNames(inputs({scheme: 'https'})).urls.first, 'https://master.ci.example.com')
  t.is(computeNames(inputs({hostPort: ''})).urls.first, 'http://master.ci.example.com')
})

test('the host port is validated', (t) => {
  t.is(validatePort(1), undefined)
  t.is(validatePort('65535'), undefined)
  t.is(validatePort(' 8080 '), undefined)
  for (const bad of [0, 65536, '-1', 'http', '80a', '8.5', ' ']) t.truthy(validatePort(bad), String(bad))
  t.throws(() => computeNames(inputs({hostPort: '70000'})), {instanceOf: UsageError, message: /NGINX_INGRESS_CONTROLLER_HOST_PORT/})
})

test('the domain must be a DNS name', (t) => {
  t.is(validateDomain('ci.example.com'), undefined)
  t.is(validateDomain('CI.Example.COM'), undefined)
  t.is(validateDomain('localhost'), undefined)
  t.is(validateDomain('127.0.0.1.nip.io'), undefined)
  t.regex(validateDomain('')!, /empty/)
  t.regex(validateDomain('example.com.')!, /trailing dot/)
  t.regex(validateDomain('a..b')!, /empty label/)
  t.regex(validateDomain('-a.com')!, /not valid/)
  t.regex(validateDomain('my_host.com')!, /not valid/)
  // The usual slips name their fix.
  t.regex(validateDomain('http://ci.example.com')!, /without a scheme/)
  t.regex(validateDomain('ci.example.com:8000')!, /without a port \(the port goes into NGINX_INGRESS_CONTROLLER_HOST_PORT\)/)
  t.regex(validateDomain('ci.example.com ')!, /blanks/)
  t.regex(validateDomain('*.example.com')!, /not valid/)
  t.regex(validateDomain(`${'a'.repeat(64)}.com`)!, /at most 63/)
  t.regex(validateDomain(`${'a.'.repeat(127)}com`)!, /at most 253/)
  t.throws(() => computeNames(inputs({domain: 'ci_example'})), {instanceOf: UsageError, message: /DEVELOPMENT_SERVER_DOMAIN/})
  t.is(computeNames(inputs({domain: 'CI.Example.com'})).hosts.first, 'master.ci.example.com')
})

test('a domain too long to leave room for the slug is an error naming the host and the limit', (t) => {
  const domain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.${'g'.repeat(50)}.com`
  t.is(validateDomain(domain), undefined, 'the domain itself is valid')
  const error = t.throws(() => computeNames(inputs({domain})), {instanceOf: UsageError})
  t.regex(error!.message, /names\.hosts\.first/)
  t.regex(error!.message, /253-character limit/)
  t.regex(error!.message, /domain is 246 characters/)
  t.true(error!.suggestions.some((s) => s.includes('DEVELOPMENT_SERVER_DOMAIN')))
})

test('the error does not depend on the branch: short branches fail too', (t) => {
  const hosts = {first: `${'x'.repeat(55)}-{{slug}}.{{domain}}`}
  for (const branch of ['m', 'master', 'x'.repeat(100)]) {
    const error = t.throws(() => computeNames(inputs({branch, hosts})), {instanceOf: UsageError})
    t.regex(error!.message, /63-character limit of its label/)
  }
})

test('host templates that fail or render invalid hosts are errors naming the host key, never cut', (t) => {
  const unknown = t.throws(() => computeNames(inputs({hosts: {first: '{{slug}}.{{domian}}'}})), {instanceOf: UsageError})
  t.regex(unknown!.message, /names\.hosts\.first/)
  t.regex(unknown!.message, /domian/)
  const syntax = t.throws(() => computeNames(inputs({hosts: {first: '{{slug}.{{domain}}'}})), {instanceOf: UsageError, message: /names\.hosts\.first/})
  t.regex(syntax!.message, /\n-+\^\nExpecting /, 'shows where the syntax error is, not only "Parse error on line 1:"')
  t.throws(() => computeNames(inputs({branch: 'feature/a', hosts: {raw: '{{branch}}.{{domain}}'}})), {
    instanceOf: UsageError,
    message: /names\.hosts\.raw.*"feature\/a\.ci\.example\.com".*not valid/,
  })
  t.throws(() => computeNames(inputs({hosts: {static: `mail.${'m'.repeat(64)}.{{domain}}`}})), {instanceOf: UsageError, message: /names\.hosts\.static.*at most 63/})
  t.throws(() => computeNames(inputs({hosts: {underscore: 'a_b.{{slug}}.{{domain}}'}})), {instanceOf: UsageError, message: /names\.hosts\.underscore/})
})

test('templates may use project and are lower-cased', (t) => {
  const names = computeNames(inputs({hosts: {first: 'App.{{project}}.{{slug}}.{{domain}}'}}))
  t.is(names.hosts.first, 'app.shop.master.ci.example.com')
})

test('an empty branch is a usage error', (t) => {
  t.throws(() => computeNames(inputs({branch: ''})), {instanceOf: UsageError})
  t.throws(() => computeNames(inputs({branch: ' \n '})), {instanceOf: UsageError})
})

test('validateHost reports problems as text', (t) => {
  t.is(validateHost('a.b.c'), undefined)
  t.regex(validateHost('A.b')!, /not valid/)
  t.regex(validateHost(`${'a'.repeat(64)}.b`)!, /at most 63/)
})

test('plain {{name}} hosts and full Handlebars hosts render alike, and both are strict', (t) => {
  const base = {branch: 'feature/x', project: 'shop', domain: 'ci.example.com', scheme: 'http' as const}
  const plain = computeNames({...base, hosts: {a: '{{ slug }}.{{domain}}'}})
  const full = computeNames({...base, hosts: {a: '{{#if slug}}{{slug}}{{/if}}.{{domain}}'}})
  t.is(plain.hosts.a, full.hosts.a)
  for (const hosts of [{a: '{{slg}}.{{domain}}'}, {a: '{{#if slug}}{{slg}}{{/if}}.{{domain}}'}]) {
    t.throws(() => computeNames({...base, hosts}), {instanceOf: UsageError, message: /names\.hosts\.a: .*"slg" not defined/})
  }
})
