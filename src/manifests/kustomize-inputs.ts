/**
 * Every local file a kustomize build reads, found by reading its kustomizations the way kustomize
 * does, so that its output can be reused while none of them changed (kustomize-cache.ts).
 *
 * Only what is fully understood is cacheable. A key this module does not know, a remote base, a
 * reference that is not a local file or directory, helm charts, plugins (generators, transformers,
 * validators) and secretGenerator (its output holds Secrets, never written to a cache) each make the
 * build uncacheable, with the reason; kustomize then runs as always.
 */
import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'yaml'

/** The file names kustomize accepts for a kustomization, in its order. */
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/** Keys whose values are inline: they depend on the kustomization's own text only, which is an input. */
const INLINE_KEYS = new Set([
  'apiVersion', 'kind', 'metadata', 'namespace', 'namePrefix', 'nameSuffix', 'commonLabels', 'labels',
  'commonAnnotations', 'images', 'replicas', 'generatorOptions', 'sortOptions', 'buildMetadata', 'vars',
])

/** Keys that make a build uncacheable, and why. */
const UNCACHEABLE_KEYS: Record<string, string> = {
  secretGenerator: 'its output holds Secrets, which are never written to a cache',
  helmCharts: 'helm charts come from outside the workspace',
  helmGlobals: 'helm charts come from outside the workspace',
  generators: 'plugins may read anything',
  transformers: 'plugins may read anything',
  validators: 'plugins may read anything',
}

export type KustomizeInputs = {files: string[]} | {uncacheable: string}

/** A local file or directory a kustomization names; anything else (a URL, a missing path) is not local. */
type LocalRef = {kind: 'file' | 'dir'; path: string} | undefined

async function localRef(dir: string, ref: unknown): Promise<LocalRef> {
  if (typeof ref !== 'string' || ref === '' || /^[a-z][a-z0-9+.-]*:\/\/|^git@|\?ref=|\?version=/i.test(ref)) return undefined
  const absolute = path.resolve(dir, ref)
  try {
    const info = await stat(absolute)
    return info.isDirectory() ? {kind: 'dir', path: absolute} : info.isFile() ? {kind: 'file', path: absolute} : undefined
  } catch {
    return undefined
  }
}

/** The kustomization file of `dir`. */
async function kustomizationFile(dir: string): Promise<string> {
  const found = []
  for (const name of KUSTOMIZATION_NAMES) if ((await localRef(dir, name))?.kind === 'file') found.push(path.join(dir, name))
  if (found.length === 0) throw new Uncacheable(`${dir} has no kustomization`)
  // kustomize refuses this; the key must not hold one of them only.
  if (found.length > 1) throw new Uncacheable(`${dir} has more than one kustomization file`)
  return found[0]
}

class Uncacheable extends Error {}

/** `key=path` or `path`, as configMapGenerator's `files` has them. */
const generatorFilePath = (entry: unknown) => (typeof entry === 'string' ? entry.slice(entry.indexOf('=') + 1) : entry)

/**
 * The files kustomize reads to build `root` (a directory with a kustomization), sorted, or why that
 * cannot be known.
 */
export async function kustomizeInputs(root: string): Promise<KustomizeInputs> {
  const files = new Set<string>()
  const visited = new Set<string>()

  async function file(dir: string, ref: unknown, where: string): Promise<void> {
    const local = await localRef(dir, ref)
    if (local?.kind !== 'file') throw new Uncacheable(`${where}: ${String(ref)} is not a local file`)
    files.add(local.path)
  }

  async function resource(dir: string, ref: unknown, where: string): Promise<void> {
    const local = await localRef(dir, ref)
    if (!local) throw new Uncacheable(`${where}: ${String(ref)} is not a local file or directory`)
    if (local.kind === 'file') files.add(local.path)
    else await kustomization(local.path)
  }

  async function kustomization(dir: string): Promise<void> {
    if (visited.has(dir)) return
    visited.add(dir)
    const kfile = await kustomizationFile(dir)
    files.add(kfile)
    let doc: unknown
    try {
      doc = parse(await readFile(kfile, 'utf8'))
    } catch {
      throw new Uncacheable(`${kfile} is not YAML`)
    }
    if (doc === null || doc === undefined) return
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Uncacheable(`${kfile} is not a mapping`)
    for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
      const where = `${kfile}: ${key}`
      if (INLINE_KEYS.has(key)) continue
      if (key in UNCACHEABLE_KEYS) throw new Uncacheable(`${where}: ${UNCACHEABLE_KEYS[key]}`)
      const entries = () => list(value, where)
      switch (key) {
        case 'resources':
        case 'bases':
        case 'components': {
          for (const entry of entries()) await resource(dir, entry, where)
          break
        }

        case 'crds':
        case 'configurations': {
          for (const entry of entries()) await file(dir, entry, where)
          break
        }

        case 'patchesStrategicMerge': {
          // A string is a file, or (with a line break) the patch itself.
          for (const entry of entries()) if (!(typeof entry === 'string' && entry.includes('\n'))) await file(dir, entry, where)
          break
        }

        case 'patches':
        case 'patchesJson6902':
        case 'replacements': {
          for (const entry of entries()) {
            const p = (entry as {path?: unknown} | null)?.path
            if (p !== undefined) await file(dir, p, where)
          }
          break
        }

        case 'openapi': {
          const p = (value as {path?: unknown} | null)?.path
          if (p !== undefined) await file(dir, p, where)
          break
        }

        case 'configMapGenerator': {
          for (const entry of entries()) {
            const generator = (entry ?? {}) as {files?: unknown; envs?: unknown; env?: unknown}
            for (const f of list(generator.files ?? [], where)) await file(dir, generatorFilePath(f), where)
            for (const f of list(generator.envs ?? [], where)) await file(dir, f, where)
            if (generator.env !== undefined) await file(dir, generator.env, where)
          }
          break
        }

        default: {
          throw new Uncacheable(`${where}: a key this version of shopsys-ci does not know what it reads`)
        }
      }
    }
  }

  try {
    await kustomization(path.resolve(root))
  } catch (error) {
    if (error instanceof Uncacheable) return {uncacheable: error.message}
    throw error
  }
  return {files: [...files].sort()}
}

function list(value: unknown, where: string): unknown[] {
  if (value === null || value === undefined) return []
  if (!Array.isArray(value)) throw new Uncacheable(`${where}: not a list`)
  return value
}
