/**
 * Tag policies (docs/images.md):
 *
 * - `commit`   `ci-commit-<GIT_COMMIT>`, the original system's tag;
 * - `content`  `ci-content-<digest>` of everything the build reads (content.ts) and of the images it
 *              is built from, so the image is rebuilt exactly when its inputs change;
 * - `template` a strict Handlebars template (an unknown variable is an error, not "").
 *
 * Every tag is checked to be a valid Docker tag.
 */
import {createHash} from 'node:crypto'
import Handlebars from 'handlebars'

import type {TagPolicy} from '../config/model.js'
import {EnvironmentError, TemplateError, UsageError} from '../errors.js'
import {isCommitId} from '../util/commit.js'
import {tagProblem} from './reference.js'
import type {TagInput, Tagger} from './types.js'

/** Hex characters of the content digest kept in a `content` tag (160 bits). */
export const CONTENT_TAG_HEX = 40

export class CommitTagger implements Tagger {
  tag(input: TagInput): string {
    if (!isCommitId(input.commit)) {
      throw new EnvironmentError([
        {name: 'GIT_COMMIT', purpose: `the commit being built; image "${input.image.name}" is tagged with it`, problem: `"${input.commit}" is not a hexadecimal commit id`},
      ])
    }
    return checked(`ci-commit-${input.commit.toLowerCase()}`, input)
  }
}

export class ContentTagger implements Tagger {
  tag(input: TagInput): string {
    return checked(`ci-content-${contentDigest(input).slice(0, CONTENT_TAG_HEX)}`, input)
  }
}

/**
 * The digest a `content` tag is made of: the image's own inputs plus the references of the images it
 * is built from (a rebuilt base image gives a new tag to everything built on it).
 */
export function contentDigest(input: TagInput): string {
  if (!input.inputsDigest) throw new Error(`internal: no inputs digest for image "${input.image.name}"`)
  const hash = createHash('sha256').update(`shopsys-ci content tag v1\n${input.inputsDigest}\n`)
  for (const dep of [...input.dependencies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    hash.update(`dep ${dep.name} ${dep.reference}\n`)
  }
  return hash.digest('hex')
}

export class TemplateTagger implements Tagger {
  private readonly cache = new Map<string, HandlebarsTemplateDelegate>()

  tag(input: TagInput): string {
    const source = input.image.tagTemplate
    if (!source) throw new UsageError(`image "${input.image.name}": tagTemplate is required when tag is "template"`)
    let template = this.cache.get(source)
    if (!template) {
      template = Handlebars.compile(source, {strict: true, noEscape: true})
      this.cache.set(source, template)
    }
    let tag: string
    try {
      tag = template(templateValues(input)).trim()
    } catch (error) {
      throw new TemplateError(`tag template of image "${input.image.name}" (${JSON.stringify(source)}): ${(error as Error).message.split('\n')[0]}`, {
        cause: error,
        suggestions: [`variables available: ${Object.keys(templateValues({...input, inputsDigest: input.inputsDigest ?? '0'})).join(', ')}`],
      })
    }
    return checked(tag, input)
  }
}

/** What a tag template can use. `content` is only there when the template mentions it. */
export function templateValues(input: TagInput): Record<string, unknown> {
  const values: Record<string, unknown> = {
    ...input.values,
    commit: input.commit,
    shortCommit: input.commit.slice(0, 12),
    image: input.image.name,
    target: input.image.target ?? '',
  }
  if (input.inputsDigest) values.content = contentDigest(input).slice(0, CONTENT_TAG_HEX)
  return values
}

/** Whether a template reads `content` (then the inputs digest must be computed). */
export function templateNeedsContent(template: string | undefined): boolean {
  return template !== undefined && /\bcontent\b/.test(template)
}

export function taggerFor(policy: TagPolicy): Tagger {
  switch (policy) {
    case 'commit':
      return new CommitTagger()
    case 'content':
      return new ContentTagger()
    case 'template':
      return new TemplateTagger()
  }
}

function checked(tag: string, input: TagInput): string {
  const problem = tagProblem(tag)
  if (problem) {
    throw new UsageError(`image "${input.image.name}": the ${input.image.tag} tag policy gave "${tag}", which ${problem}`, {
      suggestions: input.image.tag === 'template' ? ['change the image\'s tagTemplate so that it renders a valid Docker tag'] : [],
    })
  }
  return tag
}
