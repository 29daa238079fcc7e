import http2 from 'node:http2'

import test from 'ava'

import {streamFailure} from '../../../src/kube/http2.js'
import {mayRetry, transience} from '../../../src/kube/retry.js'

const open = {session: {destroyed: false}}
const destroyed = {session: {destroyed: true}}

test('a request aborted by its signal is an AbortError, whatever the stream said', (t) => {
  const controller = new AbortController()
  controller.abort()
  const error = streamFailure(Object.assign(new Error('stream cancelled'), {code: 'ERR_HTTP2_STREAM_CANCEL'}), controller.signal, destroyed)
  t.is(error.name, 'AbortError')
  t.is(transience(error), undefined, 'not retried')
})

test('a stream the server refused (REFUSED_STREAM) was not acted on: any request may be sent again', (t) => {
  const error = streamFailure(new Error('Stream closed with error code NGHTTP2_REFUSED_STREAM'), undefined, open, {rstCode: http2.constants.NGHTTP2_REFUSED_STREAM})
  t.is((error as {code?: string}).code, 'ERR_HTTP2_REFUSED_STREAM')
  t.is(transience(error), 'not-applied')
  t.true(mayRetry('createNamespacedConfigMap', transience(error)!))
})

test('a stream lost with its connection may have been acted on: a reset connection, reads retried, creates not', (t) => {
  for (const [cause, connection, stream] of [
    [Object.assign(new Error('no answer to a ping in 15000 ms'), {code: 'ETIMEDOUT'}), destroyed, {rstCode: http2.constants.NGHTTP2_CANCEL}],
    [Object.assign(new Error('Stream closed with error code NGHTTP2_INTERNAL_ERROR'), {code: 'ERR_HTTP2_STREAM_ERROR'}), open, {rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR}],
    [undefined, open, {rstCode: http2.constants.NGHTTP2_NO_ERROR}],
  ] as const) {
    const error = streamFailure(cause, undefined, connection, stream)
    t.is((error as {code?: string}).code, 'ECONNRESET', String(cause))
    t.regex(error.message, /^connection reset \(ECONNRESET\): /)
    t.is(transience(error), 'maybe-applied')
    t.true(mayRetry('readNamespace', 'maybe-applied'))
    t.false(mayRetry('createNamespacedConfigMap', 'maybe-applied'))
  }
})

test('a failure to connect keeps its own code (refused, a certificate): the retry layer and its messages know them', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})
  t.is(streamFailure(refused, undefined, open), refused)
  const certificate = Object.assign(new Error('self-signed certificate'), {code: 'DEPTH_ZERO_SELF_SIGNED_CERT'})
  t.is(streamFailure(certificate, undefined, open), certificate)
})
