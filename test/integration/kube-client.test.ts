/**
 * The cluster client against the real API server: connections are reused across requests
 * (client-node alone opens a new TCP + TLS connection for every call) and closed when idle, and a
 * request whose connection is reset (an API server restarting) is retried when that is harmless.
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-client.test.ts
 */
import tls from 'node:tls'

import * as k8s from '@kubernetes/client-node'
import test from 'ava'

import {ClusterUnreachableError} from '../../src/errors.js'
import {clientsFor} from '../../src/kube/client.js'
import {reuseConnections} from '../../src/kube/connections.js'
import {ListWatcher} from '../../src/kube/watch.js'
import {clientsThrough, freezingProxy, resettingProxy} from '../helpers/proxies.js'
import {createTestNamespace, kube, requireKubeconfig, sleep, waitFor} from '../helpers/stack.js'

test.before(() => {
  requireKubeconfig()
})

/** How many TLS connections are opened while `fn` runs (https agents call `tls.connect` per connection). */
async function connectionsOpenedBy(fn: () => Promise<unknown>): Promise<number> {
  let opened = 0
  const connect = tls.connect
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    opened++
    return connect(...args)
  }) as typeof tls.connect
  try {
    await fn()
  } finally {
    tls.connect = connect
  }
  return opened
}

function kubeConfig(reuse: boolean, idleMs?: number): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  if (reuse) reuseConnections(kc, {idleMs})
  kc.loadFromDefault()
  return kc
}

function coreApi(reuse: boolean, idleMs?: number): k8s.CoreV1Api {
  return kubeConfig(reuse, idleMs).makeApiClient(k8s.CoreV1Api)
}

const fiveRequests = (core: k8s.CoreV1Api) => async () => {
  for (let i = 0; i < 5; i++) await core.readNamespace({name: 'default'})
}

test.serial('five requests one after another share one connection', async (t) => {
  t.is(await connectionsOpenedBy(fiveRequests(coreApi(true))), 1)
})

test.serial('without reuseConnections client-node opens one per request (what the patch is for)', async (t) => {
  // If a client-node upgrade starts reusing connections by itself, this fails: drop the patch then.
  t.is(await connectionsOpenedBy(fiveRequests(coreApi(false))), 5)
})

test.serial('connections opened at once share one TLS context: the CA and the client key are parsed once, not per connection', async (t) => {
  const contexts: unknown[] = []
  const connect = tls.connect
  tls.connect = ((options: tls.ConnectionOptions, ...rest: unknown[]) => {
    contexts.push(options.secureContext)
    return (connect as (...a: unknown[]) => tls.TLSSocket)(options, ...rest)
  }) as typeof tls.connect
  try {
    const core = coreApi(true)
    await Promise.all(Array.from({length: 4}, () => core.readNamespace({name: 'default'})))
  } finally {
    tls.connect = connect
  }
  t.is(contexts.length, 4, 'four requests at once open four connections')
  t.truthy(contexts[0])
  t.is(new Set(contexts).size, 1)
})

test.serial('a connection idle for longer than idleMs is closed; the next request opens a new one', async (t) => {
  const core = coreApi(true, 300)
  t.is(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), 1)
  t.is(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), 0, 'reused while fresh')
  await sleep(900)
  t.is(await connectionsOpenedBy(() => core.readNamespace({name: 'default'})), 1, 'the idle one was closed')
})

test.serial('a quiet watch outlives the idle limit: only pooled connections time out', async (t) => {
  const kc = kubeConfig(true, 200)
  const core = kc.makeApiClient(k8s.CoreV1Api)
  const namespace = await createTestNamespace(t, {core}, 'idle-watch')
  // A request first, so the watch takes a connection that was pooled (and had the idle timeout).
  await core.listNamespacedConfigMap({namespace})
  const seen: string[] = []
  let ended: unknown = 'still running'
  const request = await new k8s.Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    {},
    (type, obj: {metadata?: {name?: string}}) => seen.push(`${type} ${obj.metadata?.name}`),
    (error) => (ended = error ?? 'ended'),
  )
  t.teardown(() => request.abort())
  await sleep(1000) // five times the idle limit without an event
  await core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'late'}, data: {a: 'b'}}})
  await waitFor('the watch to see the new ConfigMap', () => seen.includes('ADDED late'), {timeoutMs: 10_000})
  t.is(ended, 'still running')
})

test.serial('a read whose connections are reset is retried until it gets through', async (t) => {
  const proxy = await resettingProxy(t)
  const reader = clientsThrough(proxy.kubeconfig)
  proxy.resetNext(2)
  const ns = await reader.core.readNamespace({name: 'default'})
  t.is(ns.metadata?.name, 'default')
  t.is(proxy.resetsDone(), 2)
})

test.serial('server-side apply is retried too; a create that may have happened is not', async (t) => {
  const proxy = await resettingProxy(t)
  const namespace = await createTestNamespace(t, kube(), 'retry')
  // A new client for each request below, so each opens a new connection (which the proxy resets).
  const applier = clientsThrough(proxy.kubeconfig)
  proxy.resetNext(1)
  await applier.serverSideApply({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'applied', namespace}, data: {a: 'b'}})
  t.is((await kube().core.readNamespacedConfigMap({name: 'applied', namespace})).data?.a, 'b')
  t.is(proxy.resetsDone(), 1)

  const fresh = clientsThrough(proxy.kubeconfig)
  proxy.resetNext(1)
  const error = await t.throwsAsync(fresh.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'created'}}}), {instanceOf: ClusterUnreachableError})
  t.regex(error.message, /^no answer from https:\/\/127\.0\.0\.1:\d+ \(createNamespacedConfigMap: .*(ECONNRESET|socket hang up)[^;]*\)$/, 'one attempt: no count')
  t.is(proxy.resetsDone(), 2, 'one attempt only')
})

test.serial('a watch whose connection goes silent is reopened and catches up from its resourceVersion', async (t) => {
  const proxy = await freezingProxy(t)
  const namespace = await createTestNamespace(t, kube(), 'silent-watch')
  const through = clientsThrough(proxy.kubeconfig)
  const watcher = new ListWatcher(through, {
    kind: 'ConfigMap',
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    list: () => through.core.listNamespacedConfigMap({namespace}) as never,
    onChange: () => {},
    silenceMs: 1500,
  })
  await watcher.start()
  t.teardown(() => watcher.stop())
  await sleep(300)
  proxy.freeze() // the watch's connection now carries nothing, and is never closed
  await kube().core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'after-the-freeze'}}})
  await waitFor('the reopened watch to see the ConfigMap', () => watcher.items.some((o) => o.metadata?.name === 'after-the-freeze'), {timeoutMs: 15_000})
  t.pass()
})

test.serial('server-side apply answers with the object as plain JSON; a refused apply is still the client\'s ApiException', async (t) => {
  const namespace = await createTestNamespace(t, kube(), 'apply-json')
  const kc = new k8s.KubeConfig()
  kc.loadFromDefault()
  const ours = clientsFor(k8s, kc)
  const applied = await ours.serverSideApply({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace}, spec: {selector: {matchLabels: {app: 'web'}}, template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'app', image: 'x'}]}}}})
  // Not the client's V1Deployment with Date fields: what the API server sent.
  t.is(Object.getPrototypeOf(applied), Object.prototype)
  const metadata = applied.metadata as {resourceVersion?: string; creationTimestamp?: unknown; managedFields?: Array<{manager: string; time: unknown}>}
  t.regex(metadata.resourceVersion ?? '', /^\d+$/)
  t.is(typeof metadata.creationTimestamp, 'string')
  t.like(metadata.managedFields?.[0], {manager: 'shopsys-ci'})
  t.is(typeof metadata.managedFields?.[0].time, 'string')
  const error = await t.throwsAsync(ours.serverSideApply({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'bad', namespace, labels: {a: '-not a label value-'}}, data: {a: 'b'}}))
  t.true(error instanceof k8s.ApiException, String(error))
  t.is((error as k8s.ApiException<unknown>).code, 422, JSON.stringify((error as k8s.ApiException<unknown>).body))
})
