import test from 'ava'

import {agentKey, reuseTlsOptions, sharedSecureContext} from '../../../src/kube/connections.js'

const cluster = {server: 'https://127.0.0.1:6443'}
const pem = (text: string) => Buffer.from(`-----BEGIN CERTIFICATE-----\n${text}\n-----END CERTIFICATE-----\n`)

test('the same credentials in new Buffers share an agent (client-node decodes them anew for every request)', (t) => {
  t.is(agentKey(cluster, {ca: pem('ca'), cert: pem('client'), key: pem('key')}), agentKey(cluster, {ca: pem('ca'), cert: pem('client'), key: pem('key')}))
})

test('a rotated client certificate, another CA or another server gets its own agent', (t) => {
  const base = agentKey(cluster, {ca: pem('ca'), cert: pem('client'), key: pem('key')})
  t.not(agentKey(cluster, {ca: pem('ca'), cert: pem('client-2'), key: pem('key')}), base)
  t.not(agentKey(cluster, {ca: pem('ca-2'), cert: pem('client'), key: pem('key')}), base)
  t.not(agentKey({server: 'https://127.0.0.1:7443'}, {ca: pem('ca'), cert: pem('client'), key: pem('key')}), base)
  t.not(agentKey(cluster, {ca: pem('ca'), cert: pem('client'), key: pem('key'), rejectUnauthorized: false}), base)
})

test('a Buffer and the same bytes as a string are different options to TLS, and keys', (t) => {
  t.not(agentKey(cluster, {ca: pem('ca')}), agentKey(cluster, {ca: pem('ca').toString()}))
})

test('a list of CAs is keyed by the content of each', (t) => {
  t.is(agentKey(cluster, {ca: [pem('a'), pem('b')]}), agentKey(cluster, {ca: [pem('a'), pem('b')]}))
  t.not(agentKey(cluster, {ca: [pem('a'), pem('b')]}), agentKey(cluster, {ca: [pem('a'), pem('c')]}))
})

test('a view into a larger buffer is keyed by its own bytes only', (t) => {
  const pool = Buffer.concat([Buffer.from('xxxx'), pem('ca'), Buffer.from('yyyy')])
  const view = pool.subarray(4, pool.length - 4)
  t.is(agentKey(cluster, {ca: view}), agentKey(cluster, {ca: pem('ca')}))
})

test('a shared TLS context only where there is TLS material of the kubeconfig and none given', (t) => {
  t.deepEqual(sharedSecureContext({}), {}, 'a plain http server, or a token only: Node\'s default context')
  const given = {secureContext: {}}
  t.deepEqual(sharedSecureContext({...given, ca: 'x'}), {})
  t.truthy(sharedSecureContext({rejectUnauthorized: false, ca: Buffer.from('')}).secureContext)
})

test('the kubeconfig\'s certificates are read once per TLS_OPTIONS_TTL_MS, not for every request; impersonation headers are merged', (t) => {
  let reads = 0
  let clock = 1000
  const kc = {
    applyHTTPSOptions(opts: Record<string, unknown>) {
      reads++
      opts.ca = Buffer.from(`ca ${reads}`)
      opts.headers = {...(opts.headers as object | undefined), 'Impersonate-User': 'ci'}
    },
  }
  reuseTlsOptions(kc as never, {ttlMs: 10_000, now: () => clock})
  const first: Record<string, unknown> = {}
  kc.applyHTTPSOptions(first)
  const second: Record<string, unknown> = {headers: {Accept: 'application/json'}}
  kc.applyHTTPSOptions(second)
  t.is(reads, 1)
  t.is(second.ca, first.ca, 'the same Buffer: agentKey encodes it once')
  t.deepEqual(second.headers, {Accept: 'application/json', 'Impersonate-User': 'ci'})
  clock += 10_000
  const later: Record<string, unknown> = {}
  kc.applyHTTPSOptions(later)
  t.is(reads, 2, 'read again after the TTL: a rotated certificate file is picked up')
  t.is(String(later.ca), 'ca 2')
})
