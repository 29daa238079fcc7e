import test from 'ava'

import {EnvironmentError, TemplateError, UsageError} from '../../../src/errors.js'
import {CommitTagger, contentDigest, ContentTagger, taggerFor, templateNeedsContent, TemplateTagger} from '../../../src/images/tagger.js'
import type {TagInput} from '../../../src/images/types.js'
import {COMMIT, image} from './_helpers.js'

const input = (overrides: Partial<TagInput> = {}): TagInput => ({
  image: image('php-fpm'),
  commit: COMMIT,
  dependencies: [],
  values: {},
  ...overrides,
})

test('commit policy: ci-commit-<GIT_COMMIT>, like the original', (t) => {
  t.is(new CommitTagger().tag(input()), `ci-commit-${COMMIT}`)
  t.is(new CommitTagger().tag(input({commit: 'ABCDEF1'})), 'ci-commit-abcdef1')
  const error = t.throws(() => new CommitTagger().tag(input({commit: 'feature/x'})), {instanceOf: EnvironmentError})
  t.regex(error.message, /GIT_COMMIT/)
})

test('content policy: ci-content-<40 hex>, stable, and changes with inputs and dependencies', (t) => {
  const a = new ContentTagger().tag(input({inputsDigest: 'a'.repeat(64)}))
  t.regex(a, /^ci-content-[0-9a-f]{40}$/)
  t.is(new ContentTagger().tag(input({inputsDigest: 'a'.repeat(64)})), a)
  t.not(new ContentTagger().tag(input({inputsDigest: 'b'.repeat(64)})), a)
  // Independent of the commit: the same inputs give the same tag on any commit.
  t.is(new ContentTagger().tag(input({inputsDigest: 'a'.repeat(64), commit: 'f'.repeat(40)})), a)
  const withDep = new ContentTagger().tag(input({inputsDigest: 'a'.repeat(64), dependencies: [{name: 'base', reference: 'r/u/base:t1'}]}))
  t.not(withDep, a)
  t.not(new ContentTagger().tag(input({inputsDigest: 'a'.repeat(64), dependencies: [{name: 'base', reference: 'r/u/base:t2'}]})), withDep)
  // Dependency order does not matter.
  const deps = [{name: 'x', reference: 'r/x:1'}, {name: 'y', reference: 'r/y:1'}]
  t.is(contentDigest(input({inputsDigest: 'c', dependencies: deps})), contentDigest(input({inputsDigest: 'c', dependencies: [...deps].reverse()})))
})

test('template policy: strict Handlebars with commit, shortCommit, image, values', (t) => {
  const tagger = new TemplateTagger()
  const tpl = (tagTemplate: string, extra: Partial<TagInput> = {}) => tagger.tag(input({image: image('php-fpm', {tag: 'template', tagTemplate}), ...extra}))
  t.is(tpl('{{image}}-{{shortCommit}}'), 'php-fpm-0123456789ab')
  t.is(tpl('{{slug}}-{{commit}}', {values: {slug: 'feature-x'}}), `feature-x-${COMMIT}`)
  t.is(tpl('v{{content}}', {inputsDigest: 'a'.repeat(64)}).length, 41)
  const unknown = t.throws(() => tpl('{{nope}}'), {instanceOf: TemplateError})
  t.regex(unknown.message, /"nope" not defined/)
  t.is(unknown.exitCode, 2)
  t.throws(() => tpl('{{branch}}', {values: {branch: 'feature/x'}}), {instanceOf: UsageError, message: /"\/"/})
  t.throws(() => tpl('-{{image}}'), {instanceOf: UsageError, message: /must not start/})
  t.throws(() => tpl('{{commit}}{{commit}}{{commit}}{{commit}}'), {instanceOf: UsageError, message: /160 characters/})
})

test('templateNeedsContent and taggerFor', (t) => {
  t.true(templateNeedsContent('x-{{content}}'))
  t.false(templateNeedsContent('x-{{commit}}'))
  t.false(templateNeedsContent(undefined))
  t.true(taggerFor('commit') instanceof CommitTagger)
  t.true(taggerFor('content') instanceof ContentTagger)
  t.true(taggerFor('template') instanceof TemplateTagger)
})
