/**
 * Fields that cannot change in place. A Job's pod template cannot change once the Job exists: a
 * new commit's image in a migration Job makes server-side apply fail with 422 "field is
 * immutable". Deploy in place then does what `kubectl apply --force` does: deletes that Job (its
 * pods go with it) and applies it anew, so the Job runs again for the new commit. Only Jobs: they
 * run to completion and hold no state. For the rest (a StatefulSet's volumeClaimTemplates, a
 * selector, a Service's clusterIP) the deploy fails and says how to recreate the environment.
 */
import {DeployError} from '../errors.js'
import type {Logger} from '../util/log.js'
import {apiMessage, isNotFound, type Kube, statusCode} from './client.js'
import {describeObject, type ManifestObject} from './manifests.js'
import {watchUntil} from './watch.js'

const RECREATE_TIMEOUT_MS = 60_000

/** The API's 422 for a change that needs the object deleted and created anew. */
export function isImmutableFieldError(error: unknown): boolean {
  return statusCode(error) === 422 && /is immutable|may not change once set|updates to \S+ spec for fields other than .* are forbidden/.test(apiMessage(error))
}

export function isImmutableJobError(obj: ManifestObject, error: unknown): boolean {
  return obj.kind === 'Job' && obj.apiVersion.startsWith('batch/') && isImmutableFieldError(error)
}

export const RECREATE_SUGGESTIONS = [
  'the object cannot be updated in place, so the environment must be created anew:',
  'shopsys-ci build --fresh (or deploy.fresh: true in the config for every build)',
  'or delete it first (shopsys-ci cleanup; in Jenkins, shopsysCleanup) and build again',
]

export async function recreateJob(kube: Kube, obj: ManifestObject, options: {namespace: string; logger: Logger; signal?: AbortSignal}): Promise<void> {
  const name = obj.metadata.name
  const namespace = obj.metadata.namespace ?? options.namespace
  options.logger.info(`${describeObject(obj)}: a Job's pod template cannot change; deleting the old Job and creating it anew`)
  try {
    await kube.batch.deleteNamespacedJob({name, namespace, propagationPolicy: 'Background'})
  } catch (error) {
    if (!isNotFound(error)) throw new DeployError(`cannot delete ${describeObject(obj)} to create it anew: ${apiMessage(error)}`, {cause: error})
  }
  const fieldSelector = `metadata.name=${name}`
  const gone = await watchUntil(kube, {
    kind: 'Job',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    fieldSelector,
    list: () => kube.batch.listNamespacedJob({namespace, fieldSelector}) as never,
    done: (items) => items.length === 0,
    deadline: Date.now() + RECREATE_TIMEOUT_MS,
    signal: options.signal,
  })
  if (!gone) {
    throw new DeployError(`${describeObject(obj)} was deleted to be created anew, but is still there after ${RECREATE_TIMEOUT_MS / 1000}s`, {
      suggestions: [`kubectl -n ${namespace} get job ${name} -o yaml   # look for finalizers`],
    })
  }
  try {
    await kube.serverSideApply(obj as never)
  } catch (error) {
    throw new DeployError(`server-side apply of ${describeObject(obj)} failed after it was created anew: ${apiMessage(error)}`, {cause: error})
  }
}
