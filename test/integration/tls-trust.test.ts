/**
 * NODE_EXTRA_CA_CERTS through the package's command (bin/shopsys-ci, src/util/tls-trust.ts): Node
 * starts without it, and the CLI still trusts its certificates wherever Node would have — a cluster
 * whose kubeconfig names no CA — and nowhere else: a kubeconfig's own CA is trusted alone. The
 * "cluster" is a local HTTPS server with a certificate of a throw-away CA, answering `list`'s one
 * request; what is proven here is the TLS trust, not Kubernetes.
 */
import test from 'ava'
import {readFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {copyExample, runCli} from '../helpers/cli.js'
import {makeTestPki, writeKubeconfig} from '../helpers/pki.js'

const pki = makeTestPki()
const requests: string[] = []
const server = https.createServer({key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert)}, (request, response) => {
  requests.push(`${request.method} ${request.url}`)
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify({kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: []}))
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
test.after.always(() => server.close())
const port = (server.address() as AddressInfo).port

/** A kubeconfig for the server, with `ca` as its cluster's CA (none: the default CAs). */
function kubeconfig(name: string, ca?: string): string {
  return writeKubeconfig(path.join(pki.dir, `${name}.kubeconfig`), `https://127.0.0.1:${port}`, ca ? {'certificate-authority': ca} : {})
}

async function list(env: Record<string, string | undefined>) {
  const workspace = await copyExample()
  const before = requests.length
  const result = await runCli(['list', '--json'], {launcher: true, cwd: workspace, env: {WORKSPACE: workspace, DEBUG: 'shopsys-ci:tls', ...env}})
  return {...result, requests: requests.slice(before)}
}

test.serial('a cluster with no CA of its own is trusted through NODE_EXTRA_CA_CERTS, read only when the connection needs it', async (t) => {
  const result = await list({KUBECONFIG: kubeconfig('default-cas'), NODE_EXTRA_CA_CERTS: pki.ca})
  t.is(result.exitCode, 0, result.stderr)
  t.deepEqual(JSON.parse(result.stdout).environments, [])
  t.true(result.requests.some((r) => r.startsWith('GET /api/v1/namespaces?')), result.requests.join('\n'))
  t.regex(result.stderr, /NODE_EXTRA_CA_CERTS \(.*ca\.pem\) deferred/)
  t.regex(result.stderr, /added the 1 certificate\(s\) of NODE_EXTRA_CA_CERTS/)
})

test.serial('without NODE_EXTRA_CA_CERTS the same cluster is not trusted', async (t) => {
  const result = await list({KUBECONFIG: kubeconfig('default-cas'), NODE_EXTRA_CA_CERTS: undefined})
  t.not(result.exitCode, 0)
  t.regex(result.stdout + result.stderr, /certificate/i)
  t.deepEqual(result.requests, [])
})

test.serial('a kubeconfig\'s own CA is trusted alone, as by Node: the extra file does not widen it', async (t) => {
  const own = await list({KUBECONFIG: kubeconfig('own-ca', pki.ca), NODE_EXTRA_CA_CERTS: pki.otherCa})
  t.is(own.exitCode, 0, own.stderr)
  t.notRegex(own.stderr, /added the .* certificate\(s\)/)
  const wrong = await list({KUBECONFIG: kubeconfig('wrong-ca', pki.otherCa), NODE_EXTRA_CA_CERTS: pki.ca})
  t.not(wrong.exitCode, 0)
  t.regex(wrong.stdout + wrong.stderr, /certificate/i)
  t.deepEqual(wrong.requests, [])
})

test.serial('an unreadable NODE_EXTRA_CA_CERTS is warned about, as by Node, and the command goes on', async (t) => {
  const result = await list({KUBECONFIG: kubeconfig('own-ca', pki.ca), NODE_EXTRA_CA_CERTS: path.join(pki.dir, 'missing.pem')})
  t.is(result.exitCode, 0, result.stderr)
  const noCa = await list({KUBECONFIG: kubeconfig('default-cas'), NODE_EXTRA_CA_CERTS: path.join(pki.dir, 'missing.pem')})
  t.not(noCa.exitCode, 0)
  t.regex(noCa.stderr, /Ignoring extra certs from `.*missing\.pem`, load failed/)
})
