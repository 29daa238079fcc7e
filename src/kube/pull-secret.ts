/**
 * `deploy.imagePullSecret`: the cluster's nodes pull the branch's images from a private registry.
 * The deploy makes Secret `shopsys-ci-registry` (type `kubernetes.io/dockerconfigjson`) from the
 * registry credentials and names it in the namespace's `default` ServiceAccount, so every pod that
 * runs as that account gets it: the API server's ServiceAccount admission copies it into the pod.
 * GitLab's review apps do the same with their registry secret. The credentials go to the API
 * server only: never into a file, argv, a log line or the manifests artifact.
 */
import {pullPairProblem} from '../config/environment.js'
import {PULL_SECRET_NAME} from '../conventions.js'
import {EnvironmentError} from '../errors.js'
import {checkRegistryHost} from '../images/reference.js'
import type {ManifestObject} from './manifests.js'

export {PULL_SECRET_NAME} from '../conventions.js'
/** The key Docker Hub's credentials have in a docker config (what `docker login` writes). */
export const DOCKER_HUB_AUTH_SERVER = 'https://index.docker.io/v1/'

export interface RegistryCredentials {
  /** The docker config's `auths` key: the registry's host[:port], or Docker Hub's URL. */
  server: string
  username: string
  password: string
}

const PURPOSE = 'registry account of the namespace\'s image pull secret (deploy.imagePullSecret)'

/**
 * Pure: DOCKER_PULL_USERNAME / DOCKER_PULL_PASSWORD (a read-only account: the pods' namespace
 * should not hold a credential that can push), else DOCKER_USERNAME / DOCKER_PASSWORD, for the
 * registry of DOCKER_REGISTRY (Docker Hub when empty).
 */
export function pullCredentialsFromEnv(env: Readonly<Record<string, string | undefined>>): RegistryCredentials {
  const host = (env.DOCKER_REGISTRY ?? '').trim()
  const hostProblem = host === '' ? undefined : checkRegistryHost(host)
  if (hostProblem) throw new EnvironmentError([{name: 'DOCKER_REGISTRY', purpose: 'registry the images are pushed to and pulled from (host or host:port)', problem: hostProblem}])
  const server = host || DOCKER_HUB_AUTH_SERVER
  const halfPair = pullPairProblem(env)
  if (halfPair) throw new EnvironmentError([halfPair])
  if (env.DOCKER_PULL_USERNAME && env.DOCKER_PULL_PASSWORD) return {server, username: env.DOCKER_PULL_USERNAME, password: env.DOCKER_PULL_PASSWORD}
  const problems = [
    ...(env.DOCKER_USERNAME ? [] : [{name: 'DOCKER_USERNAME', purpose: PURPOSE, problem: 'is not set (nor DOCKER_PULL_USERNAME)'}]),
    ...(env.DOCKER_PASSWORD ? [] : [{name: 'DOCKER_PASSWORD', purpose: PURPOSE, problem: 'is not set (nor DOCKER_PULL_PASSWORD)'}]),
  ]
  if (problems.length > 0) throw new EnvironmentError(problems)
  return {server, username: env.DOCKER_USERNAME!, password: env.DOCKER_PASSWORD!}
}

/** Pure: the `.dockerconfigjson` of the Secret, as `docker login` would write it. */
export function dockerConfigJson(credentials: RegistryCredentials): string {
  const {server, username, password} = credentials
  return JSON.stringify({auths: {[server]: {username, password, auth: Buffer.from(`${username}:${password}`).toString('base64')}}})
}

/** Pure: the Secret, and the `default` ServiceAccount as far as this tool sets it. */
/** An object with the top-level fields a Secret or ServiceAccount has besides spec/status. */
export type PlainObject = ManifestObject & Record<string, unknown>

export function pullSecretObjects(credentials: RegistryCredentials, namespace: string, labels: Record<string, string>): {secret: PlainObject; serviceAccount: PlainObject} {
  return {
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: PULL_SECRET_NAME, namespace, labels},
      type: 'kubernetes.io/dockerconfigjson',
      data: {'.dockerconfigjson': Buffer.from(dockerConfigJson(credentials)).toString('base64')},
    },
    serviceAccount: defaultServiceAccount(namespace, [{name: PULL_SECRET_NAME}]),
  }
}

/**
 * The `default` ServiceAccount with only what this tool manages. Applied without `imagePullSecrets`,
 * server-side apply takes back the entry it added (the field's other owners keep theirs).
 */
export function defaultServiceAccount(namespace: string, imagePullSecrets?: Array<{name: string}>): PlainObject {
  return {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace}, ...(imagePullSecrets ? {imagePullSecrets} : {})}
}
