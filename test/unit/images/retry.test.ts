import test from 'ava'

import {backoffDelay, backoffSchedule, classifyDockerFailure, DEFAULT_RETRY, TransientError, withRetry} from '../../../src/images/retry.js'

test('default policy: 3 attempts, exponential backoff', (t) => {
  t.is(DEFAULT_RETRY.attempts, 3)
  t.deepEqual(backoffSchedule(DEFAULT_RETRY), [1000, 2000])
  t.deepEqual(backoffSchedule({attempts: 5, baseDelayMs: 100, factor: 3, maxDelayMs: 1000}), [100, 300, 900, 1000])
  t.is(backoffDelay({attempts: 9, baseDelayMs: 10, factor: 2, maxDelayMs: 50}, 10), 50)
})

test('withRetry retries transient failures with the schedule, then rethrows with attempts', async (t) => {
  const slept: number[] = []
  let calls = 0
  const error = await t.throwsAsync(
    withRetry(
      async () => {
        calls++
        throw new TransientError('connection refused')
      },
      {policy: {attempts: 3, baseDelayMs: 10, factor: 2, maxDelayMs: 1000}, sleep: async (ms) => void slept.push(ms)},
    ),
    {instanceOf: TransientError},
  )
  t.is(calls, 3)
  t.deepEqual(slept, [10, 20])
  t.is((error as unknown as {attempts: number}).attempts, 3)
})

test('withRetry: success after a transient failure; permanent failures are not retried', async (t) => {
  let calls = 0
  const value = await withRetry(
    async (attempt) => {
      calls++
      if (attempt < 2) throw new TransientError('EOF')
      return 'ok'
    },
    {sleep: async () => {}},
  )
  t.is(value, 'ok')
  t.is(calls, 2)

  calls = 0
  await t.throwsAsync(
    withRetry(
      async () => {
        calls++
        throw new Error('unauthorized')
      },
      {sleep: async () => {}},
    ),
    {message: 'unauthorized'},
  )
  t.is(calls, 1)
})

test('classifyDockerFailure: authentication is never retried', (t) => {
  t.is(classifyDockerFailure('Error response from daemon: Get "http://127.0.0.1:1/v2/": unauthorized: authentication required'), 'auth')
  t.is(classifyDockerFailure('Error response from daemon: login attempt to http://r/v2/ failed with status: 401 Unauthorized'), 'auth')
  t.is(classifyDockerFailure('denied: requested access to the resource is denied'), 'auth')
  t.is(classifyDockerFailure('An image does not exist locally with the tag: r/u/x'), 'permanent')
  t.is(classifyDockerFailure('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'), 'transient')
  t.is(classifyDockerFailure('received unexpected HTTP status: 503 Service Unavailable'), 'transient')
})

test('classifyDockerFailure: a TLS failure is its own kind, also when the message mentions authority or authentication', (t) => {
  t.is(classifyDockerFailure('Error response from daemon: Get "https://r.test/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority'), 'tls')
  t.is(classifyDockerFailure('Get "https://r.test/v2/": x509: certificate has expired or is not yet valid'), 'tls')
  t.is(classifyDockerFailure('Error response from daemon: Get "https://r.test:5000/v2/": http: server gave HTTP response to HTTPS client'), 'tls')
  t.is(classifyDockerFailure('Get "https://r.test/v2/": remote error: tls: handshake failure (authentication required)'), 'tls')
})
