import test from 'ava'

import {agentKey, sharedSecureContext} from '../../../src/kube/connections.js'

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
