import test from 'ava'

import {request} from '../../../src/images/http.js'
import {basicAuth, HttpRegistryClient} from '../../../src/images/registry.js'
import {fakeServer} from './_server.js'

const DIGEST = `sha256:${'e'.repeat(64)}`

test.serial('registry lookups and the token flow do not call fetch (its first call loads undici)', async (t) => {
  const server = await fakeServer((req, res, url) => {
    if (url.pathname === '/token') return void res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({token: 't'}))
    if (req.headers.authorization === 'Bearer t') return void res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end()
    res.writeHead(401, {'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`}).end()
  })
  t.teardown(server.close)
  const original = globalThis.fetch
  let calls = 0
  globalThis.fetch = (() => {
    calls++
    throw new Error('fetch called')
  }) as typeof fetch
  try {
    t.deepEqual(await new HttpRegistryClient({host: server.host}).manifest('ci/x', 't'), {exists: true, digest: DIGEST})
  } finally {
    globalThis.fetch = original
  }
  t.is(calls, 0)
})

test('HEAD: status, status text and headers; repeated headers joined as fetch joins them', async (t) => {
  const server = await fakeServer((_req, res) => {
    res.setHeader('WWW-Authenticate', ['Bearer realm="https://auth.example/token"', 'Basic realm="r"'])
    res.writeHead(401, 'Unauthorized').end()
  })
  t.teardown(server.close)
  const response = await request(`${server.url}/v2/`, {method: 'HEAD'})
  t.is(response.status, 401)
  t.is(response.statusText, 'Unauthorized')
  t.is(response.headers['www-authenticate'], 'Bearer realm="https://auth.example/token", Basic realm="r"')
  t.is(response.body.length, 0)
})

test('GET: the body of a 2xx answer when asked for; an error answer is drained, not returned', async (t) => {
  const server = await fakeServer((_req, res, url) => {
    if (url.pathname === '/ok') return void res.writeHead(200).end('{"token":"abc"}')
    res.writeHead(500).end('a long error page')
  })
  t.teardown(server.close)
  t.is((await request(`${server.url}/ok`, {method: 'GET', readBody: true})).body.toString(), '{"token":"abc"}')
  t.is((await request(`${server.url}/ok`, {method: 'GET'})).body.length, 0)
  const failed = await request(`${server.url}/fail`, {method: 'GET', readBody: true})
  t.is(failed.status, 500)
  t.is(failed.body.length, 0)
})

test('redirects are followed with the same method; Authorization goes along only to the same origin', async (t) => {
  const other = await fakeServer((_req, res) => res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end())
  t.teardown(other.close)
  const server = await fakeServer((_req, res, url) => {
    if (url.pathname === '/a') return void res.writeHead(307, {Location: '/b'}).end()
    if (url.pathname === '/b') return void res.writeHead(302, {Location: `${other.url}/c`}).end()
    if (url.pathname === '/loop') return void res.writeHead(301, {Location: '/loop'}).end()
    res.writeHead(404).end()
  })
  t.teardown(server.close)
  const response = await request(`${server.url}/a`, {method: 'HEAD', headers: {Authorization: 'Basic c2VjcmV0'}})
  t.is(response.status, 200)
  t.is(response.url, `${other.url}/c`)
  t.is(response.headers['docker-content-digest'], DIGEST)
  t.deepEqual(
    server.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? '-'}`),
    ['HEAD /a Basic c2VjcmV0', 'HEAD /b Basic c2VjcmV0'],
  )
  t.deepEqual(
    other.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? '-'}`),
    ['HEAD /c -'],
  )
  await t.throwsAsync(request(`${server.url}/loop`, {method: 'HEAD'}), {message: /more than 20 redirects/})
})

test('a registry that redirects the manifest lookup: followed, as fetch followed it', async (t) => {
  const creds = {username: 'ci', password: 'pw'}
  const server = await fakeServer((req, res, url) => {
    if (req.headers.authorization !== basicAuth(creds)) return void res.writeHead(401, {'WWW-Authenticate': 'Basic realm="r"'}).end()
    if (url.pathname.startsWith('/v2/')) return void res.writeHead(308, {Location: `/mirror${url.pathname}`}).end()
    res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end()
  })
  t.teardown(server.close)
  t.deepEqual(await new HttpRegistryClient({host: server.host}, {credentials: creds}).manifest('ci/x', 't'), {exists: true, digest: DIGEST})
})

test('an abort stops the request and rejects with the signal\'s reason', async (t) => {
  let closed!: () => void
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve))
  const server = await fakeServer((req) => req.socket.on('close', closed))
  t.teardown(server.close)
  const controller = new AbortController()
  const pending = request(`${server.url}/v2/`, {method: 'HEAD', signal: controller.signal})
  while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve))
  const reason = new Error('stopped')
  controller.abort(reason)
  t.is(await t.throwsAsync(pending), reason)
  await connectionClosed
  t.pass('the connection was closed')
  const already = AbortSignal.abort(reason)
  t.is(await t.throwsAsync(request(`${server.url}/v2/`, {method: 'HEAD', signal: already})), reason)
  t.is(server.requests.length, 1, 'an aborted signal sends nothing')
})

test('an answer cut off in the middle of its body is an error with a code, not a short body', async (t) => {
  const server = await fakeServer((_req, res) => {
    res.writeHead(200, {'Content-Length': '100'})
    res.write('{"tok')
    setTimeout(() => res.destroy(), 20)
  })
  t.teardown(server.close)
  await t.throwsAsync(request(`${server.url}/token`, {method: 'GET', readBody: true}), {code: 'ECONNRESET'})
})
