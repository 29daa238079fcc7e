/**
 * Planning, before anything is built: every image's repository, tag and reference, its build
 * arguments, and the order that respects `dependsOn`. `planImages` is pure; `checkImageInputs` and
 * `computeInputsDigests` read the file system.
 */
import {statSync} from 'node:fs'
import path from 'node:path'

import {DEFAULT_CONFIG_PATH} from '../config/load.js'
import type {ImageConfig} from '../config/model.js'
import {ConfigError, type ConfigProblem, UsageError} from '../errors.js'
import {mapLimit} from '../util/concurrency.js'
import {inputsDigest} from './content.js'
import {type Registry, repositoryFor, repositoryPath, repositoryProblem} from './reference.js'
import {taggerFor, templateNeedsContent} from './tagger.js'
import type {ImagePlan, Tagger} from './types.js'

export interface PlanInput {
  images: readonly ImageConfig[]
  registry: Registry
  workspace: string
  commit: string
  /** Values for `tag: template`. */
  values?: Readonly<Record<string, unknown>>
  /** Image name → hex digest of its build inputs (needed by `content` tags). */
  inputsDigests?: ReadonlyMap<string, string>
  /** Tagger per policy (default: taggerFor). */
  taggerFor?: (image: ImageConfig) => Tagger
}

/** The build argument that carries a dependency's reference: `IMAGE_<NAME>` (`php-fpm` → `IMAGE_PHP_FPM`). */
export function dependencyBuildArg(name: string): string {
  return `IMAGE_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`
}

/** Images in dependency order (each after the images it depends on; otherwise as configured). */
export function orderImages<T extends Pick<ImageConfig, 'name' | 'dependsOn'>>(images: readonly T[]): T[] {
  const byName = new Map(images.map((i) => [i.name, i]))
  const out: T[] = []
  const seen = new Set<string>()
  const visiting = new Set<string>()
  const visit = (image: T) => {
    if (seen.has(image.name)) return
    if (visiting.has(image.name)) throw new Error(`dependsOn forms a cycle through "${image.name}"`)
    visiting.add(image.name)
    for (const dep of image.dependsOn) {
      const d = byName.get(dep)
      if (d) visit(d)
    }
    visiting.delete(image.name)
    seen.add(image.name)
    out.push(image)
  }
  for (const image of images) visit(image)
  return out
}

/** Plans every image; the result is in dependency order. Pure. */
export function planImages(input: PlanInput): ImagePlan[] {
  const plans = new Map<string, ImagePlan>()
  const pick = input.taggerFor ?? ((image: ImageConfig) => taggerFor(image.tag))
  for (const image of orderImages(input.images)) {
    const dependencies = image.dependsOn.map((name) => {
      const dep = plans.get(name)
      if (!dep) throw new Error(`internal: image "${image.name}" depends on "${name}", which is not planned`)
      return {name, reference: dep.reference}
    })
    const tag = pick(image).tag({
      image,
      commit: input.commit,
      inputsDigest: input.inputsDigests?.get(image.name),
      dependencies,
      values: input.values ?? {},
    })
    const repository = repositoryFor(input.registry, image.name)
    // Else the registry answers 500 to the lookup (distribution 2.x), which reads as "unreachable".
    const problem = repositoryProblem(repository)
    if (problem) throw new UsageError(`image "${image.name}": the repository ${repository} ${problem}`, {suggestions: ['shorten the image\'s name in the config']})
    const buildArgs: Record<string, string> = {...image.buildArgs}
    for (const dep of dependencies) buildArgs[dependencyBuildArg(dep.name)] ??= dep.reference
    plans.set(image.name, {
      image,
      name: image.name,
      placeholder: image.placeholder,
      repository,
      path: repositoryPath(input.registry, image.name),
      tag,
      reference: `${repository}:${tag}`,
      contextDir: path.resolve(input.workspace, image.context),
      dockerfile: path.resolve(input.workspace, image.dockerfile),
      buildArgs,
      dependsOn: [...image.dependsOn],
    })
  }
  return [...plans.values()]
}

/** Every missing context directory or Dockerfile, at once, before anything is built (exit 2). */
export function checkImageInputs(images: readonly ImageConfig[], workspace: string, configFile = DEFAULT_CONFIG_PATH): void {
  const problems: ConfigProblem[] = []
  images.forEach((image, i) => {
    const context = path.resolve(workspace, image.context)
    const dockerfile = path.resolve(workspace, image.dockerfile)
    const kind = (p: string) => {
      try {
        const s = statSync(p)
        return s.isDirectory() ? 'dir' : 'file'
      } catch {
        return undefined
      }
    }
    const c = kind(context)
    if (c !== 'dir') {
      problems.push({file: configFile, key: `images[${i}].context`, message: `image "${image.name}": build context ${context} ${c ? 'is not a directory' : 'does not exist'}`})
    }
    const d = kind(dockerfile)
    if (d !== 'file') {
      problems.push({file: configFile, key: `images[${i}].dockerfile`, message: `image "${image.name}": Dockerfile ${dockerfile} ${d ? 'is not a file' : 'does not exist'}`})
    }
  })
  if (problems.length > 0) {
    throw new ConfigError(problems, {suggestions: ['paths in images[].context and images[].dockerfile are relative to the workspace (the repository root)']})
  }
}

/** Whether an image's tag needs the digest of its build inputs. */
export function needsInputsDigest(image: ImageConfig): boolean {
  return image.tag === 'content' || (image.tag === 'template' && templateNeedsContent(image.tagTemplate))
}

/** The inputs digest of every image whose tag needs one (a few images at a time). */
export async function computeInputsDigests(images: readonly ImageConfig[], workspace: string, parallel = 2): Promise<Map<string, string>> {
  const wanted = images.filter(needsInputsDigest)
  const digests = await mapLimit(wanted, parallel, (image) =>
    inputsDigest({
      contextDir: path.resolve(workspace, image.context),
      dockerfile: path.resolve(workspace, image.dockerfile),
      target: image.target,
      buildArgs: image.buildArgs,
    }),
  )
  return new Map(wanted.map((image, i) => [image.name, digests[i]]))
}
