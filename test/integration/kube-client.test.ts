/**
 * The cluster client against the real API server: connections are reused across requests
 * (client-node alone opens a new TCP + TLS connection for every call).
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/kube-client.test.ts
 */
import tls from 'node:tls'

import * as k8s from '@kubernetes/client-node'
import test from 'ava'

import {reuseConnections} from '../../src/kube/client.js'
import {requireKubeconfig} from '../helpers/stack.js'

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

function coreApi(reuse: boolean): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig()
  if (reuse) reuseConnections(kc)
  kc.loadFromDefault()
  return kc.makeApiClient(k8s.CoreV1Api)
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
