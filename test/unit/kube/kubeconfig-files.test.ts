import {writeFileSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {unreadableKubeconfigFiles} from '../../../src/kube/client.js'
import {tempDir} from '../../helpers/tmp.js'

const dir = tempDir('shopsys-ci-kubeconfig-files-')
const present = path.join(dir, 'ca.pem')
writeFileSync(present, 'pem')

function kc(cluster: Record<string, unknown>, user: Record<string, unknown>) {
  return {getCurrentCluster: () => ({name: 'prod', server: 'https://k', ...cluster}), getCurrentUser: () => ({name: 'jenkins', ...user}), getCurrentContext: () => 'ci'} as never
}

test('files the kubeconfig names and that exist are fine; inline data and tokens are not files', (t) => {
  t.deepEqual(unreadableKubeconfigFiles(kc({caFile: present}, {certFile: present, keyFile: present})), [])
  t.deepEqual(unreadableKubeconfigFiles(kc({caData: 'x'}, {token: 't'})), [])
})

test('every missing file is named with the kubeconfig key, its cluster or user, and the context', (t) => {
  t.deepEqual(unreadableKubeconfigFiles(kc({caFile: '/nope/ca.pem'}, {certFile: present, keyFile: '/nope/key.pem'})), [
    'certificate-authority of cluster prod (context ci): /nope/ca.pem does not exist',
    'client-key of user jenkins (context ci): /nope/key.pem does not exist',
  ])
})
