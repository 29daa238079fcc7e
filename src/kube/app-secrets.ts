/**
 * `deploy.secrets`: the app's own Secrets (a database password, an API key), made in the branch's
 * namespace at every deploy from environment variables: on Jenkins, "Secret text" credentials that
 * shopsysBuild's `secretCredentials` binds. The app's manifests refer to them by name
 * (`secretKeyRef`). Like the image pull secret, the values go to the API server only: never into a
 * file, an argument, a log line, the manifests artifact or the report; every output masks them.
 */
import type {Config} from '../config/model.js'
import {EnvironmentError} from '../errors.js'
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
  const problems: Array<{name: string; purpose: string; problem: string}> = []
  const result = Object.entries(secrets).map(([name, keys]) => {
    const data: Record<string, string> = {}
    for (const [key, variable] of Object.entries(keys)) {
      const value = env[variable]
      if (value === undefined || value === '') {
        if (!problems.some((p) => p.name === variable)) problems.push({name: variable, purpose: `key ${key} of Secret ${name} (deploy.secrets)`, problem: 'is not set'})
      } else {
        data[key] = value
      }
    }
    return {name, data}
  })
  if (problems.length > 0) {
    throw new EnvironmentError(problems, {suggestions: ['bind them in the Jenkins job: shopsysBuild(secretCredentials: [NAME: \'<credentials id of a "Secret text">\'])']})
  }
  return result
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
