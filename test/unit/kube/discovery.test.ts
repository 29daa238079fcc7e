import * as k8s from '@kubernetes/client-node'
import test from 'ava'

import {clientsFor} from '../../../src/kube/client.js'
import {fakeServer} from '../images/_server.js'

/** An API server that knows two kinds of one apiVersion and answers slowly, like a busy one. */
async function discoveryServer() {
  return fakeServer((req, res, url) => {
    const body = url.pathname === '/apis/apps/v1'
      ? {kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{name: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['get']}, {name: 'statefulsets', kind: 'StatefulSet', namespaced: true, verbs: ['get']}]}
      : undefined
    setTimeout(() => {
      res.writeHead(body ? 200 : 404, {'content-type': 'application/json'})
      res.end(JSON.stringify(body ?? {kind: 'Status', code: 404}))
    }, 50)
  })
}

function kubeFor(server: string) {
  const kc = new k8s.KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'fake', server, skipTLSVerify: true}],
    users: [{name: 'fake'}],
    contexts: [{name: 'fake', cluster: 'fake', user: 'fake'}],
    currentContext: 'fake',
  })
  return clientsFor(k8s, kc)
}

test('kinds of one apiVersion asked for at once fetch its resource list once', async (t) => {
  const server = await discoveryServer()
  t.teardown(server.close)
  const kube = kubeFor(server.url)
  const answers = await Promise.all([kube.isNamespaced('apps/v1', 'Deployment'), kube.isNamespaced('apps/v1', 'StatefulSet'), kube.isNamespaced('apps/v1', 'Deployment')])
  t.deepEqual(answers, [true, true, true])
  t.deepEqual(server.requests.map((r) => r.path), ['/apis/apps/v1'])
  // A kind missing from the list is looked up again (the client's own rule: a CRD may have just
  // been installed), and is unknown.
  t.is(await kube.isNamespaced('apps/v1', 'Unknown'), undefined)
})

test('an apiVersion the server does not serve is unknown, asked at once or not', async (t) => {
  const server = await discoveryServer()
  t.teardown(server.close)
  const kube = kubeFor(server.url)
  t.deepEqual(await Promise.all([kube.isNamespaced('example.com/v1', 'Widget'), kube.isNamespaced('example.com/v1', 'Gadget')]), [undefined, undefined])
  t.is(await kube.isNamespaced('example.com/v1', 'Widget'), undefined)
})
