/**
 * The cluster client's HTTP/2 (src/kube/http2.ts) against the real API server: one connection for
 * many requests at once, HTTP/1.1 where the server offers no HTTP/2, DISABLE_HTTP2 says so or a
 * kubeconfig proxy-url sits between, idle connections closed, and a connection that stops
 * answering found out by a ping and replaced.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-http2.test.ts
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import tls from 'node:tls'

import * as k8s from '@kubernetes/client-node'
import test from 'ava'

import {clientsFor} from '../../src/kube/client.js'
import {reuseConnections} from '../../src/kube/connections.js'
import type {Http2Options} from '../../src/kube/http2.js'
import {freezingProxy} from '../helpers/proxies.js'
import {createTestNamespace, kube, requireKubeconfig, sleep} from '../helpers/stack.js'
import {tempDir} from '../helpers/tmp.js'

test.before(() => {
  requireKubeconfig()
})

/** The TLS connections opened while `fn` runs, with the protocol each agreed on (ALPN). */
async function connectionsOpenedBy(fn: () => Promise<unknown>): Promise<Array<string | false>> {
  const sockets: tls.TLSSocket[] = []
  const connect = tls.connect
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    const socket = connect(...args)
    sockets.push(socket)
    return socket
  }) as typeof tls.connect
  try {
    await fn()
  } finally {
    tls.connect = connect
  }
  return sockets.map((s) => s.alpnProtocol ?? false)
}

function ours(options: {http2?: Http2Options; env?: NodeJS.ProcessEnv; kubeconfig?: string} = {}) {
  const kc = new k8s.KubeConfig()
  reuseConnections(kc)
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig)
  else kc.loadFromDefault()
  const clients = clientsFor(k8s, kc, {http2: options.http2, env: options.env ?? {}})
  return clients
}

const eightAtOnce = (core: {readNamespace(p: {name: string}): Promise<unknown>}) => () => Promise.all(Array.from({length: 8}, () => core.readNamespace({name: 'default'})))

test.serial('eight requests at once go over one HTTP/2 connection', async (t) => {
  const {core} = ours()
  t.deepEqual(await connectionsOpenedBy(eightAtOnce(core)), ['h2'])
  t.deepEqual(await connectionsOpenedBy(eightAtOnce(core)), [], 'and the next ones over the same')
})

test.serial('DISABLE_HTTP2, as for kubectl: HTTP/1.1, a connection per request in flight', async (t) => {
  const {core} = ours({env: {DISABLE_HTTP2: 'true'}})
  const opened = await connectionsOpenedBy(eightAtOnce(core))
  t.is(opened.length, 8)
  t.true(opened.every((protocol) => protocol !== 'h2'))
})

test.serial('a server that offers no HTTP/2 is asked over HTTP/1.1', async (t) => {
  const dir = tempDir('shopsys-ci-h1-')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], {stdio: 'ignore'})
  const versions: string[] = []
  const server = https.createServer({key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem'))}, (request, response) => {
    versions.push(request.httpVersion)
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default', uid: 'from-an-http1-server'}}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const kubeconfig = path.join(dir, 'config')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'h1', cluster: {server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true}}],
      users: [{name: 'h1', user: {token: 'not-a-secret'}}],
      contexts: [{name: 'h1', context: {cluster: 'h1', user: 'h1'}}],
      'current-context': 'h1',
    }),
  )
  const {core} = ours({kubeconfig})
  const ns = await core.readNamespace({name: 'default'})
  t.is(ns.metadata?.uid, 'from-an-http1-server')
  await core.readNamespace({name: 'default'})
  t.deepEqual(versions, ['1.1', '1.1'])
})

test.serial('a kubeconfig proxy-url: every request goes through the proxy (CONNECT), over HTTP/1.1', async (t) => {
  // An HTTP proxy as a corporate network has one: CONNECT host:port, then a tunnel.
  const tunnels: string[] = []
  const proxy = http.createServer((_request, response) => response.writeHead(405).end())
  proxy.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    const [host, port] = (request.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => proxy.close())
  const real = new k8s.KubeConfig()
  real.loadFromDefault()
  const config = JSON.parse(real.exportConfig()) as {clusters: Array<{cluster: Record<string, unknown>}>}
  for (const c of config.clusters) c.cluster['proxy-url'] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const file = path.join(tempDir('shopsys-ci-proxy-url-'), 'kubeconfig')
  writeFileSync(file, JSON.stringify(config))

  const {core} = ours({kubeconfig: file})
  const protocols = await connectionsOpenedBy(eightAtOnce(core))
  t.true(protocols.length > 0)
  t.false(protocols.includes('h2'), protocols.join(', '))
  const api = new URL(real.getCurrentCluster()!.server)
  t.true(tunnels.length > 0)
  t.deepEqual([...new Set(tunnels)], [`${api.hostname}:${api.port}`])
})

test.serial('a connection idle for longer than idleMs is closed; the next request opens a new one', async (t) => {
  const {core} = ours({http2: {idleMs: 300}})
  t.deepEqual(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), ['h2'])
  t.deepEqual(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), [], 'reused while fresh')
  await sleep(900)
  t.deepEqual(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), ['h2'], 'the idle one was closed')
})

test.serial('a connection that goes silent under a request is pinged, given up, and the read sent again on a new one', async (t) => {
  const proxy = await freezingProxy(t)
  const namespace = await createTestNamespace(t, kube(), 'h2-frozen')
  await kube().core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'there'}, data: {a: 'b'}}})
  const {core} = ours({kubeconfig: proxy.kubeconfig, http2: {idleMs: 300, pingTimeoutMs: 300}})
  await core.readNamespace({name: 'default'})
  proxy.freeze() // the open connection now carries nothing either way, and is never closed
  const opened = await connectionsOpenedBy(async () => {
    const read = await core.readNamespacedConfigMap({name: 'there', namespace})
    t.is(read.data?.a, 'b')
  })
  t.deepEqual(opened, ['h2'], 'one new connection, after the silent one was given up')
})

test.serial('many log streams and requests share the connection; a log the API refuses reads as its Status', async (t) => {
  const {core, openStream} = ours()
  const namespace = await createTestNamespace(t, kube(), 'h2-logs')
  const opened = await connectionsOpenedBy(async () => {
    const answers = await Promise.all(Array.from({length: 4}, () => openStream(`/api/v1/namespaces/${namespace}/pods/nope/log`, {container: 'app'})))
    for (const answer of answers) {
      t.is(answer?.status, 404)
      const status = JSON.parse(Buffer.concat(await answer!.body.toArray()).toString('utf8')) as {kind: string; message: string}
      t.is(status.kind, 'Status')
      t.regex(status.message, /pods "nope" not found/)
    }
    await core.readNamespace({name: namespace})
  })
  t.deepEqual(opened, ['h2'])
})
