import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {CiCommand} from '../base-command.js'
import {DEFAULT_CONFIG_PATH} from '../config/load.js'
import {UsageError} from '../errors.js'
import {STARTER_CONFIG} from '../init/starter.js'

export default class Init extends CiCommand<typeof Init> {
  static summary = 'Write a commented starter .ci/shopsys-ci.yaml into the application repository.'
  static description = 'Refuses to overwrite an existing file.'
  static examples = ['<%= config.bin %> init', '<%= config.bin %> init --config ci/preview.yaml']

  async run(): Promise<{file: string}> {
    const file = this.flags.config ? path.resolve(this.flags.config) : path.join(this.workspace, DEFAULT_CONFIG_PATH)
    await mkdir(path.dirname(file), {recursive: true})
    try {
      await writeFile(file, STARTER_CONFIG, {flag: 'wx'})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UsageError(`${file} already exists; not overwriting it`, {suggestions: ['edit it, or remove it first to start over']})
      }
      throw error
    }
    this.log(`wrote ${path.relative(process.cwd(), file) || file}; edit it, then run \`shopsys-ci render\``)
    return {file}
  }
}
