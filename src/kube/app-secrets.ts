/**
 * `deploy.secrets`: the app's own Secrets (a database password, an API key), made in the branch's
 * namespace at every deploy from environment variables: on Jenkins, "Secret text" credentials that
 * shopsysBuild's `secretCredentials` binds. The app's manifests refer to them by name
 * (`secretKeyRef`). Like the image pull secret, the values go to the API server only: never into a
 * file, an argument, a log line, the manifests artifact or the report; every output masks them.
 */
import type {Config} from '../config/model.js'
import {secretVariables} from '../config/environment.js'
import {EnvironmentError} from '../errors.js'
import {ANN_APP_SECRETS, ANN_PULL_SECRET, ANN_SECRET_VERSIONS} from './constants.js'
import type {ManifestObject} from './manifests.js'
import {pullCredentialsFromEnv, type RegistryCredentials} from './pull-secret.js'

/** A Secret to make, with its values (never logged). */
export interface AppSecret {
  name: string
  /** Key -> value. */
  data: Record<string, string>
}

/**
 * Pure: the Secrets of the config with their values from `env`. Every variable that is not set (or
 * empty) is a problem, all named at once with the Secret key it is for: a Secret missing a key would
 * leave a pod in CreateContainerConfigError at the rollout, minutes later.
 */
export function appSecretsFromEnv(secrets: Config['deploy']['secrets'], env: Readonly<Record<string, string | undefined>>): AppSecret[] {
  // Named as `env check` and the build's check stage name them: the same specs.
  const problems = secretVariables(secrets)
    .filter((spec) => !env[spec.name])
    .map((spec) => ({name: spec.name, purpose: spec.purpose, problem: 'is not set'}))
  if (problems.length > 0) {
    throw new EnvironmentError(problems, {suggestions: ['bind them in the Jenkins job: shopsysBuild(secretCredentials: [NAME: \'<credentials id of a "Secret text">\'])']})
  }
  return Object.entries(secrets).map(([name, keys]) => ({name, data: Object.fromEntries(Object.entries(keys).map(([key, variable]) => [key, env[variable]!]))}))
}

/**
 * Pure: the secret values a deploy of this config needs, from `env`: the image pull secret's
 * credentials (deploy.imagePullSecret) and the Secrets of deploy.secrets. For `deploy` and for
 * build's deploy stage alike; throws the EnvironmentError of the first that is incomplete.
 */
export function deploySecretsFromEnv(config: Config, env: Readonly<Record<string, string | undefined>>): {pullCredentials?: RegistryCredentials; appSecrets: AppSecret[]} {
  const pullCredentials = config.deploy.imagePullSecret ? pullCredentialsFromEnv(env) : undefined
  return {...(pullCredentials ? {pullCredentials} : {}), appSecrets: appSecretsFromEnv(config.deploy.secrets, env)}
}

/** Pure: the Secret object (type Opaque; `data` base64, as the API stores it). */
export function appSecretObject(secret: AppSecret, namespace: string, labels: Record<string, string>): ManifestObject & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: secret.name, namespace, labels},
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  }
}

/** Pure: the namespace annotation's value: the Secrets this deploy made (sorted), for the next deploy to remove those it drops. */
export function formatSecretNames(secrets: AppSecret[]): string {
  return secrets
    .map((s) => s.name)
    .sort()
    .join(',')
}

/** Pure: the names an earlier deploy recorded. */
export function parseSecretNames(value: string | undefined): string[] {
  return (value ?? '').split(',').filter((name) => name !== '')
}

/** Pure: the Secrets of deploy.secrets that the manifests also have: two sources of one object, each overwriting the other. */
export function secretsAlsoInManifests(secrets: AppSecret[], objects: ManifestObject[]): string[] {
  const inManifests = new Set(objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'Secret').map((o) => o.metadata.name))
  return secrets.map((s) => s.name).filter((name) => inManifests.has(name))
}

/** Workload kinds whose pods restart when their pod template changes (a Job's template is immutable; a CronJob's next Job reads the Secret anew). */
const RESTARTABLE = new Set(['apps/v1 Deployment', 'apps/v1 StatefulSet', 'apps/v1 DaemonSet'])

type Json = Record<string, unknown>
const asObject = (value: unknown): Json | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined)
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const nameOf = (value: unknown, key: string): string[] => {
  const name = asObject(value)?.[key]
  return typeof name === 'string' ? [name] : []
}

/** Pure: the Secrets a pod spec reads: env secretKeyRef, envFrom secretRef, secret and projected volumes (init containers too). */
export function secretsReadBy(podSpec: unknown): Set<string> {
  const spec = asObject(podSpec) ?? {}
  const names = new Set<string>()
  for (const container of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
    const c = asObject(container) ?? {}
    for (const env of asArray(c.env)) for (const n of nameOf(asObject(asObject(env)?.valueFrom)?.secretKeyRef, 'name')) names.add(n)
    for (const from of asArray(c.envFrom)) for (const n of nameOf(asObject(from)?.secretRef, 'name')) names.add(n)
  }
  for (const volume of asArray(spec.volumes)) {
    const v = asObject(volume) ?? {}
    for (const n of nameOf(v.secret, 'secretName')) names.add(n)
    for (const source of asArray(asObject(v.projected)?.sources)) for (const n of nameOf(asObject(source)?.secret, 'name')) names.add(n)
  }
  return names
}

/**
 * Pure: the manifests with the versions of the deploy.secrets Secrets each Deployment, StatefulSet
 * and DaemonSet reads, as an annotation of its pod template (`app-secrets=41234,mailer=41236`).
 * A Secret whose value changes gets a new resourceVersion, so the template changes and its pods
 * restart with the new value; an unchanged Secret keeps its version (the API server does not
 * write an apply that changes nothing), so a redeploy restarts nothing. A version is an etcd
 * revision, nothing derived from the value. Workloads that read none of them are returned as they are.
 */
export function withSecretVersions<T extends ManifestObject>(objects: T[], versions: ReadonlyMap<string, string>): {objects: T[]; readers: string[]} {
  const readers: string[] = []
  const result = objects.map((obj) => {
    if (!RESTARTABLE.has(`${obj.apiVersion} ${obj.kind}`)) return obj
    const spec = asObject((obj as Json).spec)
    const template = asObject(spec?.template)
    const read = [...secretsReadBy(template?.spec)].filter((name) => versions.has(name)).sort()
    if (read.length === 0 || !spec || !template) return obj
    readers.push(`${obj.kind.toLowerCase()}/${obj.metadata.name}`)
    const metadata = asObject(template.metadata) ?? {}
    const annotations = {...asObject(metadata.annotations), [ANN_SECRET_VERSIONS]: read.map((name) => `${name}=${versions.get(name)}`).join(',')}
    return {...obj, spec: {...spec, template: {...template, metadata: {...metadata, annotations}}}}
  })
  return {objects: result, readers}
}

/** Pure: whether the namespace's annotations record the same Secrets (pull and deploy.secrets) as `next` will. */
export function sameSecretRecords(current: Record<string, string> | undefined, next: Record<string, string>): boolean {
  return [ANN_PULL_SECRET, ANN_APP_SECRETS].every((name) => current?.[name] === next[name])
}
