/** `--help` with the exit-code table (DESIGN §6) under every command and the root help. */
import {type Command, Help} from '@oclif/core'

import {exitCodeHelp} from './errors.js'

const EXIT_CODES = `EXIT CODES\n${exitCodeHelp()}`

export default class CiHelp extends Help {
  formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${EXIT_CODES}`
  }

  protected async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(`\n${EXIT_CODES}`)
  }
}
