import path from 'node:path'

import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag} from '../flags.js'
import {resolveCommit, resolveContext} from '../pipeline/context.js'
import {type ImageRef, kustomizeCacheLine, plannedImages, renderStage} from '../pipeline/render-stage.js'

export interface RenderCommandResult {
  namespace: string
  templates: Array<{source: string; target: string}>
  manifestsFile?: string
  objects: string[]
  images: ImageRef[]
}

export default class Render extends CiCommand<typeof Render> {
  static summary = 'Render the app\'s config templates and its Kustomize manifests for a branch.'
  static description = `Renders every \`templates\` entry (strict Handlebars), writes a Kustomize overlay on top of the app's own overlay (namespace, images, labels, patches, generated ConfigMaps) under <output>/overlay, runs real kustomize and checks the result into <output>/manifests.yaml. Offline: talks to no registry and no cluster; image references are the ones the images stage will push.`
  static examples = [
    'BRANCH_NAME=feature/x DEVELOPMENT_SERVER_DOMAIN=ci.example.com DOCKER_USERNAME=acme GIT_COMMIT=0123abc <%= config.bin %> render',
    '<%= config.bin %> render --output build/preview --json',
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    output: Flags.string({char: 'o', summary: 'Directory for the overlay and manifests.yaml (default: <workspace>/.shopsys-ci).'}),
  }

  async run(): Promise<RenderCommandResult> {
    const ctx = await resolveContext({loaded: this.loadConfig(), workspace: this.workspace, env: process.env, branchFlag: this.flags.branch, namespaceFlag: this.flags.namespace})
    const commit = await resolveCommit(ctx.workspace, ctx.env)
    const images = await plannedImages(ctx, commit)
    const result = await renderStage({ctx, commit, images, output: this.flags.output})
    for (const t of result.templates) this.log(`rendered ${t.source} -> ${t.target}`)
    const cacheLine = kustomizeCacheLine(result.kustomizeCache)
    if (cacheLine) this.log(cacheLine)
    if (result.manifestsFile) {
      this.log(`manifests: ${path.relative(process.cwd(), result.manifestsFile)} (${result.objects.length} objects, namespace ${ctx.names.namespace})`)
    } else {
      // Exit 0 either way, but not in silence: `build` refuses to deploy without manifests.
      this.log('no manifests: the config has no `kustomize` section (`build` needs kustomize.base to deploy; docs/configuration.md)')
    }
    return {namespace: ctx.names.namespace, templates: result.templates, manifestsFile: result.manifestsFile, objects: result.objects, images}
  }
}
