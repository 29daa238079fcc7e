import test from 'ava'

import {ManifestError} from '../../../src/errors.js'
import {parseManifests} from '../../../src/manifests/parse.js'

function problemsOf(text: string): string {
  try {
    parseManifests(text, 'm.yaml')
  } catch (error) {
    if (error instanceof ManifestError) return error.message
    throw error
  }
  throw new Error('parseManifests accepted invalid manifests')
}

test('documents without kind, apiVersion or name are reported together, with document, line and kind/name', (t) => {
  const error = t.throws(() => parseManifests('kind: X\nmetadata: {name: a}\n---\napiVersion: v1\nkind: X\n---\n- 1\n---\nfoo: bar\n', 'm.yaml', {suggestions: ['fix it']}), {instanceOf: ManifestError})
  t.regex(error.message, /^4 problems in m\.yaml:\n/)
  t.regex(error.message, /document 1 \(line 1, X\/a\): missing apiVersion\n/)
  t.regex(error.message, /document 2 \(line 4, X\): missing metadata\.name\n/)
  t.regex(error.message, /document 3 \(line 7\): not a mapping but a sequence; a document must be one object\n/)
  t.regex(error.message, /document 4 \(line 9\): missing apiVersion, kind, metadata\.name$/)
  t.deepEqual(error.suggestions, ['fix it'])
})

test('fields that are not strings, and scalar documents, are named as such', (t) => {
  const message = problemsOf('apiVersion: v1\nkind: 5\nmetadata: {name: a}\n---\njust text\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: 7}\n')
  t.regex(message, /document 1 \(line 1, name a\): kind is a number \(5\), not a string/)
  t.regex(message, /document 2 \(line 5\): not a mapping but a string \("just text"\)/)
  t.regex(message, /document 3 \(line 7, ConfigMap\): metadata\.name is a number \(7\), not a string/)
})

test('List items are checked one by one, located by document, item and line', (t) => {
  const message = problemsOf('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap}\n- 3\n')
  t.regex(message, /^2 problems in m\.yaml/)
  t.regex(message, /document 1, item 2 \(line 5, ConfigMap\): missing metadata\.name/)
  t.regex(message, /document 1, item 3 \(line 6\): not a mapping but a number \(3\)/)
})

test('a List needs apiVersion, not a name; nested Lists are expanded; a List without items is a problem', (t) => {
  const objects = parseManifests('apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMapList\n  items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n', 'm.yaml')
  t.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/a'])
  t.regex(problemsOf('kind: List\nitems: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n'), /^1 problem in m\.yaml:\n  - document 1 \(line 1, List\): missing apiVersion$/)
  t.regex(problemsOf('apiVersion: v1\nkind: List\n'), /^1 problem in m\.yaml:\n  - document 1 \(line 1, List\): a List needs `items:`, a sequence of objects$/)
})

test('YAML errors name their document; a text without objects is refused', (t) => {
  t.regex(problemsOf('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\na: [1\n'), /document 2: /)
  t.regex(problemsOf(''), /^1 problem in m\.yaml:\n  - no objects: every document is empty$/)
  t.regex(problemsOf('# only a comment\n---\n---\n'), /no objects/)
})

test('problems the caller found come first, in the same error', (t) => {
  const error = t.throws(() => parseManifests('kind: X\nmetadata: {name: a}\n', 'out', {problems: ['line 1: something']}), {instanceOf: ManifestError})
  t.is(error.message, '2 problems in out:\n  - line 1: something\n  - document 1 (line 1, X/a): missing apiVersion')
})

test('an object with generateName instead of a name says why that cannot be applied', (t) => {
  t.regex(problemsOf('apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-}\n'), /document 1 \(line 1, Job\): missing metadata\.name; generateName is not supported: server-side apply needs a fixed name/)
})
