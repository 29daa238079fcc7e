/**
 * Throw-away certificates for TLS tests (openssl): two CAs, and a server certificate for 127.0.0.1
 * signed by the first; and a kubeconfig for a local server that stands in for a cluster.
 */
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {tempDir} from './tmp.js'

export interface TestPki {
  dir: string
  /** PEM file of the CA that signed the server's certificate. */
  ca: string
  /** PEM file of a CA that signed nothing here. */
  otherCa: string
  serverKey: string
  serverCert: string
}

export function makeTestPki(): TestPki {
  const dir = tempDir('shopsys-ci-pki-')
  const file = (name: string) => path.join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, {stdio: 'pipe'})
  for (const name of ['ca', 'other-ca']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=shopsys-ci test ${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`))
  }
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'))
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\n')
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('server.ext'), '-out', file('server.pem'))
  return {dir, ca: file('ca.pem'), otherCa: file('other-ca.pem'), serverKey: file('server.key'), serverCert: file('server.pem')}
}

/** Writes a kubeconfig for `server` (a token user) with `cluster`'s other fields (CA, TLS checks). */
export function writeKubeconfig(file: string, server: string, cluster: Record<string, unknown> = {}): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: 'local', cluster: {server, ...cluster}}],
    users: [{name: 'local', user: {token: 'not-a-secret'}}],
    contexts: [{name: 'local', context: {cluster: 'local', user: 'local'}}],
    'current-context': 'local',
  }
  writeFileSync(file, JSON.stringify(config))
  return file
}
