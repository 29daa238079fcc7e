import test from 'ava'

import {credentialError, credentialSource} from '../../../src/kube/credentials.js'

test('credentialSource names an exec plugin or an auth provider; static credentials have none', (t) => {
  t.is(credentialSource({exec: {command: 'aws', args: ['eks', 'get-token']}}), 'exec plugin aws')
  t.is(credentialSource({authProvider: {name: 'oidc', config: {exec: {command: 'kubelogin'}}}}), 'exec plugin kubelogin')
  t.is(credentialSource({authProvider: {name: 'azure'}}), 'auth provider azure')
  t.is(credentialSource({name: 'admin'}), undefined)
  t.is(credentialSource(null), undefined)
})

const spawnError = (code: string, command: string) => Object.assign(new Error(`spawn ${command} ${code}`), {code, syscall: `spawn ${command}`, path: command})

test('a plugin that is not installed, or not executable, says so and to install it', (t) => {
  const missing = credentialError(spawnError('ENOENT', 'gke-gcloud-auth-plugin'), 'exec plugin gke-gcloud-auth-plugin', 'gke_prod')
  t.is(missing.exitCode, 3)
  t.is(missing.code, 'CLUSTER_CREDENTIAL')
  t.is(missing.message, 'cannot get credentials for the cluster from the kubeconfig (context gke_prod): its exec plugin gke-gcloud-auth-plugin: gke-gcloud-auth-plugin is not installed on this agent (not found on PATH)')
  t.regex(missing.suggestions![0], /^install gke-gcloud-auth-plugin on the agent/)
  t.is(missing.suggestions![1], 'kubectl --context gke_prod get --raw /version   # runs the same plugin with the same kubeconfig')
  t.regex(credentialError(spawnError('EACCES', '/opt/aws'), 'exec plugin /opt/aws', undefined).message, /: \/opt\/aws is not executable$/)
})

test('a failing plugin is quoted (its first lines), with the hint that its own login may have expired', (t) => {
  const stderr = 'Error loading SSO Token\nToken for prod has expired\n\n' + Array.from({length: 10}, (_, i) => `detail ${i}`).join('\n')
  const error = credentialError(new Error(stderr), 'exec plugin aws', undefined)
  t.is(error.message, 'cannot get credentials for the cluster from the kubeconfig: its exec plugin aws: it failed:\n    Error loading SSO Token\n    Token for prod has expired\n    detail 0\n    detail 1\n    detail 2')
  t.regex(error.suggestions![0], /login may have expired/)
})

test('output that is not an ExecCredential is "no valid credential"', (t) => {
  const error = credentialError(new SyntaxError('Unexpected token p in JSON at position 0'), 'exec plugin kubelogin', 'oidc')
  t.regex(error.message, /its exec plugin kubelogin: it printed no valid credential \(Unexpected token p in JSON at position 0\)$/)
})
