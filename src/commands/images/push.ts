import {Flags} from '@oclif/core'

import {CiCommand} from '../../base-command.js'
import {cacheBranch, IMAGES_EXIT_AT_ONCE_NOTICE, IMAGES_INTERRUPTION_NOTICE, type ImagesCommandResult, runImagesCommand} from '../../images/cli.js'

export default class ImagesPush extends CiCommand<typeof ImagesPush> {
  static summary = 'Push the images an earlier `images build` left in the local Docker daemon, skipping those already in the registry.'
  static description = `For every image of the config: compute its reference exactly as images build does (same config, commit, registry and tag policy), ask the registry over HTTP whether the tag exists (then the image is "reused" and not pushed), otherwise push the local image with that reference, with retries. The pushed digest is reported per image.

Every image that needs a push must exist in the local Docker daemon before anything is pushed; the missing ones are reported together (exit 2): run images build first, with the same GIT_COMMIT, DOCKER_REGISTRY and DOCKER_USERNAME. Credentials come from DOCKER_USERNAME and DOCKER_PASSWORD; docker logs in with --password-stdin into a temporary DOCKER_CONFIG that is removed at the end. On SIGINT/SIGTERM (a Jenkins abort) docker is stopped and that DOCKER_CONFIG deleted at once; the command exits 130 naming the images that finished. With build.cache.registry in the config, every pushed image also becomes the branch's build cache (<repository>:ci-cache-<branch slug>), as with images build --push.`
  static examples = [
    {
      description: 'Push what `images build` (without --push) built, e.g. after testing the images locally (DOCKER_USERNAME and DOCKER_PASSWORD bound by Jenkins withCredentials; the same variables as for the build):',
      command: 'DOCKER_REGISTRY=registry.example.com:5000 <%= config.bin %> <%= command.id %>',
    },
    {description: 'Overwrite tags the registry already has (e.g. after images build --force-build):', command: '<%= config.bin %> <%= command.id %> --force'},
    {description: 'Push one image at a time and print the results as JSON:', command: '<%= config.bin %> <%= command.id %> --parallel 1 --json'},
  ]
  static flags = {
    force: Flags.boolean({summary: 'Push even if the tag is already in the registry (the registry is not asked; the tag is overwritten).'}),
    parallel: Flags.integer({summary: 'Images pushed at once (default: build.parallel of the config, 2).', min: 1, max: 16}),
    branch: Flags.string({char: 'b', summary: 'Branch whose registry build cache tag a pushed image becomes, with build.cache.registry (default: $BRANCH_NAME, else the last segment of $JOB_NAME, else the checked-out branch).'}),
  }

  protected interruptionNotice = IMAGES_INTERRUPTION_NOTICE
  protected exitAtOnceNotice = IMAGES_EXIT_AT_ONCE_NOTICE

  async run(): Promise<ImagesCommandResult> {
    const {flags} = this
    const loaded = this.loadConfig()
    const branch = await cacheBranch(loaded.config, this.workspace, flags.branch)
    return runImagesCommand({loaded, workspace: this.workspace, logger: this.logger, signal: this.interruption}, (images, ctx) =>
      images.pushImages({...ctx, force: flags.force, parallel: flags.parallel, branch}),
    )
  }
}
