/**
 * The images stage (DESIGN §2.4, docs/images.md): for every configured image, compute its tag, ask
 * the registry whether that tag exists (then it is `reused`: neither built nor pushed), otherwise
 * build it (and push it with `push`). Independent images build in parallel, up to
 * `config.build.parallel`, each after the images it `dependsOn`.
 */
import type {Config} from '../config/model.js'
import {CiError, ImageBuildError, RegistryError} from '../errors.js'
import type {Logger} from '../util/log.js'
import {formatTable} from '../util/table.js'
import {tail} from '../util/process.js'
import {DockerCliImageBuilder} from './builder.js'
import {DockerCli} from './docker-cli.js'
import {checkImageInputs, computeInputsDigests, planImages} from './plan.js'
import {DockerCliImagePusher} from './pusher.js'
import {registryApiBase, registryFromEnv, type Registry} from './reference.js'
import {HttpRegistryClient} from './registry.js'
import {DEFAULT_RETRY, type RetryPolicy} from './retry.js'
import {type Outcome, runGraph} from './scheduler.js'
import type {ImageBuilder, ImagePlan, ImagePusher, ImageResult, RegistryClient} from './types.js'

export type {ImageBuilder, ImagePlan, ImagePusher, ImageResult, ImageStatus, ManifestInfo, RegistryClient, Tagger, TagInput} from './types.js'
export {BuildxBuildStrategy, DockerCliImageBuilder, LegacyBuildStrategy, detectBuildStrategy} from './builder.js'
export {DockerCli} from './docker-cli.js'
export {checkImageInputs, computeInputsDigests, dependencyBuildArg, orderImages, planImages} from './plan.js'
export {DockerCliImagePusher, parsePushDigest} from './pusher.js'
export {registryApiBase, registryFromEnv, registryScheme, repositoryFor, tagProblem} from './reference.js'
export {HttpRegistryClient} from './registry.js'
export {CommitTagger, ContentTagger, TemplateTagger, taggerFor} from './tagger.js'

export interface ImagesContext {
  config: Config
  workspace: string
  /** DOCKER_REGISTRY, DOCKER_USERNAME, DOCKER_PASSWORD, DOCKER_HOST, GIT_URL … */
  env: Readonly<Record<string, string | undefined>>
  commit: string
  logger: Logger
  push: boolean
  /** Build even when the tag already exists in the registry (and do not ask it). */
  forceBuild?: boolean
  signal?: AbortSignal
  /** Values for tag templates (default: config.values). */
  values?: Record<string, unknown>
  /** Images built at once (default: config.build.parallel). */
  parallel?: number
  /** `org.opencontainers.image.source` (default: GIT_URL without credentials). */
  source?: string
  /** The config file, for messages. */
  configFile?: string
  /** Replaces the default implementations (tests, other registries). */
  services?: Partial<ImageServices>
  retry?: RetryPolicy
  /** Clock for durations (tests). */
  now?: () => number
}

export interface ImageServices {
  registry: RegistryClient
  builder: ImageBuilder
  pusher: ImagePusher
  /** Logs docker in (once) before the first push; default: `docker login --password-stdin`. */
  login: () => Promise<void>
}

/** Runs the images stage; resolves with one result per configured image, in config order. */
export async function buildImages(ctx: ImagesContext): Promise<ImageResult[]> {
  const {config, logger} = ctx
  if (config.images.length === 0) return []
  const now = ctx.now ?? (() => performance.now())
  const retry = ctx.retry ?? DEFAULT_RETRY
  const registry = registryFromEnv(ctx.env)
  const password = ctx.env.DOCKER_PASSWORD ?? ''
  const credentials = password ? {username: registry.namespace, password} : undefined

  // Nothing starts before every image's inputs are known to exist (exit 2).
  checkImageInputs(config.images, ctx.workspace, ctx.configFile)
  const parallel = Math.max(1, ctx.parallel ?? config.build.parallel ?? 2)
  const inputsDigests = await computeInputsDigests(config.images, ctx.workspace, parallel)
  const plans = planImages({images: config.images, registry, workspace: ctx.workspace, commit: ctx.commit, values: ctx.values ?? config.values, inputsDigests})
  const byName = new Map(plans.map((p) => [p.name, p]))

  const docker = new DockerCli({env: ctx.env, secrets: [password], signal: ctx.signal})
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
  const builder = ctx.services?.builder ?? new DockerCliImageBuilder(docker)
  const pusher =
    ctx.services?.pusher ??
    new DockerCliImagePusher(docker, {retry, registry: registryClient, beforePush: login, onRetry: (plan, m) => say(plan.name, `retrying: ${m}`)})

  const labels = {
    'org.opencontainers.image.revision': ctx.commit,
    'org.opencontainers.image.source': ctx.source ?? sourceFromEnv(ctx.env) ?? `file://${ctx.workspace}`,
    'org.opencontainers.image.created': new Date().toISOString(),
  }
  const results = new Map<string, ImageResult>()
  let builderAnnounced = false

  const processImage = async (name: string): Promise<ImageResult> => {
    const plan = byName.get(name)!
    const started = now()
    const result = (status: ImageResult['status'], digest?: string): ImageResult => ({
      name: plan.name,
      placeholder: plan.placeholder,
      repository: plan.repository,
      tag: plan.tag,
      reference: plan.reference,
      ...(digest ? {digest} : {}),
      status,
      durationMs: Math.round(now() - started),
    })
    if (!ctx.forceBuild) {
      const info = await registryClient.manifest(plan.path, plan.tag, ctx.signal)
      if (info.exists) {
        say(name, `reused ${plan.reference}${info.digest ? ` (${info.digest})` : ''}: already in ${registryClient.displayName}, not built`)
        return result('reused', info.digest)
      }
      say(name, `${plan.reference} is not in ${registryClient.displayName} yet: building`)
    }
    // Images built FROM a reused dependency need it from the registry: be logged in first.
    if (ctx.push || plan.dependsOn.some((d) => results.get(d)?.status === 'reused')) await login()
    if (!builderAnnounced) {
      builderAnnounced = true
      logger.info(`building with ${await builder.describe()}`)
    }
    await builder.build(plan, labels, {onLine: (line) => say(name, line), signal: ctx.signal})
    say(name, `built ${plan.reference}`)
    let digest: string | undefined
    if (ctx.push) {
      digest = (await pusher.push(plan, {onLine: (line) => say(name, line), signal: ctx.signal})).digest
      say(name, `pushed ${plan.reference}${digest ? ` (${digest})` : ''}`)
    }
    return result('built', digest)
  }

  let outcomes: Map<string, Outcome<ImageResult>>
  try {
    outcomes = await runGraph(
      plans.map((p) => ({id: p.name, deps: p.dependsOn})),
      parallel,
      async (name) => {
        const r = await processImage(name)
        results.set(name, r)
        return r
      },
    )
  } finally {
    await docker.dispose()
  }

  const failed = plans.filter((p) => outcomes.get(p.name)?.state !== 'done')
  if (failed.length > 0) throw summarizeFailure(plans, outcomes, ctx.push)
  return config.images.map((image) => results.get(image.name)!)
}

/** One error for a failed run: the first failure's kind and exit code, and what became of every image. */
export function summarizeFailure(plans: readonly ImagePlan[], outcomes: ReadonlyMap<string, Outcome<ImageResult>>, push: boolean): Error {
  const failures = plans.filter((p) => outcomes.get(p.name)?.state === 'failed')
  const first = outcomes.get(failures[0]?.name ?? '') as {state: 'failed'; error: unknown} | undefined
  const cause = first?.error
  const finished: string[] = []
  const unfinished: string[] = []
  for (const plan of plans) {
    const o = outcomes.get(plan.name)
    if (o?.state === 'done') {
      finished.push(`${plan.name} (${o.value.status === 'reused' ? 'reused' : push ? 'built and pushed' : 'built'}: ${plan.reference})`)
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
