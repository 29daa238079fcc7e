import {readdirSync} from 'node:fs'

import test from 'ava'

import type {SecureContext, SecureContextOptions} from 'node:tls'

import {CLUSTER_COMMANDS, DEFERRED_EXTRA_CA_CERTS, pemCertificates, tlsTrustPlan, withDefaultCas} from '../../../src/util/tls-trust.js'

test('a cluster command has the roots parsed aside, unless Node parsed them at start (NODE_EXTRA_CA_CERTS given to Node)', (t) => {
  t.deepEqual(tlsTrustPlan(['build'], {}), {extraCaFile: undefined, prewarmRoots: true})
  t.deepEqual(tlsTrustPlan(['build'], {NODE_EXTRA_CA_CERTS: '/etc/ca.pem'}), {extraCaFile: undefined, prewarmRoots: false})
  // Deferred by bin/shopsys-ci: Node started without it, so the roots are still to parse.
  t.deepEqual(tlsTrustPlan(['logs', 'export'], {[DEFERRED_EXTRA_CA_CERTS]: '/etc/ca.pem'}), {extraCaFile: '/etc/ca.pem', prewarmRoots: true})
})

test('a command that does not connect, or only shows its help, starts no worker; a deferred file is still taken', (t) => {
  for (const argv of [['names', '--json'], ['render'], [], ['--version'], ['build', '--help'], ['deploy', '-h']]) {
    t.false(tlsTrustPlan(argv, {}).prewarmRoots, argv.join(' '))
  }
  t.is(tlsTrustPlan(['names'], {[DEFERRED_EXTRA_CA_CERTS]: '/etc/ca.pem'}).extraCaFile, '/etc/ca.pem')
  t.is(tlsTrustPlan(['names'], {[DEFERRED_EXTRA_CA_CERTS]: ''}).extraCaFile, undefined)
})

test('every cluster command is a command (or topic) of the CLI', (t) => {
  // src/commands/<word>.ts or src/commands/<word>/…: the first word of a command's id, as oclif finds them.
  const firstWords = new Set(readdirSync(new URL('../../../src/commands/', import.meta.url)).map((name) => name.replace(/\.ts$/, '')))
  for (const command of CLUSTER_COMMANDS) t.true(firstWords.has(command), command)
})

test('the certificates of a PEM file, in order, without what lies between them', (t) => {
  const a = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
  const b = '-----BEGIN CERTIFICATE-----\r\nBBBB\r\n-----END CERTIFICATE-----'
  t.deepEqual(pemCertificates(`# bundle\n${a}\nsubject=CN b\n${b}\n`), [a, b])
  t.deepEqual(pemCertificates('-----BEGIN PRIVATE KEY-----\nKKKK\n-----END PRIVATE KEY-----\n'), [])
  t.deepEqual(pemCertificates(''), [])
})

/** withDefaultCas over a fake `createSecureContext` that records what it was asked for. */
function fakeContexts() {
  const made: SecureContextOptions[] = []
  const create = withDefaultCas(
    (options?: SecureContextOptions) => {
      made.push(options ?? {})
      return {context: made.length} as unknown as SecureContext
    },
    () => ['ROOT', 'EXTRA'],
  )
  return {create, made}
}

test('a context without a ca of its own gets the default CAs; one with a ca keeps it alone', (t) => {
  const {create, made} = fakeContexts()
  create({ca: 'OWN', servername: 'a'} as SecureContextOptions)
  create({servername: 'b'} as SecureContextOptions)
  t.deepEqual(made.map((o) => o.ca), ['OWN', ['ROOT', 'EXTRA']])
})

test('contexts of the same plain options are made once (each would parse the CAs again); others anew', (t) => {
  const {create, made} = fakeContexts()
  const first = create({ciphers: 'DEFAULT', servername: 'a'} as SecureContextOptions)
  t.is(create({ciphers: 'DEFAULT', servername: 'b'} as SecureContextOptions), first)
  t.not(create({ciphers: 'HIGH'}), first)
  // Certificates and keys are not compared: such a context is always made anew.
  create({cert: Buffer.from('C'), key: Buffer.from('K')})
  create({cert: Buffer.from('C'), key: Buffer.from('K')})
  t.is(made.length, 4)
  t.true(made.every((o) => Array.isArray(o.ca)))
})
