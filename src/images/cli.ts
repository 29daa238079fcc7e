/**
 * What `images build` and `images push` share: the commit, the images stage header and footer,
 * and the result table. Kept out of src/commands so the commands stay thin; the images module
 * itself (Docker, the registry client) is loaded only once the command runs.
 */
import type {LoadedConfig} from '../config/load.js'
import type {Config} from '../config/model.js'
import {resolveBranch} from '../names/branch.js'
import {resolveCommit} from '../pipeline/context.js'
import type {Logger} from '../util/log.js'
import type {ImagesBaseContext} from './index.js'
import type {ImageResult} from './types.js'

export interface ImagesCommandResult {
  commit: string
  images: ImageResult[]
}

type ImagesModule = typeof import('./index.js')

/** The first signal's notice of `images build`/`images push`: DockerCli does both as the signal aborts. */
export const IMAGES_INTERRUPTION_NOTICE = 'stopping docker and deleting the temporary DOCKER_CONFIG (the registry login) now'
/** The second signal's: nothing is left to release. */
export const IMAGES_EXIT_AT_ONCE_NOTICE = 'the temporary DOCKER_CONFIG was deleted on the first signal'

/** Runs `operation` (build or push) as the `images` stage of a command and prints its results. */
export async function runImagesCommand(
  base: {loaded: LoadedConfig; workspace: string; logger: Logger; signal: AbortSignal},
  operation: (images: ImagesModule, ctx: ImagesBaseContext) => Promise<ImageResult[]>,
): Promise<ImagesCommandResult> {
  const env = process.env
  const commit = await resolveCommit(base.workspace, env)
  const images = await import('./index.js')
  const ctx: ImagesBaseContext = {config: base.loaded.config, configFile: base.loaded.file, workspace: base.workspace, env, commit, logger: base.logger, signal: base.signal}
  const results = await base.logger.stage('images', () => operation(images, ctx))
  base.logger.info(results.length === 0 ? 'no images configured' : images.formatImageResults(results))
  return {commit, images: results}
}

/**
 * The branch whose registry build cache `images build` uses (`--branch`, BRANCH_NAME, JOB_NAME, git,
 * as everywhere): asked only when build.cache.registry is on, so that without it a detached checkout
 * without BRANCH_NAME builds as before.
 */
export async function cacheBranch(config: Config, workspace: string, flag: string | undefined): Promise<string | undefined> {
  if (!config.build.cache.registry) return undefined
  return (await resolveBranch({flag, env: process.env, cwd: workspace})).branch
}
