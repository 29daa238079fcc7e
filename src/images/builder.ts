/**
 * `DockerCliImageBuilder`: builds with the docker CLI, choosing the strategy by detection, never by
 * assumption — BuildKit through `docker buildx build` when `docker buildx version` succeeds, the
 * legacy builder (`DOCKER_BUILDKIT=0 docker build`) otherwise.
 */
import {ImageBuildError} from '../errors.js'
import {tail} from '../util/process.js'
import {daemonError, type DockerCli, isDaemonUnreachable} from './docker-cli.js'
import type {BuildOptions, ImageBuilder, ImagePlan} from './types.js'

/** Lines of build output quoted in an error. */
export const ERROR_TAIL_LINES = 25

export interface BuildStrategy {
  readonly name: 'legacy' | 'buildx'
  /** The docker arguments that build `plan`, with `cacheFrom` as `--cache-from` sources. */
  args(plan: ImagePlan, labels: Record<string, string>, cacheFrom?: readonly string[]): string[]
  /** Extra environment for the build. */
  env(): Record<string, string>
}

/** How every image of a run is built, whichever builder builds it. */
export interface BuildSettings {
  /** `--network` of the RUN steps (config `build.network`); docker's default when unset. */
  network?: string
}

function commonArgs(plan: ImagePlan, labels: Record<string, string>, settings: BuildSettings, cacheFrom: readonly string[]): string[] {
  const args = ['--file', plan.dockerfile, '--tag', plan.reference]
  if (settings.network) args.push('--network', settings.network)
  if (plan.image.target) args.push('--target', plan.image.target)
  for (const key of Object.keys(plan.buildArgs).sort()) args.push('--build-arg', `${key}=${plan.buildArgs[key]}`)
  for (const key of Object.keys(labels).sort()) args.push('--label', `${key}=${labels[key]}`)
  for (const source of cacheFrom) args.push('--cache-from', source)
  return args
}

/** The classic builder: `DOCKER_BUILDKIT=0 docker build`. */
export class LegacyBuildStrategy implements BuildStrategy {
  readonly name = 'legacy'

  /** `chosen`: DOCKER_BUILDKIT=0 asked for it, rather than no buildx being found. */
  constructor(private readonly settings: BuildSettings & {chosen?: boolean} = {}) {}

  get reason(): string {
    return this.settings.chosen ? 'DOCKER_BUILDKIT=0' : 'no docker buildx found'
  }

  args(plan: ImagePlan, labels: Record<string, string>, cacheFrom: readonly string[] = []): string[] {
    // --force-rm: without it, the container of a failed step stays behind (stopped, with its file
    // system, e.g. a half-installed vendor/) after every failed build on the agent.
    return ['build', '--force-rm', ...commonArgs(plan, labels, this.settings, cacheFrom), plan.contextDir]
  }

  env(): Record<string, string> {
    return {DOCKER_BUILDKIT: '0'}
  }
}

/**
 * BuildKit through buildx: the image is loaded into the local image store (then pushed like any
 * other), with its build cache inlined so later builds can use a pushed image as cache.
 */
export class BuildxBuildStrategy implements BuildStrategy {
  readonly name = 'buildx'

  constructor(private readonly options: BuildSettings = {}) {}

  args(plan: ImagePlan, labels: Record<string, string>, cacheFrom: readonly string[] = []): string[] {
    return ['buildx', 'build', '--load', '--progress', 'plain', '--provenance', 'false', ...commonArgs(plan, labels, this.options, cacheFrom), '--cache-to', 'type=inline', plan.contextDir]
  }

  env(): Record<string, string> {
    return {DOCKER_BUILDKIT: '1'}
  }
}

export async function detectBuildStrategy(docker: DockerCli, options: BuildSettings = {}): Promise<BuildStrategy> {
  // DOCKER_BUILDKIT=0 chooses the legacy builder for `docker build`; `docker buildx build` would ignore it.
  if (docker.buildkitDisabled) return new LegacyBuildStrategy({network: options.network, chosen: true})
  return (await docker.hasBuildx()) ? new BuildxBuildStrategy(options) : new LegacyBuildStrategy({network: options.network})
}

export class DockerCliImageBuilder implements ImageBuilder {
  private strategy?: Promise<BuildStrategy>

  constructor(
    private readonly docker: DockerCli,
    strategy?: BuildStrategy,
    private readonly settings: BuildSettings = {},
  ) {
    if (strategy) this.strategy = Promise.resolve(strategy)
  }

  private getStrategy(): Promise<BuildStrategy> {
    this.strategy ??= detectBuildStrategy(this.docker, this.settings)
    return this.strategy
  }

  async describe(): Promise<string> {
    const strategy = await this.getStrategy()
    return strategy instanceof LegacyBuildStrategy ? `the legacy builder (${strategy.reason})` : 'BuildKit (docker buildx)'
  }

  async build(plan: ImagePlan, labels: Record<string, string>, options: BuildOptions): Promise<void> {
    const strategy = await this.getStrategy()
    const result = await this.docker.run(strategy.args(plan, labels, options.cacheFrom), {env: strategy.env(), onLine: options.onLine, signal: options.signal})
    if (result.exitCode === 0) return
    const output = tail(result.output, ERROR_TAIL_LINES)
    if (isDaemonUnreachable(output)) throw daemonError(output)
    // What failed, not which image: the run's summary names the image ("image "php-fpm" failed: build of …"), as for a push.
    const how = result.signal ? `was stopped by ${result.signal}` : `failed (docker exited with ${result.exitCode})`
    const suggestions = [`build it locally: docker build --file ${plan.dockerfile}${plan.image.target ? ` --target ${plan.image.target}` : ''} ${plan.contextDir}`]
    // BuildKit runs RUN steps on the daemon's default bridge; a daemon started with --bridge=none
    // (rootless or locked-down agents) has none, and the step fails before it starts.
    if (/network bridge not found/.test(output)) suggestions.unshift('the Docker daemon has no default bridge network (dockerd --bridge=none): set build.network in the config to host, or to none when the RUN steps need no network')
    throw new ImageBuildError(`build of ${plan.reference} ${how}`, {details: `last lines of the build of "${plan.name}":\n${output}`, suggestions})
  }
}
