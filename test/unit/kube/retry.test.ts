import test from 'ava'

import {ClusterCertificateError, ClusterForbiddenError, ClusterUnauthorizedError} from '../../../src/errors.js'
import {mayRetry, retryDelay, retrying, transience, withRetries} from '../../../src/kube/retry.js'

const http = (code: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP-Code: ${code}`), {code, headers})
const net = (code: string) => Object.assign(new Error(`request failed, reason: ${code}`), {code, type: 'system'})
const policy = {attempts: 4, baseDelayMs: 100, maxDelayMs: 1000}

test('which failures pass, and whether the server may have acted', (t) => {
  t.is(transience(http(429)), 'not-applied')
  t.is(transience(http(503)), 'not-applied')
  t.is(transience(http(502)), 'maybe-applied')
  t.is(transience(http(504)), 'maybe-applied')
  t.is(transience(net('ECONNREFUSED')), 'not-applied')
  t.is(transience(net('ECONNRESET')), 'maybe-applied')
  t.is(transience(new Error('request to https://127.0.0.1:6443/api failed, reason: socket hang up')), 'maybe-applied')
  for (const permanent of [http(500), http(400), http(401), http(403), http(404), http(409), http(422), new Error('invalid kubeconfig')]) t.is(transience(permanent), undefined)
})

test('only reads, lists and server-side apply are repeated when the server may have acted', (t) => {
  for (const method of ['readNamespace', 'listNamespacedPod', 'serverSideApply', 'listJSON', 'isNamespaced', 'list', 'read']) t.true(mayRetry(method, 'maybe-applied'), method)
  for (const method of ['createNamespace', 'replaceNamespacedLease', 'deleteNamespace', 'create', 'delete', 'patchNamespace']) t.false(mayRetry(method, 'maybe-applied'), method)
  for (const method of ['createNamespace', 'replaceNamespacedLease', 'deleteNamespace']) t.true(mayRetry(method, 'not-applied'), method)
})

test('delays grow exponentially up to the cap; the server\'s Retry-After wins', (t) => {
  t.deepEqual([2, 3, 4, 5, 6].map((a) => retryDelay(a, policy, http(503))), [100, 200, 400, 800, 1000])
  t.is(retryDelay(2, policy, http(429, {'retry-after': '0.5'})), 500)
  t.is(retryDelay(2, policy, http(429, {'retry-after': '120'})), 1000, 'capped')
})

test('a passing failure is retried, with a notice per retry, until it succeeds', async (t) => {
  const failures = [http(503), net('ECONNRESET')]
  const notices: string[] = []
  const waited: number[] = []
  const result = await withRetries('readNamespace', async () => {
    const next = failures.shift()
    if (next) throw next
    return 'ok'
  }, {policy, onRetry: (m) => notices.push(m), sleep: async (ms) => void waited.push(ms)})
  t.is(result, 'ok')
  t.deepEqual(waited, [100, 200])
  t.deepEqual(notices, [
    'Kubernetes API: readNamespace failed (HTTP 503); retrying in 0.1s (attempt 2 of 4)',
    'Kubernetes API: readNamespace failed (ECONNRESET); retrying in 0.2s (attempt 3 of 4)',
  ])
})

test('the last failure is thrown as it is after the last attempt; permanent ones at once', async (t) => {
  let calls = 0
  const error = await t.throwsAsync(withRetries('listNamespacedPod', async () => {
    calls++
    throw http(503)
  }, {policy, sleep: async () => {}}))
  t.is(calls, 4)
  t.is((error as unknown as {code: number}).code, 503)

  calls = 0
  await t.throwsAsync(withRetries('readNamespace', async () => {
    calls++
    throw http(404)
  }, {policy, sleep: async () => {}}))
  t.is(calls, 1)

  calls = 0
  await t.throwsAsync(withRetries('createNamespace', async () => {
    calls++
    throw net('ECONNRESET')
  }, {policy, sleep: async () => {}}))
  t.is(calls, 1, 'a create that may have happened is not sent again')
})

test('refused credentials (401) and a missing right (403) are the environment\'s problem, exit 3, naming the cluster; once, not retried', async (t) => {
  const cluster = {server: 'https://k8s.example.test:6443', context: 'ci'}
  let calls = 0
  const unauthorized = await t.throwsAsync(withRetries('listNamespace', async () => {
    calls++
    throw http(401)
  }, {policy, cluster, sleep: async () => {}}), {instanceOf: ClusterUnauthorizedError})
  t.is(calls, 1)
  t.is(unauthorized.exitCode, 3)
  t.is(unauthorized.message, 'https://k8s.example.test:6443 refused the credentials of the kubeconfig (context ci): 401 Unauthorized (listNamespace)')
  t.regex(unauthorized.suggestions.join('\n'), /kubectl --context ci auth whoami/)

  const denied = Object.assign(http(403), {body: JSON.stringify({kind: 'Status', code: 403, message: 'namespaces is forbidden: User "system:serviceaccount:ci:jenkins" cannot list resource "namespaces" in API group "" at the cluster scope'})})
  const forbidden = await t.throwsAsync(withRetries('listNamespace', async () => {
    throw denied
  }, {policy, cluster, sleep: async () => {}}), {instanceOf: ClusterForbiddenError})
  t.is(forbidden.exitCode, 3)
  t.regex(forbidden.message, /^https:\/\/k8s\.example\.test:6443 refused listNamespace: namespaces is forbidden: User "system:serviceaccount:ci:jenkins" cannot list/)
  t.regex(forbidden.suggestions.join('\n'), /auth can-i --list/)
})

test('a certificate that does not verify is exit 3 CLUSTER_CERTIFICATE, once; not "no answer"', async (t) => {
  const tls = Object.assign(new Error('request to https://k8s.example.test:6443/api failed, reason: certificate has expired'), {code: 'CERT_HAS_EXPIRED', type: 'system'})
  let calls = 0
  const error = await t.throwsAsync(withRetries('readNamespace', async () => {
    calls++
    throw tls
  }, {policy, cluster: {server: 'https://k8s.example.test:6443'}, sleep: async () => {}}), {instanceOf: ClusterCertificateError})
  t.is(calls, 1)
  t.is(error.message, 'cannot trust https://k8s.example.test:6443: its TLS certificate does not verify (readNamespace: certificate has expired)')
})

test('retrying() wraps the request methods of a client and leaves the rest alone', async (t) => {
  class FakeApi {
    calls = 0
    readonly label = 'fake'
    async readNamespace(args: {name: string}) {
      this.calls++
      if (this.calls === 1) throw http(503)
      return {name: args.name, calls: this.calls}
    }

    helper() {
      return 'sync'
    }
  }
  const api = new FakeApi()
  const wrapped = retrying(api, {policy, sleep: async () => {}})
  t.deepEqual(await wrapped.readNamespace({name: 'x'}), {name: 'x', calls: 2})
  t.is(wrapped.helper(), 'sync')
  t.is(wrapped.label, 'fake')
})
