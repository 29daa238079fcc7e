import test from 'ava'

import type {ManifestObject} from '../../../src/kube/manifests.js'
import {routedHosts, unroutedUrls} from '../../../src/kube/routes.js'

const ingress = (name: string, ...hosts: string[]): ManifestObject => ({apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name}, spec: {rules: hosts.map((host) => ({host}))}})
const urls = {first: 'http://feature-x.ci.example.com:8000', adminer: 'http://adminer.feature-x.ci.example.com:8000', second: 'http://2.feature-x.ci.example.com:8000'}

test('hosts of Ingress rules and HTTPRoute hostnames are routed', (t) => {
  const route: ManifestObject = {apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: {name: 'r'}, spec: {hostnames: ['a.example.com']}}
  t.deepEqual(routedHosts([ingress('web', 'b.example.com'), route, {apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}}]), ['b.example.com', 'a.example.com'])
})

test('a URL whose host no route serves is named; exact hosts and one-label wildcards serve', (t) => {
  t.deepEqual(unroutedUrls([ingress('web', 'feature-x.ci.example.com', '2.feature-x.ci.example.com')], urls), [{name: 'adminer', url: urls.adminer, host: 'adminer.feature-x.ci.example.com'}])
  t.deepEqual(unroutedUrls([ingress('web', 'feature-x.ci.example.com', '*.feature-x.ci.example.com')], urls), [])
  // A wildcard covers one label only, as in Kubernetes.
  t.deepEqual(unroutedUrls([ingress('web', '*.ci.example.com')], urls).map((u) => u.name), ['adminer', 'second'])
  // The placeholder host a patch failed to replace.
  t.deepEqual(unroutedUrls([ingress('web', 'first.invalid')], {first: urls.first}).map((u) => u.host), ['feature-x.ci.example.com'])
})

test('manifests without any route: no warning for any URL (the app is reached another way)', (t) => {
  t.deepEqual(unroutedUrls([{apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}}], urls), [])
})
