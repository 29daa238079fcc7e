/** The templates + manifests stage, shared by `render` and `build`. */
import path from 'node:path'

import {environmentLabels} from '../conventions.js'
import {checkTemplates, renderEnvironment, type RenderResult} from '../manifests/render.js'
import {type ImageValue, templateValues} from '../templates/values.js'
import type {BuildContext} from './context.js'

/** The images as the manifests and templates see them (planned or built). */
export interface ImageRef extends ImageValue {
  name: string
  placeholder: string
}

export interface RenderStageOptions {
  ctx: BuildContext
  commit: string
  images: ImageRef[]
  /** `--output`; default `<workspace>/<config.output>`. */
  output?: string
}

export function outputDir(ctx: BuildContext, output?: string): string {
  return path.resolve(ctx.workspace, output ?? ctx.config.output)
}

/**
 * The templates and patches checked before any image is built (`build`'s check stage): rendered in
 * memory, with stand-ins for the images' references, which only the images stage knows.
 */
export async function preflightRender(ctx: BuildContext, commit: string): Promise<void> {
  const standIn = (name: string) => ({reference: `preflight.invalid/${name}:preflight`, repository: `preflight.invalid/${name}`, tag: 'preflight', digest: `sha256:${'0'.repeat(64)}`})
  await checkTemplates({config: ctx.config, workspace: ctx.workspace, values: valuesFor(ctx, commit, Object.fromEntries(ctx.config.images.map((i) => [i.name, standIn(i.name)])))})
}

function valuesFor(ctx: BuildContext, commit: string, images: Record<string, ImageValue>): Record<string, unknown> {
  return templateValues({project: ctx.config.project, names: ctx.names, domain: ctx.domain, hostPort: ctx.hostPort, commit, images, values: ctx.config.values})
}

export async function renderStage({ctx, commit, images, output}: RenderStageOptions): Promise<RenderResult> {
  const values = valuesFor(ctx, commit, Object.fromEntries(images.map((i) => [i.name, {reference: i.reference, repository: i.repository, tag: i.tag, digest: i.digest}])))
  return renderEnvironment({
    config: ctx.config,
    workspace: ctx.workspace,
    outputDir: outputDir(ctx, output),
    namespace: ctx.names.namespace,
    labels: environmentLabels(ctx.config.project, ctx.names.slug),
    images: images.map((i) => ({placeholder: i.placeholder, repository: i.repository, tag: i.tag, digest: i.digest})),
    values,
  })
}

/** Pure: the log line about kustomize's output cache; none when kustomize ran and its output was stored. */
export function kustomizeCacheLine(cache: RenderResult['kustomizeCache']): string | undefined {
  if (cache?.state === 'hit') return `kustomize: output reused from the agent's cache (none of its ${cache.files} input files changed)`
  if (cache?.state === 'off') return `kustomize: output not cached: ${cache.reason}`
  return undefined
}

/**
 * The images' references before anything is built (for `render` alone): the same plan the images
 * stage makes, so the manifests name exactly what `images build` will push.
 */
export async function plannedImages(ctx: BuildContext, commit: string): Promise<ImageRef[]> {
  if (ctx.config.images.length === 0) return []
  const {computeInputsDigests, planImages, registryFromEnv} = await import('../images/index.js')
  const inputsDigests = await computeInputsDigests(ctx.config.images, ctx.workspace, ctx.config.build.parallel)
  const plans = planImages({images: ctx.config.images, registry: registryFromEnv(ctx.env), workspace: ctx.workspace, commit, values: ctx.config.values, inputsDigests})
  return plans.map((p) => ({name: p.name, placeholder: p.placeholder, repository: p.repository, tag: p.tag, reference: p.reference}))
}
