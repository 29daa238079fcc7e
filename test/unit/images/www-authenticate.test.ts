import test from 'ava'

import {findChallenge, parseWwwAuthenticate} from '../../../src/images/www-authenticate.js'

test('Basic challenge (htpasswd registry)', (t) => {
  t.deepEqual(parseWwwAuthenticate('Basic realm="shopsys-ci-test-registry"'), [{scheme: 'basic', params: {realm: 'shopsys-ci-test-registry'}}])
})

test('Bearer challenge with realm, service and scope (token flow)', (t) => {
  const [c] = parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:user/app:pull,push"')
  t.is(c.scheme, 'bearer')
  t.deepEqual(c.params, {realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:user/app:pull,push'})
})

test('several challenges, spaces, unquoted values, escapes, case', (t) => {
  const cs = parseWwwAuthenticate('Basic realm="a, b", BEARER Realm=http://127.0.0.1:1/t , service = "s\\"x" , error="insufficient_scope"')
  t.is(cs.length, 2)
  t.deepEqual(cs[0], {scheme: 'basic', params: {realm: 'a, b'}})
  t.deepEqual(cs[1], {scheme: 'bearer', params: {realm: 'http://127.0.0.1:1/t', service: 's"x', error: 'insufficient_scope'}})
  t.is(findChallenge(cs, 'bearer'), cs[1])
  t.is(findChallenge(cs, 'basic'), cs[0])
})

test('token68 and bare schemes; empty and malformed input', (t) => {
  t.deepEqual(parseWwwAuthenticate('Negotiate abc==, Basic realm="r"'), [
    {scheme: 'negotiate', params: {}, token68: 'abc=='},
    {scheme: 'basic', params: {realm: 'r'}},
  ])
  t.deepEqual(parseWwwAuthenticate('Basic'), [{scheme: 'basic', params: {}}])
  t.deepEqual(parseWwwAuthenticate(''), [])
  t.deepEqual(parseWwwAuthenticate(null), [])
  t.deepEqual(parseWwwAuthenticate(',,, "x"'), [])
})
