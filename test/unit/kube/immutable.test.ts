import test from 'ava'

import {isImmutableFieldError, isImmutableJobError} from '../../../src/kube/immutable.js'
import type {ManifestObject} from '../../../src/kube/manifests.js'

const apiError = (code: number, message: string) => ({code, body: JSON.stringify({kind: 'Status', code, message})})
const job: ManifestObject = {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'migrate'}}
const sts: ManifestObject = {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'db'}}

test('the API\'s refusals of changes in place are recognised', (t) => {
  t.true(isImmutableFieldError(apiError(422, 'Job.batch "migrate" is invalid: spec.template: Invalid value: {…}: field is immutable')))
  t.true(isImmutableFieldError(apiError(422, `StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`)))
  t.true(isImmutableFieldError(apiError(422, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.0.0.9"}: may not change once set')))
  t.true(isImmutableFieldError(apiError(422, 'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')))
  t.false(isImmutableFieldError(apiError(422, 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')))
  t.false(isImmutableFieldError(apiError(500, 'field is immutable')))
})

test('only a Job is created anew', (t) => {
  const immutable = apiError(422, 'spec.template: Invalid value: {…}: field is immutable')
  t.true(isImmutableJobError(job, immutable))
  t.false(isImmutableJobError(sts, immutable))
  t.false(isImmutableJobError(job, apiError(422, 'spec.parallelism: Invalid value: -1: must be greater than or equal to 0')))
})
