/**
 * The cluster client's HTTP/2 (src/kube/http2.ts) against the real API server: one connection for
 * many requests at once, HTTP/1.1 where the server offers no HTTP/2, DISABLE_HTTP2 says so or a
 * kubeconfig proxy-url sits between, idle connections closed, and a connection that stops
 * answering found out by a ping and replaced.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-http2.test.ts
 */
import {readFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import tls from 'node:tls'

import * as k8s from '@kubernetes/client-node'
import test from 'ava'

import {clientsFor} from '../../src/kube/client.js'
import {reuseConnections} from '../../src/kube/connections.js'
import type {Http2Options} from '../../src/kube/http2.js'
import {makeTestPki, writeKubeconfig} from '../helpers/pki.js'
import {connectProxy, freezingProxy} from '../helpers/proxies.js'
import {createTestNamespace, kube, requireKubeconfig, sleep} from '../helpers/stack.js'

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
  const pki = makeTestPki()
  const versions: string[] = []
  const server = https.createServer({key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert)}, (request, response) => {
    versions.push(request.httpVersion)
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default', uid: 'from-an-http1-server'}}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const kubeconfig = writeKubeconfig(path.join(pki.dir, 'config'), `https://127.0.0.1:${(server.address() as AddressInfo).port}`, {'insecure-skip-tls-verify': true})
  const {core} = ours({kubeconfig})
  const ns = await core.readNamespace({name: 'default'})
  t.is(ns.metadata?.uid, 'from-an-http1-server')
  await core.readNamespace({name: 'default'})
  t.deepEqual(versions, ['1.1', '1.1'])
})

test.serial('a kubeconfig proxy-url: every request goes through the proxy (CONNECT), over HTTP/1.1', async (t) => {
  const proxy = await connectProxy(t)
  const {core} = ours({kubeconfig: proxy.kubeconfig})
  const protocols = await connectionsOpenedBy(eightAtOnce(core))
  t.true(protocols.length > 0)
  t.false(protocols.includes('h2'), protocols.join(', '))
  const api = new URL(proxy.server)
  t.true(proxy.tunnels.length > 0)
  t.deepEqual([...new Set(proxy.tunnels)], [`${api.hostname}:${api.port}`])
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
