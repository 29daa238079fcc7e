/**
 * The images stage (DESIGN §2.4, docs/images.md): for every configured image, compute its tag, ask
 * the registry whether that tag exists (then it is `reused`: neither built nor pushed), otherwise
 * build it (and push it with `push`). Independent images build in parallel, up to
 * `config.build.parallel`, each after the images it `dependsOn`.
 *
 * `pushImages` is the second half on its own (`images push`): the same plans, registry lookup,
 * login and pusher, for images an earlier `images build` left in the local Docker daemon.
 */
import type {Config} from '../config/model.js'
import {abortedBy, CiError, ImageBuildError, ImageNotBuiltError, InterruptedError, RegistryError, UsageError, withPartialResult} from '../errors.js'
import type {Logger} from '../util/log.js'
import {formatTable} from '../util/table.js'
import {tail} from '../util/process.js'
import {DockerCliImageBuilder} from './builder.js'
import {RegistryBuildCache} from './cache.js'
import {DockerCli} from './docker-cli.js'
import {checkImageInputs, computeInputsDigests, planImages} from './plan.js'
import {DockerCliImagePusher} from './pusher.js'
import {registryApiBase, registryFromEnv, type Registry} from './reference.js'
import {HttpRegistryClient} from './registry.js'
import {DEFAULT_RETRY, type RetryPolicy} from './retry.js'
import {type Outcome, runGraph} from './scheduler.js'
import type {CacheImageStore, ImageBuilder, ImagePlan, ImagePusher, ImageResult, LocalImageStore, RegistryClient} from './types.js'

export type {BuildOptions, CacheImageStore, ImageBuilder, ImagePlan, ImagePusher, ImageResult, ImageStatus, LocalImageStore, ManifestInfo, RegistryClient, Tagger, TagInput} from './types.js'
export {BuildxBuildStrategy, DockerCliImageBuilder, LegacyBuildStrategy, detectBuildStrategy} from './builder.js'
export {CACHE_TAG_PREFIX, cacheRefs, cacheTag, RegistryBuildCache} from './cache.js'
export {DockerCli} from './docker-cli.js'
export {checkImageInputs, computeInputsDigests, dependencyBuildArg, orderImages, planImages} from './plan.js'
export {DockerCliImagePusher, parsePushDigest} from './pusher.js'
export {registryApiBase, registryFromEnv, registryScheme, repositoryFor, tagProblem} from './reference.js'
export {HttpRegistryClient} from './registry.js'
export {CommitTagger, ContentTagger, TemplateTagger, taggerFor} from './tagger.js'

/** What `buildImages` and `pushImages` both need. */
export interface ImagesBaseContext {
  config: Config
  workspace: string
  /** DOCKER_REGISTRY, DOCKER_USERNAME, DOCKER_PASSWORD, DOCKER_HOST, GIT_URL … */
  env: Readonly<Record<string, string | undefined>>
  commit: string
  logger: Logger
  signal?: AbortSignal
  /** Values for tag templates (default: config.values). */
  values?: Record<string, unknown>
  /** Images built (or pushed) at once (default: config.build.parallel). */
  parallel?: number
  /** The config file, for messages. */
  configFile?: string
  /** Replaces the default implementations (tests, other registries). */
  services?: Partial<ImageServices>
  retry?: RetryPolicy
  /** Clock for durations (tests). */
  now?: () => number
  /**
   * The branch being built: whose registry build cache a build uses, and which a pushed image moves
   * (needed with build.cache.registry).
   */
  branch?: string
}

export interface ImagesContext extends ImagesBaseContext {
  push: boolean
  /** Build even when the tag already exists in the registry (and do not ask it). */
  forceBuild?: boolean
  /** `org.opencontainers.image.source` (default: GIT_URL without credentials). */
  source?: string
}

export interface PushImagesContext extends ImagesBaseContext {
  /** Push even when the tag already exists in the registry (and do not ask it): overwrites the tag. */
  force?: boolean
}

export interface ImageServices {
  registry: RegistryClient
  builder: ImageBuilder
  pusher: ImagePusher
  /** Where `images push` looks for the images to push; default: the Docker daemon (`docker image inspect`). */
  localImages: LocalImageStore
  /** Logs docker in (once) before the first push; default: `docker login --password-stdin`. */
  login: () => Promise<void>
  /** Pulls and tags for the registry build cache; default: the Docker daemon. */
  cacheImages: CacheImageStore
}

/** One run of either command: the plans and the services, wired once (see `withSession`). */
interface Session {
  /** In dependency order. */
  plans: ImagePlan[]
  byName: Map<string, ImagePlan>
  parallel: number
  docker: DockerCli
  registry: RegistryClient
  pusher: ImagePusher
  /** Logs docker in, once, lazily (a no-op without DOCKER_PASSWORD). */
  login: () => Promise<void>
  /** Logs a line for an image, scrubbed of the password. */
  say: (name: string, message: string) => void
  now: () => number
}

/**
 * Checks the inputs, computes every image's tag, wires the services, runs `work`, and removes the
 * temporary DOCKER_CONFIG afterwards, whatever happened.
 */
async function withSession<T>(ctx: ImagesBaseContext, work: (session: Session) => Promise<T>): Promise<T> {
  const {config, logger} = ctx
  const retry = ctx.retry ?? DEFAULT_RETRY
  const registry = registryFromEnv(ctx.env)
  const password = ctx.env.DOCKER_PASSWORD ?? ''
  const credentials = password ? {username: registry.namespace, password} : undefined

  // Nothing starts before every image's inputs are known to exist (exit 2). `images push` needs them
  // too: a content tag is computed from them, and the tag decides what is pushed.
  checkImageInputs(config.images, ctx.workspace, ctx.configFile)
  const parallel = Math.max(1, ctx.parallel ?? config.build.parallel ?? 2)
  const inputsDigests = await computeInputsDigests(config.images, ctx.workspace, parallel)
  const plans = planImages({images: config.images, registry, workspace: ctx.workspace, commit: ctx.commit, values: ctx.values ?? config.values, inputsDigests})

  const docker = new DockerCli({env: ctx.env, secrets: [password], signal: ctx.signal})
  try {
    const redact = (s: string) => docker.redact(s)
    const say = (name: string, message: string) => logger.line(name, redact(message))

    let loggedIn: Promise<void> | undefined
    const login = (): Promise<void> => {
      if (ctx.services?.login) return (loggedIn ??= ctx.services.login())
      if (!credentials) return Promise.resolve()
      loggedIn ??= docker.login(registry.host, credentials.username, credentials.password, retry, (m) => logger.warn(redact(m)))
      return loggedIn
    }
    const registryClient =
      ctx.services?.registry ??
      new HttpRegistryClient(registry, {
        credentials,
        retry,
        onRetry: (m) => logger.warn(redact(m)),
        baseUrl: registry.host ? undefined : registryApiBase(registry, await docker.defaultIndex()),
      })
    const pusher =
      ctx.services?.pusher ??
      new DockerCliImagePusher(docker, {retry, registry: registryClient, beforePush: login, onRetry: (plan, m) => say(plan.name, `retrying: ${m}`)})

    return await work({
      plans,
      byName: new Map(plans.map((p) => [p.name, p])),
      parallel,
      docker,
      registry: registryClient,
      pusher,
      login,
      say,
      now: ctx.now ?? (() => performance.now()),
    })
  } finally {
    await docker.dispose()
  }
}

/** The result of one image, timed from `started`. */
function imageResult(plan: ImagePlan, status: ImageResult['status'], started: number, now: () => number, digest?: string): ImageResult {
  return {
    name: plan.name,
    placeholder: plan.placeholder,
    repository: plan.repository,
    tag: plan.tag,
    reference: plan.reference,
    ...(digest ? {digest} : {}),
    status,
    durationMs: Math.round(now() - started),
  }
}

/**
 * The registry lookup both commands start an image with: the `reused` result when the registry has
 * the tag already (logged), else undefined. `skipped` names what is then not done (built, pushed).
 */
async function reusedFromRegistry(session: Pick<Session, 'registry' | 'say' | 'now'>, plan: ImagePlan, started: number, skipped: 'built' | 'pushed', signal?: AbortSignal): Promise<ImageResult | undefined> {
  const {registry, say, now} = session
  const info = await registry.manifest(plan.path, plan.tag, signal)
  if (!info.exists) return undefined
  say(plan.name, `reused ${plan.reference}${info.digest ? ` (${info.digest})` : ''}: already in ${registry.displayName}, not ${skipped}`)
  return imageResult(plan, 'reused', started, now, info.digest)
}

/** Runs the images stage; resolves with one result per configured image, in config order. */
export async function buildImages(ctx: ImagesContext): Promise<ImageResult[]> {
  const {config, logger} = ctx
  if (config.images.length === 0) return []
  return withSession(ctx, async (session) => {
    const {plans, byName, parallel, docker, registry, pusher, login, say, now} = session
    const builder = ctx.services?.builder ?? new DockerCliImageBuilder(docker, undefined, {network: config.build.network})
    const cache = buildCache(ctx, session)
    const labels = {
      'org.opencontainers.image.revision': ctx.commit,
      'org.opencontainers.image.source': ctx.source ?? sourceFromEnv(ctx.env) ?? `file://${ctx.workspace}`,
      'org.opencontainers.image.created': new Date().toISOString(),
    }
    const results = new Map<string, ImageResult>()
    const doing = new Map<string, string>()
    let builderAnnounced = false

    const processImage = async (name: string): Promise<ImageResult> => {
      ctx.signal?.throwIfAborted()
      const plan = byName.get(name)!
      const started = now()
      if (!ctx.forceBuild) {
        doing.set(name, 'asking the registry about')
        const reused = await reusedFromRegistry(session, plan, started, 'built', ctx.signal)
        if (reused) return reused
        say(name, `${plan.reference} is not in ${registry.displayName} yet: building`)
      }
      if (!builderAnnounced) {
        builderAnnounced = true
        logger.info(`building with ${await builder.describe()}`)
      }
      let cacheFrom: string[] = []
      if (cache) {
        doing.set(name, 'looking up the build cache of')
        cacheFrom = await cache.sources(plan, ctx.signal)
      }
      doing.set(name, 'building')
      // Images built FROM a reused dependency need it from the registry: be logged in first.
      if (ctx.push || plan.dependsOn.some((d) => results.get(d)?.status === 'reused')) await login()
      await builder.build(plan, labels, {onLine: (line) => say(name, line), signal: ctx.signal, cacheFrom})
      say(name, `built ${plan.reference}`)
      let digest: string | undefined
      if (ctx.push) {
        doing.set(name, 'pushing')
        digest = (await pusher.push(plan, {onLine: (line) => say(name, line), signal: ctx.signal})).digest
        say(name, `pushed ${plan.reference}${digest ? ` (${digest})` : ''}`)
        // Only a pushed build moves the cache tag: a local one's layers are not in the registry.
        if (cache) {
          doing.set(name, 'pushing the build cache of')
          await cache.publish(plan, ctx.signal)
        }
      }
      return imageResult(plan, 'built', started, now, digest)
    }

    const outcomes = await runGraph(
      plans.map((p) => ({id: p.name, deps: p.dependsOn})),
      parallel,
      async (name) => {
        const r = await processImage(name).catch(forgetUnlessInterrupted(doing, name, ctx.signal))
        doing.delete(name)
        results.set(name, r)
        return r
      },
    )
    if (ctx.signal?.aborted) throw interruptedImages('images build', ctx.signal, plans, outcomes, {doing, push: ctx.push, dockerConfig: docker.usedDockerConfig})
    const failed = plans.filter((p) => outcomes.get(p.name)?.state !== 'done')
    if (failed.length > 0) throw summarizeFailure(plans, outcomes, ctx.push)
    return config.images.map((image) => results.get(image.name)!)
  })
}

/** The registry build cache of the run, when build.cache.registry is on. */
function buildCache(ctx: ImagesBaseContext, session: Session): RegistryBuildCache | undefined {
  const settings = ctx.config.build.cache
  if (!settings.registry) return undefined
  if (!ctx.branch?.trim()) {
    throw new UsageError('build.cache.registry is on, but the branch whose cache to use is not known', {
      suggestions: ['set BRANCH_NAME or pass --branch <name>', 'or set build.cache.registry to false in the config'],
    })
  }
  const {logger} = ctx
  return new RegistryBuildCache({
    branch: ctx.branch,
    fallbackBranches: settings.fallbackBranches,
    registry: session.registry,
    images: ctx.services?.cacheImages ?? session.docker,
    pusher: session.pusher,
    login: session.login,
    say: session.say,
    warn: (name, message) => logger.warn(session.docker.redact(`[${name}] ${message}`)),
  })
}

/**
 * `images push`: pushes the images an earlier `images build` (without --push) left in the local
 * Docker daemon, tagged with the same references. Tags the registry already has are `reused` (not
 * pushed) unless `force`. Every image that needs a push must exist locally before anything is
 * pushed: the missing ones are reported together (ImageNotBuiltError, exit 2). Resolves with one
 * result per configured image, in config order.
 */
export async function pushImages(ctx: PushImagesContext): Promise<ImageResult[]> {
  const {config} = ctx
  if (config.images.length === 0) return []
  return withSession(ctx, async (session) => {
    const {plans, byName, parallel, docker, registry, pusher, login, say, now} = session
    const localImages = ctx.services?.localImages ?? docker
    const cache = buildCache(ctx, session)
    const started = new Map<string, number>()
    const results = new Map<string, ImageResult>()
    const doing = new Map<string, string>()
    /** Reused and pushed so far, as outcomes: what an interruption reports as finished. */
    const finished = () => new Map<string, Outcome<ImageResult>>([...results].map(([name, value]) => [name, {state: 'done', value}]))

    // 1. What needs a push, and is it here? Asked for every image before anything is pushed, so a
    //    missing image never leaves the registry with half of a run's images.
    const checkImage = async (name: string): Promise<{plan: ImagePlan; imageId?: string}> => {
      const plan = byName.get(name)!
      started.set(name, now())
      if (!ctx.force) {
        doing.set(name, 'asking the registry about')
        const reused = await reusedFromRegistry(session, plan, started.get(name)!, 'pushed', ctx.signal)
        if (reused) {
          doing.delete(name)
          results.set(name, reused)
          return {plan}
        }
      }
      doing.set(name, 'looking for the local image of')
      const imageId = await localImages.imageId(plan.reference, ctx.signal)
      doing.delete(name)
      return {plan, imageId}
    }
    const checked = await runGraph(
      plans.map((p) => ({id: p.name, deps: []})),
      parallel,
      (name) => checkImage(name).catch(forgetUnlessInterrupted(doing, name, ctx.signal)),
    )
    if (ctx.signal?.aborted) throw interruptedImages('images push', ctx.signal, plans, finished(), {doing, push: true, dockerConfig: docker.usedDockerConfig})
    for (const plan of plans) {
      const o = checked.get(plan.name)
      // Nothing was pushed yet: the first failure (registry, daemon) is the whole story.
      if (o?.state === 'failed') throw o.error
    }
    const toPush = plans.filter((p) => !results.has(p.name))
    const missing = toPush.filter((p) => {
      const o = checked.get(p.name)
      return o?.state === 'done' && o.value.imageId === undefined
    })
    if (missing.length > 0) throw notBuiltError(missing, plans.filter((p) => results.has(p.name)), ctx.env.DOCKER_HOST, ctx.force ? undefined : registry.displayName)

    // 2. Push, a few at a time, each after the images it dependsOn (their shared layers go up once).
    const pushing = new Set(toPush.map((p) => p.name))
    const pushed = await runGraph(
      toPush.map((p) => ({id: p.name, deps: p.dependsOn.filter((d) => pushing.has(d))})),
      parallel,
      async (name) => {
        ctx.signal?.throwIfAborted()
        const plan = byName.get(name)!
        const o = checked.get(name) as {state: 'done'; value: {imageId?: string}}
        doing.set(name, 'pushing')
        // Once, before the first push; a refused login is exit 5 before anything went up.
        await login().catch(forgetUnlessInterrupted(doing, name, ctx.signal))
        say(name, `pushing ${plan.reference} (local image ${o.value.imageId})`)
        const {digest} = await pusher.push(plan, {onLine: (line) => say(name, line), signal: ctx.signal}).catch(forgetUnlessInterrupted(doing, name, ctx.signal))
        say(name, `pushed ${plan.reference}${digest ? ` (${digest})` : ''}`)
        // What `images build --push` would have done: the pushed build becomes the branch's cache.
        if (cache) {
          doing.set(name, 'pushing the build cache of')
          await cache.publish(plan, ctx.signal)
        }
        const r = imageResult(plan, 'pushed', started.get(name)!, now, digest)
        doing.delete(name)
        results.set(name, r)
        return r
      },
    )
    if (ctx.signal?.aborted) throw interruptedImages('images push', ctx.signal, plans, finished(), {doing, push: true, dockerConfig: docker.usedDockerConfig})
    if (toPush.some((p) => pushed.get(p.name)?.state !== 'done')) {
      const outcomes = new Map<string, Outcome<ImageResult>>(pushed)
      for (const [name, value] of results) if (value.status === 'reused') outcomes.set(name, {state: 'done', value})
      throw summarizeFailure(plans, outcomes, true)
    }
    return config.images.map((image) => results.get(image.name)!)
  })
}

/**
 * Every image `images push` should push but found no local image for, with what to do. `registry` is
 * the registry that was asked (undefined with --force, which does not ask it).
 */
function notBuiltError(missing: readonly ImagePlan[], reused: readonly ImagePlan[], dockerHost: string | undefined, registry: string | undefined): ImageNotBuiltError {
  const n = missing.length
  const lines = missing.map((p) => `  - ${p.name}: ${p.reference}`)
  const daemon = dockerHost ? `the Docker daemon at DOCKER_HOST=${dockerHost}` : 'the local Docker daemon'
  const where = registry ? `neither in ${registry} nor in ${daemon}` : `not in ${daemon}`
  return new ImageNotBuiltError(
    `${n} image${n === 1 ? '' : 's'} to push ${n === 1 ? 'is' : 'are'} ${where}, so nothing was pushed:\n${lines.join('\n')}` +
      (reused.length > 0 ? `\nalready in ${registry} (would be reused): ${reused.map((p) => p.name).join(', ')}` : ''),
    {
      suggestions: [
        'build them first: shopsys-ci images build (then run images push again), or build and push in one step: shopsys-ci images build --push',
        'if they were built: the tag depends on GIT_COMMIT, DOCKER_REGISTRY, DOCKER_USERNAME, the config and (content tags) the files; run images push with the same values, against the same Docker daemon, as images build',
      ],
    },
  )
}

/**
 * Rethrows; an image that failed on its own (before any signal) was not what the run was doing when
 * it was interrupted, so it leaves `doing`.
 */
function forgetUnlessInterrupted(doing: Map<string, string>, name: string, signal: AbortSignal | undefined): (error: unknown) => never {
  return (error) => {
    if (!signal?.aborted) doing.delete(name)
    throw error
  }
}

/**
 * The one line of a run stopped by the command's interruption (the first SIGINT/SIGTERM): what each
 * unfinished image was doing, that docker was stopped and the credentials deleted (DockerCli did both
 * when the signal aborted), and which images finished (in the registry or the daemon) and which not.
 * The finished ones are its partial result, as for a failure.
 */
function interruptedImages(
  what: string,
  signal: AbortSignal,
  plans: readonly ImagePlan[],
  outcomes: ReadonlyMap<string, Outcome<ImageResult>>,
  at: {doing: ReadonlyMap<string, string>; push: boolean; dockerConfig: boolean},
): InterruptedError {
  const finished: string[] = []
  const unfinished: string[] = []
  const done: ImageResult[] = []
  for (const plan of plans) {
    const o = outcomes.get(plan.name)
    if (o?.state === 'done') {
      done.push(o.value)
      finished.push(`${plan.name} (${o.value.status === 'built' && at.push ? 'built and pushed' : o.value.status}: ${plan.reference})`)
    } else {
      unfinished.push(plan.name)
    }
  }
  const byActivity = new Map<string, string[]>()
  for (const [name, activity] of at.doing) byActivity.set(activity, [...(byActivity.get(activity) ?? []), name])
  const during = [...byActivity].map(([activity, names]) => `${activity} ${names.join(' and ')}`).join(', ')
  const left = [
    at.dockerConfig ? 'stopped its docker commands and deleted the temporary DOCKER_CONFIG (the registry login)' : undefined,
    `finished: ${finished.length > 0 ? finished.join(', ') : 'none'}`,
    unfinished.length > 0 ? `not finished: ${unfinished.join(', ')}` : undefined,
  ]
  const first = plans.map((p) => outcomes.get(p.name)).find((o) => o?.state === 'failed') as {error: unknown} | undefined
  const error = InterruptedError.of(abortedBy(signal), {what, during: during || undefined, left: left.filter(Boolean).join('; ')}, {cause: first?.error})
  return withPartialResult(error, done)
}

/**
 * One error for a failed run: the first failure's kind and exit code, and what became of every image.
 * The images that did finish are its partial result (`partialResultOf`): `build`'s report lists them.
 */
export function summarizeFailure(plans: readonly ImagePlan[], outcomes: ReadonlyMap<string, Outcome<ImageResult>>, push: boolean): Error {
  const done = plans.flatMap((p) => {
    const o = outcomes.get(p.name)
    return o?.state === 'done' ? [o.value] : []
  })
  return withPartialResult(describeFailure(plans, outcomes, push), done)
}

function describeFailure(plans: readonly ImagePlan[], outcomes: ReadonlyMap<string, Outcome<ImageResult>>, push: boolean): Error {
  const failures = plans.filter((p) => outcomes.get(p.name)?.state === 'failed')
  const first = outcomes.get(failures[0]?.name ?? '') as {state: 'failed'; error: unknown} | undefined
  const cause = first?.error
  const finished: string[] = []
  const unfinished: string[] = []
  for (const plan of plans) {
    const o = outcomes.get(plan.name)
    if (o?.state === 'done') {
      const status = o.value.status === 'built' && push ? 'built and pushed' : o.value.status
      finished.push(`${plan.name} (${status}: ${plan.reference})`)
    } else if (o?.state === 'failed') {
      const kind = o.error instanceof ImageBuildError ? 'build failed' : o.error instanceof RegistryError ? 'registry failed' : 'failed'
      unfinished.push(`${plan.name} (${kind}: ${firstLine(o.error)})`)
    } else {
      unfinished.push(`${plan.name} (not started: ${o?.state === 'not-started' ? o.reason : 'unknown'})`)
    }
  }
  const status = `finished: ${finished.length > 0 ? finished.join('; ') : 'none'}\nnot finished: ${unfinished.join('; ')}`
  const names = failures.map((p) => `"${p.name}"`).join(', ')
  // The last lines of each failed build/push, in the message itself so --json carries them too.
  const output = failures
    .map((p) => (outcomes.get(p.name) as {error: unknown}).error)
    .map((e) => (e instanceof CiError && e.details ? tail(e.details, 15) : undefined))
    .filter((d): d is string => Boolean(d))
    .join('\n')
  const message = `${failures.length === 1 ? 'image' : 'images'} ${names} failed: ${firstLine(cause)}\n${status}${output ? `\n${output}` : ''}`
  if (cause instanceof ImageBuildError || cause instanceof RegistryError) {
    // Keep the cause's kind (and so its exit code) while telling the whole story.
    const Kind = cause.constructor as new (message: string, options: object) => CiError
    return new Kind(message, {cause, suggestions: cause.suggestions})
  }
  if (cause instanceof Error) return Object.assign(cause, {message: `${cause.message}\n${status}`})
  return new Error(message, {cause})
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]
}

/** `GIT_URL` (set by Jenkins' git plugin) without any credentials in it. */
export function sourceFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const url = env.GIT_URL
  if (!url) return undefined
  return stripCredentials(url)
}

export function stripCredentials(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    // scp-like `git@host:org/repo.git`: the user part is not a secret, but drop a password if any.
    return url.replace(/^([^@/:]+):[^@/]*@/, '$1@')
  }
}

/** A plain-text table of results, for the human summary. */
export function formatImageResults(results: readonly ImageResult[]): string {
  return formatTable(
    ['IMAGE', 'STATUS', 'REFERENCE', 'DIGEST', 'TIME'],
    results.map((r) => [r.name, r.status, r.reference, r.digest ?? '-', `${(r.durationMs / 1000).toFixed(1)}s`]),
  )
}

export type {Registry}
