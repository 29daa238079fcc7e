/**
 * The registry build cache (config `build.cache`, docs/images.md): every image built and pushed for a
 * branch is also pushed as `<repository>:ci-cache-<branch slug>`, a moving tag, and later builds of
 * the branch — or of a branch that has none yet, through `fallbackBranches` — pull that image and
 * build with it as `--cache-from`. So an agent without local layers rebuilds only the steps whose
 * inputs changed.
 *
 * The cache is an optimisation and never fails a build: a lookup, pull or push that fails is a
 * warning (an interruption still stops the run).
 */
import {slugify} from '../names/slug.js'
import type {CacheImageStore, ImagePlan, ImagePusher, RegistryClient} from './types.js'

export const CACHE_TAG_PREFIX = 'ci-cache-'

/**
 * A branch's cache tag: `ci-cache-<slug>`, the slug of the names module (the namespace's), at its
 * full length (63): not cut to leave room for hosts, which would make the tag depend on
 * DEVELOPMENT_SERVER_DOMAIN and the config's hosts. At most 72 characters of `[a-z0-9-]`. Pure.
 */
export function cacheTag(branch: string): string {
  return CACHE_TAG_PREFIX + slugify(branch.trim())
}

export interface CacheRef {
  /** The branch whose cache it is. */
  branch: string
  /** Whether that is the branch being built (else a fallback). */
  own: boolean
  tag: string
  /** `<repository>:<tag>`. */
  reference: string
}

/** The cache references an image's build reads, the branch's own first, then each fallback once. Pure. */
export function cacheRefs(repository: string, branch: string, fallbackBranches: readonly string[]): CacheRef[] {
  const refs: CacheRef[] = []
  for (const [i, b] of [branch, ...fallbackBranches].entries()) {
    const tag = cacheTag(b)
    if (refs.some((r) => r.tag === tag)) continue
    refs.push({branch: b.trim(), own: i === 0, tag, reference: `${repository}:${tag}`})
  }
  return refs
}

export interface RegistryBuildCacheOptions {
  branch: string
  fallbackBranches: readonly string[]
  registry: RegistryClient
  images: CacheImageStore
  pusher: ImagePusher
  /** Logs docker in (once), before the first pull. */
  login: () => Promise<void>
  /** One line for an image (info). */
  say: (name: string, message: string) => void
  warn: (name: string, message: string) => void
}

export class RegistryBuildCache {
  constructor(private readonly options: RegistryBuildCacheOptions) {}

  refs(plan: Pick<ImagePlan, 'repository'>): CacheRef[] {
    return cacheRefs(plan.repository, this.options.branch, this.options.fallbackBranches)
  }

  /**
   * The `--cache-from` source of `plan`: the branch's own cache, else the first fallback branch's
   * the registry has ("until it has its own"), pulled into the daemon. Each reference is asked with
   * a `HEAD` first, so a cache that does not exist costs no docker call. At most one is pulled: a
   * second source would mostly download layers the first does not share. One line says what was used.
   *
   * Pulled for both builders: the legacy builder only reads local images; BuildKit reads a registry
   * reference itself, but the inline cache it then exports lacks the layers of the steps it took from
   * that import (moby/buildkit#1981, #7146: seen with Docker 20.10), so every other build would
   * be cold. From a local image it exports a complete one.
   */
  async sources(plan: ImagePlan, signal?: AbortSignal): Promise<string[]> {
    const {registry, images, login, say, warn} = this.options
    const notes: string[] = []
    const missing: string[] = []
    let source: string | undefined
    for (const ref of this.refs(plan)) {
      let exists: boolean
      try {
        exists = (await registry.manifest(plan.path, ref.tag, signal)).exists
      } catch (error) {
        if (signal?.aborted) throw error
        warn(plan.name, `build cache: cannot ask ${registry.displayName} for ${ref.reference}, building without it: ${firstLine(error)}`)
        continue
      }
      if (!exists) {
        missing.push(ref.tag)
        continue
      }
      try {
        await login()
        // Deleted since the HEAD (e.g. by the registry's clean-up): as normal as never pushed.
        if ((await images.pull(ref.reference, signal)) === 'missing') {
          missing.push(ref.tag)
          continue
        }
      } catch (error) {
        if (signal?.aborted) throw error
        warn(plan.name, `build cache: cannot pull ${ref.reference}, building without it: ${firstLine(error)}`)
        continue
      }
      source = ref.reference
      notes.push(`pulled ${ref.reference} (${ref.own ? 'this branch' : `fallback branch ${ref.branch}`})`)
      break
    }
    if (missing.length > 0) notes.unshift(`${missing.join(', ')} not in ${registry.displayName} yet`)
    say(plan.name, `build cache: ${notes.join('; ')}${source ? '' : '; building without one'}`)
    return source ? [source] : []
  }

  /**
   * After `plan` was built and pushed: its image also becomes the branch's cache tag (`docker tag`,
   * then `docker push`, which only sends the manifest: the layers are there). A failure is a warning;
   * an interruption ends it silently (the image itself is pushed: the run reports it as finished).
   */
  async publish(plan: ImagePlan, signal?: AbortSignal): Promise<void> {
    const {images, pusher, say, warn} = this.options
    const own = this.refs(plan)[0]
    try {
      await images.tag(plan.reference, own.reference, signal)
      await pusher.push({...plan, tag: own.tag, reference: own.reference}, {onLine: () => {}, signal})
      say(plan.name, `build cache: pushed ${own.reference}`)
    } catch (error) {
      if (signal?.aborted) return
      warn(plan.name, `build cache: cannot push ${own.reference} (the image itself is pushed; the next build of this branch uses an older cache or none): ${firstLine(error)}`)
    }
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]
}
