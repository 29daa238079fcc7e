/**
 * The base of every command: common flags, the logger, the workspace and config, and the one place
 * where a thrown error becomes a message and an exit code (DESIGN §6).
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import createDebug from 'debug'

import {type LoadedConfig, loadConfig} from './config/load.js'
import {CiError, ExitCode} from './errors.js'
import {type Logger, StreamLogger} from './util/log.js'

const debug = createDebug('shopsys-ci:command')

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof CiCommand)['baseFlags'] & T['flags']>

export abstract class CiCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file (default: <workspace>/.ci/shopsys-ci.yaml).',
      env: 'SHOPSYS_CI_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    workspace: Flags.string({
      summary: 'The checked-out application repository (default: $WORKSPACE, else the current directory).',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({summary: 'Print debug details.', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: Interfaces.InferredArgs<T['args']>
  protected logger!: Logger

  public async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof CiCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as Interfaces.InferredArgs<T['args']>
    // With --json, stdout carries only the JSON result: human output moves to stderr.
    this.logger = new StreamLogger({
      out: this.jsonEnabled() ? process.stderr : process.stdout,
      verbose: this.flags.verbose || Boolean(process.env.DEBUG?.includes('shopsys-ci')),
    })
  }

  protected get workspace(): string {
    return this.flags.workspace ?? process.env.WORKSPACE ?? process.cwd()
  }

  protected loadConfig(options: {optional?: boolean} = {}): LoadedConfig {
    return loadConfig({workspace: this.workspace, configPath: this.flags.config, env: process.env, optional: options.optional})
  }

  /** `--json` errors carry the message too (an Error's own properties do not serialize it). */
  protected toErrorJson(error: unknown): unknown {
    const e = error as Errors.CLIError & {exitCode?: number; code?: string}
    return {error: {message: e.message, code: e.code, exitCode: e.oclif?.exit ?? e.exitCode, suggestions: e.suggestions}}
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    debug('%O', error)
    let cliError: Errors.CLIError
    if (error instanceof CiError) {
      if (error.details && !this.jsonEnabled()) process.stderr.write(`${error.details.trimEnd()}\n`)
      cliError = new Errors.CLIError(error.message, {exit: error.exitCode, code: error.code, suggestions: error.suggestions})
    } else if (error instanceof Errors.CLIError || (error as {oclif?: unknown}).oclif) {
      // oclif's own errors (unknown flag, missing argument): already usage errors with exit 2. oclif's
      // catch takes the process's exit code from `exitCode`, which they lack: with --json it was 1.
      const oclifExit = (error as {oclif?: {exit?: number}}).oclif?.exit
      return super.catch(Object.assign(error, {exitCode: error.exitCode ?? oclifExit}))
    } else {
      cliError = new Errors.CLIError(`unexpected error: ${error.message}`, {
        exit: ExitCode.unexpected,
        code: 'UNEXPECTED',
        suggestions: ['run again with DEBUG=shopsys-ci* to see the stack trace, and report it'],
      })
    }
    const exit = cliError.oclif.exit ?? ExitCode.unexpected
    if (!this.jsonEnabled()) {
      // Our own format rather than oclif's: no wrapping or "›" prefixes, so a Jenkins log keeps
      // every message line whole and greppable.
      process.stderr.write(formatError(cliError.message, cliError.code, exit, cliError.suggestions ?? []))
      Object.assign(cliError, {skipOclifErrorHandling: true})
    }
    return super.catch(Object.assign(cliError, {exitCode: exit}))
  }
}

export function formatError(message: string, code: string | undefined, exit: number, suggestions: string[]): string {
  const lines = [`Error: ${message}`]
  if (suggestions.length > 0) lines.push('Try:', ...suggestions.map((s) => `  - ${s}`))
  lines.push(`(exit ${exit}${code ? `, ${code}` : ''})`)
  return `${lines.join('\n')}\n`
}
