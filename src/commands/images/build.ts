import {Flags} from '@oclif/core'

import {CiCommand} from '../../base-command.js'
import {cacheBranch, IMAGES_EXIT_AT_ONCE_NOTICE, IMAGES_INTERRUPTION_NOTICE, type ImagesCommandResult, runImagesCommand} from '../../images/cli.js'

export default class ImagesBuild extends CiCommand<typeof ImagesBuild> {
  static summary = 'Build the configured images (and push them with --push), skipping those already in the registry.'
  static description = `For every image of the config: compute its tag (commit, content or template policy), ask the registry over HTTP whether the tag exists (then the image is "reused": neither built nor pushed), otherwise build it with docker (BuildKit through buildx when present, else the legacy builder) and, with --push, push it with retries.

Repositories are <DOCKER_REGISTRY>/<DOCKER_USERNAME>/<image>, or <DOCKER_USERNAME>/<image> on Docker Hub (DOCKER_REGISTRY empty). Credentials come from DOCKER_USERNAME and DOCKER_PASSWORD; docker logs in with --password-stdin into a temporary DOCKER_CONFIG that is removed at the end. With build.cache.registry in the config, every build uses the registry build cache of the branch (<repository>:ci-cache-<branch slug>, else that of build.cache.fallbackBranches) and, with --push, moves the branch's cache tag to the pushed image. On SIGINT/SIGTERM (a Jenkins abort) docker is stopped and that DOCKER_CONFIG deleted at once; the command exits 130 naming the images that finished. The commit is GIT_COMMIT, else the workspace's git HEAD.`
  static examples = [
    {
      description: 'Build and push every image of .ci/shopsys-ci.yaml to a private registry (DOCKER_USERNAME and DOCKER_PASSWORD bound by Jenkins withCredentials):',
      command: 'DOCKER_REGISTRY=registry.example.com:5000 <%= config.bin %> <%= command.id %> --push',
    },
    {description: 'Build locally without asking any registry (nothing is pushed):', command: 'DOCKER_USERNAME=me <%= config.bin %> <%= command.id %> --force-build'},
    {description: 'Build one image at a time and print the results as JSON:', command: '<%= config.bin %> <%= command.id %> --push --parallel 1 --json'},
  ]
  static flags = {
    push: Flags.boolean({summary: 'Push the images that were built.'}),
    'force-build': Flags.boolean({summary: 'Build even if the tag is already in the registry (the registry is not asked).'}),
    parallel: Flags.integer({summary: 'Images built at once (default: build.parallel of the config, 2).', min: 1, max: 16}),
    branch: Flags.string({char: 'b', summary: 'Branch whose registry build cache is used and moved, with build.cache.registry (default: $BRANCH_NAME, else the last segment of $JOB_NAME, else the checked-out branch).'}),
  }

  protected interruptionNotice = IMAGES_INTERRUPTION_NOTICE
  protected exitAtOnceNotice = IMAGES_EXIT_AT_ONCE_NOTICE

  async run(): Promise<ImagesCommandResult> {
    const {flags} = this
    const loaded = this.loadConfig()
    const branch = await cacheBranch(loaded.config, this.workspace, flags.branch)
    return runImagesCommand({loaded, workspace: this.workspace, logger: this.logger, signal: this.interruption}, (images, ctx) =>
      images.buildImages({...ctx, push: flags.push, forceBuild: flags['force-build'], parallel: flags.parallel, branch}),
    )
  }
}
