/**
 * The render stage: config templates, then the generated overlay, then real kustomize, then the
 * checked result in `<output>/manifests.yaml` (kept as a build artifact).
 */
import {mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

import type {Config} from '../config/model.js'
import {ManifestError} from '../errors.js'
import {type RenderedFile, renderString, renderTemplateFiles} from '../templates/render.js'
import {writeFileAtomic} from '../util/fs.js'
import {userCacheDir} from '../util/cache-dir.js'
import {checkManifests, kustomizeArgs, kustomizeBuild, summarize} from './kustomize.js'
import {KustomizeCache, type KustomizeEntry, type KustomizeLookup} from './kustomize-cache.js'
import type {ManifestObject} from './parse.js'
import {generateOverlay, type ImageOverride} from './overlay.js'

export interface RenderInput {
  config: Config
  workspace: string
  /** Absolute output directory (default `<workspace>/<config.output>`). */
  outputDir: string
  namespace: string
  labels: Record<string, string>
  images: ImageOverride[]
  values: Record<string, unknown>
  /** Where kustomize's output is reused from (default: the user's cache, unless kustomize.cache is false). */
  kustomizeCache?: KustomizeCache
}

export interface RenderResult {
  templates: RenderedFile[]
  overlayDir?: string
  manifestsFile?: string
  objects: string[]
  /** The objects of manifestsFile, parsed: `build` hands them to deploy rather than parse the file again. */
  manifests?: ManifestObject[]
  /** Whether kustomize ran or its output was reused, and why not when it cannot be. */
  kustomizeCache?: {state: KustomizeLookup['state']; reason?: string; files?: number}
}

/**
 * What `render` would refuse, found without writing anything or running kustomize: every template
 * and patch renders (its syntax, every variable known), and the overlay's base exists. `build` runs
 * it before the images, which take minutes in a real project, so that a typo fails in seconds.
 */
export async function checkTemplates(input: Pick<RenderInput, 'config' | 'workspace' | 'values'>): Promise<void> {
  const {config, workspace, values} = input
  await renderTemplateFiles(config.templates, workspace, values, {write: false})
  if (!config.kustomize) return
  await checkBaseDir(workspace, config.kustomize.base)
  for (const [i, patch] of config.kustomize.patches.entries()) renderString(await readWorkspaceFile(workspace, patch.path, `kustomize.patches[${i}]`), values, patch.path)
}

/** The overlay's base as an absolute path; a ManifestError unless it is a directory. */
async function checkBaseDir(workspace: string, base: string): Promise<string> {
  const baseDir = path.resolve(workspace, base)
  if (!(await isDirectory(baseDir))) {
    throw new ManifestError(`kustomize.base: ${base} is not a directory (looked in ${baseDir})`, {
      suggestions: ['point kustomize.base at the app\'s own overlay, e.g. kubernetes/overlays/ci'],
    })
  }
  return baseDir
}

export async function renderEnvironment(input: RenderInput): Promise<RenderResult> {
  const {config, workspace, values} = input
  const templates = await renderTemplateFiles(config.templates, workspace, values)
  if (!config.kustomize) return {templates, objects: []}

  const baseDir = await checkBaseDir(workspace, config.kustomize.base)

  const patches = []
  for (const [i, patch] of config.kustomize.patches.entries()) {
    const source = await readWorkspaceFile(workspace, patch.path, `kustomize.patches[${i}]`)
    patches.push({file: `${i}-${path.basename(patch.path).replace(/\.(hbs|handlebars)$/, '')}`, content: renderString(source, values, patch.path), target: patch.target})
  }
  const configMaps = []
  for (const [i, cm] of config.kustomize.configMaps.entries()) {
    const files = []
    for (const file of cm.files) files.push({key: path.basename(file), content: await readWorkspaceFile(workspace, file, `kustomize.configMaps[${i}].files`)})
    configMaps.push({name: cm.name, behavior: cm.behavior, files})
  }

  const overlayDir = path.join(input.outputDir, 'overlay')
  const overlay = generateOverlay({overlayDir, baseDir, namespace: input.namespace, labels: input.labels, images: input.images, patches, configMaps})
  // The overlay directory is ours alone: start from nothing so no file of an earlier render lingers.
  await rm(overlayDir, {recursive: true, force: true})
  for (const [file, content] of overlay) {
    await mkdir(path.dirname(path.join(overlayDir, file)), {recursive: true})
    await writeFile(path.join(overlayDir, file), content)
  }

  const {binary} = config.kustomize
  const args = kustomizeArgs(binary, overlayDir)
  const cache = config.kustomize.cache ? (input.kustomizeCache ?? new KustomizeCache(userCacheDir('kustomize'))) : undefined
  const cached: KustomizeLookup = cache ? await cache.lookup(binary, args, overlayDir) : {state: 'off', reason: 'kustomize.cache is false'}
  const manifests = cached.state === 'hit' ? cached.output : await kustomizeBuild(binary, overlayDir)
  const manifestsFile = path.join(input.outputDir, 'manifests.yaml')
  // A reused output was checked before it was stored.
  const summary = cached.state === 'hit' ? summarize(cached.manifests) : checkManifests(manifests, `the output of \`${[binary, ...args].join(' ')}\``)
  await writeFileAtomic(manifestsFile, manifests)
  return {templates, overlayDir, manifestsFile, objects: summary.objects, manifests: summary.manifests, kustomizeCache: await storeOutput(cache, cached, {output: manifests, manifests: summary.manifests})}
}

/** Stores kustomize's checked output on a miss, unless it holds a Secret; what happened, for the log. */
async function storeOutput(cache: KustomizeCache | undefined, cached: KustomizeLookup, entry: KustomizeEntry): Promise<RenderResult['kustomizeCache']> {
  if (cached.state === 'off') return {state: 'off', reason: cached.reason}
  if (cached.state === 'miss') {
    // The app's own Secrets stay out of the cache, as every secret stays out of files the tool keeps.
    if (entry.manifests.some((o) => o.kind === 'Secret' && o.apiVersion === 'v1')) return {state: 'off', reason: 'the output holds a Secret'}
    await cache!.store(cached.key, entry)
  }
  return {state: cached.state, files: cached.files}
}

async function readWorkspaceFile(workspace: string, file: string, key: string): Promise<string> {
  const absolute = path.resolve(workspace, file)
  try {
    return await readFile(absolute, 'utf8')
  } catch {
    throw new ManifestError(`${key}: ${file} not found (looked in ${absolute})`, {
      suggestions: ['paths in the config are relative to the workspace; a rendered template must be listed under `templates:` to exist'],
    })
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch {
    return false
  }
}
