import test from 'ava'

import {apiMessage, elideInvalidValues} from '../../../src/kube/api-errors.js'

const template = `{"labels":{"job-name":"migrate"},"Spec":{"Containers":[{"Name":"migrate","Image":"r/migrate:2","Command":null,"Env":[{"Name":"A","Value":"} ] {"}]}],"RestartPolicy":"Never"}}`

test('a long rejected value is elided; the field path and the reason stay', (t) => {
  t.true(template.length > 120)
  t.is(elideInvalidValues(`Job.batch "migrate" is invalid: spec.template: Invalid value: ${template}: field is immutable`), 'Job.batch "migrate" is invalid: spec.template: Invalid value: {…}: field is immutable')
  t.is(elideInvalidValues(`x: Invalid value: [${template}]: a; y: Invalid value: ${template}: b`), 'x: Invalid value: […]: a; y: Invalid value: {…}: b')
})

test('short values, scalars and unbalanced text are left as they are', (t) => {
  for (const message of ['spec.replicas: Invalid value: -1: must be >= 0', 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain', 'spec.x: Invalid value: {"a":1}: short', `cut: Invalid value: {"a": "${'x'.repeat(200)}`]) {
    t.is(elideInvalidValues(message), message)
  }
})

test('apiMessage reads the Status body and elides it too', (t) => {
  const error = {body: JSON.stringify({kind: 'Status', code: 422, message: `spec.template: Invalid value: ${template}: field is immutable`})}
  t.is(apiMessage(error), 'spec.template: Invalid value: {…}: field is immutable')
})
