import test from 'ava'

import {RegistryError} from '../../../src/errors.js'
import {basicAuth, HttpRegistryClient, MANIFEST_ACCEPT} from '../../../src/images/registry.js'
import {fakeServer, selfSignedServer, unusedPort} from './_server.js'

const DIGEST = `sha256:${'d'.repeat(64)}`
const FAST = {attempts: 3, baseDelayMs: 5, factor: 2, maxDelayMs: 50}
const creds = {username: 'ci', password: 'S3cret-unique-pw'}

test('Basic: 401 challenge, then HEAD with credentials; 200 with digest = exists', async (t) => {
  const server = await fakeServer((req, res, url) => {
    if (req.headers.authorization !== basicAuth(creds)) {
      res.writeHead(401, {'WWW-Authenticate': 'Basic realm="test"'}).end()
      return
    }
    if (url.pathname === '/v2/ci/php-fpm/manifests/ci-commit-1') res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end()
    else res.writeHead(404).end()
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {credentials: creds, retry: FAST})
  t.is(client.baseUrl, server.url)
  t.deepEqual(await client.manifest('ci/php-fpm', 'ci-commit-1'), {exists: true, digest: DIGEST})
  t.deepEqual(await client.manifest('ci/php-fpm', 'ci-commit-2'), {exists: false})
  // The first request is challenged once; later requests send the credentials straight away.
  t.deepEqual(
    server.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ? 'auth' : 'anon'}`),
    ['HEAD /v2/ci/php-fpm/manifests/ci-commit-1 anon', 'HEAD /v2/ci/php-fpm/manifests/ci-commit-1 auth', 'HEAD /v2/ci/php-fpm/manifests/ci-commit-2 auth'],
  )
  t.is(server.requests[0].headers.accept, MANIFEST_ACCEPT)
  t.regex(MANIFEST_ACCEPT, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/)
  t.regex(MANIFEST_ACCEPT, /application\/vnd\.oci\.image\.index\.v1\+json/)
  t.regex(MANIFEST_ACCEPT, /application\/vnd\.oci\.image\.manifest\.v1\+json/)
})

test('parallel lookups all challenged at once still authenticate', async (t) => {
  const server = await fakeServer((req, res) => {
    if (req.headers.authorization !== basicAuth(creds)) res.writeHead(401, {'WWW-Authenticate': 'Basic realm="test"'}).end()
    else res.writeHead(404).end()
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {credentials: creds, retry: FAST})
  const results = await Promise.all(['a', 'b', 'c'].map((n) => client.manifest(`ci/${n}`, 't')))
  t.deepEqual(results, [{exists: false}, {exists: false}, {exists: false}])
})

test('Basic: wrong password → RegistryError (exit 5), not retried, password never in the message', async (t) => {
  const server = await fakeServer((_req, res) => res.writeHead(401, {'WWW-Authenticate': 'Basic realm="test"'}).end())
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {credentials: creds, retry: FAST})
  const error = await t.throwsAsync(client.manifest('ci/php-fpm', 't'), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, /authentication refused for user "ci"/)
  t.true(error.suggestions.some((s) => /DOCKER_PASSWORD/.test(s)))
  t.is(server.requests.length, 2)
  t.false(JSON.stringify({m: error.message, s: error.suggestions}).includes(creds.password))
})

test('no credentials and a registry that wants them → exit 5 saying so', async (t) => {
  const server = await fakeServer((_req, res) => res.writeHead(401, {'WWW-Authenticate': 'Basic realm="test"'}).end())
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {retry: FAST})
  await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError, message: /anonymous access.*no credentials/})
})

test('Bearer: token flow with realm, service and scope (Docker Hub style)', async (t) => {
  let tokenRequests = 0
  const server = await fakeServer((req, res, url) => {
    if (url.pathname === '/token') {
      tokenRequests++
      t.is(url.searchParams.get('service'), 'fake-registry')
      t.is(url.searchParams.get('scope'), 'repository:ci/php-fpm:pull')
      if (req.headers.authorization !== basicAuth(creds)) return void res.writeHead(401).end()
      res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({token: 'tok-1', expires_in: 300}))
      return
    }
    if (req.headers.authorization === 'Bearer tok-1') {
      if (url.pathname.endsWith('/manifests/present')) res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end()
      else res.writeHead(404).end()
      return
    }
    const realm = `http://${req.headers.host}/token`
    res.writeHead(401, {'WWW-Authenticate': `Bearer realm="${realm}",service="fake-registry",scope="repository:ci/php-fpm:pull"`}).end()
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({}, {baseUrl: server.url, credentials: creds, retry: FAST})
  t.is(client.displayName, 'Docker Hub')
  t.deepEqual(await client.manifest('ci/php-fpm', 'present'), {exists: true, digest: DIGEST})
  t.deepEqual(await client.manifest('ci/php-fpm', 'absent'), {exists: false})
  t.is(tokenRequests, 1, 'the token is cached per scope')
})

test('Bearer: anonymous token (no credentials) and access_token field', async (t) => {
  const server = await fakeServer((req, res, url) => {
    if (url.pathname === '/token') {
      t.is(req.headers.authorization, undefined)
      return void res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({access_token: 'anon'}))
    }
    if (req.headers.authorization === 'Bearer anon') return void res.writeHead(404).end()
    res.writeHead(401, {'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`}).end()
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {retry: FAST})
  t.deepEqual(await client.manifest('library/x', 't'), {exists: false})
  t.true(server.requests.some((r) => r.path === '/token?service=s&scope=repository%3Alibrary%2Fx%3Apull'))
})

test('Bearer: token service refuses the credentials → exit 5', async (t) => {
  const server = await fakeServer((req, res, url) => {
    if (url.pathname === '/token') return void res.writeHead(401).end()
    res.writeHead(401, {'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`}).end()
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {credentials: creds, retry: FAST})
  await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError, message: /token service .* refused the credentials/})
})

test('403 → exit 5; 5xx is retried and can recover', async (t) => {
  let calls = 0
  const server = await fakeServer((_req, res, url) => {
    if (url.pathname.includes('forbidden')) return void res.writeHead(403).end()
    calls++
    if (calls < 3) return void res.writeHead(503).end()
    res.writeHead(200, {'Docker-Content-Digest': DIGEST}).end()
  })
  t.teardown(server.close)
  const retries: string[] = []
  const client = new HttpRegistryClient({host: server.host}, {retry: FAST, onRetry: (m) => retries.push(m)})
  await t.throwsAsync(client.manifest('ci/forbidden', 't'), {instanceOf: RegistryError, message: /403/})
  t.deepEqual(await client.manifest('ci/x', 't'), {exists: true, digest: DIGEST})
  t.is(calls, 3)
  t.is(retries.length, 2)
  t.regex(retries[0], /attempt 2 of 3/)
})

test('a registry that keeps answering 500: retried, then exit 5 saying it answered, not that it is unreachable', async (t) => {
  const server = await fakeServer((_req, res) => res.writeHead(500).end())
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {retry: FAST})
  const error = await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.regex(error.message, new RegExp(`^registry ${server.host.replace(/\./g, '\\.')} kept failing while checking ci/x:t: .*answered HTTP 500 Internal Server Error \\(3 attempts\\)$`))
  t.notRegex(error.message, /unreachable/)
  t.true(error.suggestions.some((s) => s.includes("registry's own log")))
  t.is(server.requests.length, 3)
})

test('unreachable registry: retried, then exit 5 naming the registry and what to check', async (t) => {
  const port = await unusedPort()
  const retries: string[] = []
  const client = new HttpRegistryClient({host: `127.0.0.1:${port}`}, {credentials: creds, retry: FAST, onRetry: (m) => retries.push(m)})
  const error = await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, new RegExp(`registry 127\\.0\\.0\\.1:${port} is unreachable.*ECONNREFUSED.*3 attempts`))
  t.true(error.suggestions.some((s) => s.includes('DOCKER_REGISTRY')))
  t.is(retries.length, 2)
})

test('a registry that hangs times out per request', async (t) => {
  const server = await fakeServer(() => {
    // never answers
  })
  t.teardown(server.close)
  const client = new HttpRegistryClient({host: server.host}, {retry: {...FAST, attempts: 1}, timeoutMs: 200})
  await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError, message: /no answer within 200 ms/})
})

test('a registry certificate that does not verify: exit 5 at once, not retried as "unreachable", saying what to trust', async (t) => {
  const server = await selfSignedServer((_req, res) => res.writeHead(200).end())
  t.teardown(server.close)
  const retries: string[] = []
  const client = new HttpRegistryClient({host: 'registry.test:5000'}, {baseUrl: server.url, credentials: creds, retry: FAST, onRetry: (m) => retries.push(m)})
  const error = await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, /cannot trust registry registry\.test:5000: its TLS certificate does not verify at https:\/\/127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT/)
  t.notRegex(error.message, /unreachable/)
  t.true(error.suggestions.some((s) => s.includes('NODE_EXTRA_CA_CERTS')))
  t.deepEqual(retries, [])
  t.is(server.requests.length, 0, 'no request got through the handshake')
})

test('a registry that does not speak TLS on its HTTPS port: exit 5 at once, naming the port', async (t) => {
  const server = await fakeServer((_req, res) => res.writeHead(200).end())
  t.teardown(server.close)
  const retries: string[] = []
  const client = new HttpRegistryClient({host: 'registry.test:5000'}, {baseUrl: `https://${server.host}`, retry: FAST, onRetry: (m) => retries.push(m)})
  const error = await t.throwsAsync(client.manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.regex(error.message, /registry registry\.test:5000 does not speak TLS at https:\/\/127\.0\.0\.1:\d+ \(ERR_SSL_WRONG_VERSION_NUMBER/)
  t.true(error.suggestions.some((s) => s.includes('DOCKER_REGISTRY')))
  t.deepEqual(retries, [])
})

test('failure codes are read on the error (node:https), on its cause (fetch style) and in an AggregateError (every address refused)', async (t) => {
  const failing = (error: unknown) => new HttpRegistryClient({host: 'registry.test:5000'}, {retry: {...FAST, attempts: 1}, request: () => Promise.reject(error)})
  const expired = await t.throwsAsync(failing(Object.assign(new Error('certificate has expired'), {code: 'CERT_HAS_EXPIRED'})).manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.regex(expired.message, /cannot trust registry registry\.test:5000: its TLS certificate does not verify at https:\/\/registry\.test:5000 \(CERT_HAS_EXPIRED: certificate has expired\)$/)
  const wrapped = await t.throwsAsync(failing(new TypeError('fetch failed', {cause: Object.assign(new Error('Hostname/IP does not match'), {code: 'ERR_TLS_CERT_ALTNAME_INVALID'})})).manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.regex(wrapped.message, /cannot trust registry .*\(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match\)$/)
  const refused = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5000'), {code: 'ECONNREFUSED'}), Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), {code: 'ECONNREFUSED'})])
  const unreachable = await t.throwsAsync(failing(refused).manifest('ci/x', 't'), {instanceOf: RegistryError})
  t.regex(unreachable.message, /is unreachable while checking ci\/x:t: cannot reach https:\/\/registry\.test:5000 \(ECONNREFUSED\) \(1 attempt\)$/)
})
