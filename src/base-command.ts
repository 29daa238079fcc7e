/**
 * The base of every command: common flags, the logger, the workspace and config, the one place
 * where a thrown error becomes a message and an exit code (DESIGN §6), and the one place that
 * handles SIGINT/SIGTERM (a Jenkins abort) for the commands that ask for `this.interruption`.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import createDebug from 'debug'
import {format} from 'node:util'

import {secretValues, variablesFor} from './config/environment.js'
import {type LoadedConfig, loadConfig} from './config/load.js'
import {abortedBy, CiError, ExitCode, InterruptedError, interruptionOf} from './errors.js'
import {type Logger, StreamLogger} from './util/log.js'
import {type Redact, redactDeep, redactor} from './util/redact.js'

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
  /**
   * Every secret variable's value (DOCKER_PASSWORD, …, and once the config is loaded those its
   * deploy.secrets reads) becomes `***` in whatever the command prints.
   */
  protected readonly redact: Redact = (text) => this.redactSecrets(text)
  private redactSecrets: Redact = redactor(secretValues(process.env))
  /** What the first SIGINT/SIGTERM's notice says happens next (build: logs and cleanup still run). */
  protected interruptionNotice = 'stopping; what this command holds is released first'
  /** What the second signal's notice says is left as it is (the first signal released the rest). */
  protected exitAtOnceNotice = 'releasing nothing (a branch lock expires within 30 s)'
  private interrupter?: {controller: AbortController; remove(): void}

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
      redact: this.redact,
    })
  }

  /**
   * Aborted by the first SIGINT or SIGTERM the process gets while the command runs. The first use
   * installs the handlers (removed when the command ends): the first signal aborts, with an
   * InterruptedError naming the signal as its reason, so that waits end and `finally` blocks release
   * locks; the command then fails with exit 130 and says what is left. A second signal exits at once
   * (130), releasing nothing: a branch lock then expires by itself within 30 s.
   */
  protected get interruption(): AbortSignal {
    if (!this.interrupter) {
      const controller = new AbortController()
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) {
          this.logger.warn(`${signal} again: exiting at once (exit ${ExitCode.interrupted}), ${this.exitAtOnceNotice}`)
          // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit -- the command layer, at the user's explicit request
          process.exit(ExitCode.interrupted)
        }
        this.logger.warn(`${signal} received: ${this.interruptionNotice} (send it again to exit at once)`)
        controller.abort(new InterruptedError(`interrupted by ${signal}`, {signal}))
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      this.interrupter = {
        controller,
        remove() {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        },
      }
    }
    return this.interrupter.controller.signal
  }

  /**
   * `work`, or an InterruptedError as soon as the command is interrupted: for commands that only
   * read (list, status), which hold nothing and need not wait for their requests to end.
   */
  protected untilInterrupted<T>(work: Promise<T>, what: string): Promise<T> {
    const signal = this.interruption
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(InterruptedError.of(abortedBy(signal), {what, left: 'it only reads, so nothing was changed'}))
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, {once: true})
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  protected async finally(error: Error | undefined): Promise<unknown> {
    this.interrupter?.remove()
    return super.finally(error)
  }

  protected get workspace(): string {
    return this.flags.workspace ?? process.env.WORKSPACE ?? process.cwd()
  }

  protected loadConfig(options: {optional?: boolean} = {}): LoadedConfig {
    const loaded = loadConfig({workspace: this.workspace, configPath: this.flags.config, env: process.env, optional: options.optional})
    this.redactSecrets = redactor(secretValues(process.env, variablesFor(loaded.config)))
    return loaded
  }

  /** What a command prints with `this.log` (tables, URLs) passes the same redaction as the logger's lines. */
  public log(message = '', ...args: unknown[]): void {
    super.log(this.redact(format(message, ...args)))
  }

  /** `--json` errors carry the message too (an Error's own properties do not serialize it). */
  protected toErrorJson(error: unknown): unknown {
    const e = error as Errors.CLIError & {exitCode?: number; code?: string}
    return {error: {message: this.redact(e.message), code: e.code, exitCode: e.oclif?.exit ?? e.exitCode, suggestions: e.suggestions?.map(this.redact)}}
  }

  protected toSuccessJson(result: unknown): unknown {
    return redactDeep(result, this.redact)
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    // The stack and its causes, not the whole object: a client's error can carry its request, and so
    // the kubeconfig's bearer token, in its properties.
    debug('%s', this.redact(stackTrace(error)))
    const interrupted = this.interrupter?.controller.signal
    if (interrupted?.aborted && !interruptionOf(error)) {
      // Whatever failed once the signal came (an aborted request, a wait cut short) failed because of it.
      error = InterruptedError.of(abortedBy(interrupted), {what: this.id ?? 'the command', left: error.message}, {cause: error})
    }
    let cliError: Errors.CLIError
    if (error instanceof CiError) {
      if (error.details && !this.jsonEnabled()) process.stderr.write(this.redact(`${error.details.trimEnd()}\n`))
      cliError = new Errors.CLIError(this.redact(error.message), {exit: error.exitCode, code: error.code, suggestions: error.suggestions?.map(this.redact)})
    } else if (error instanceof Errors.CLIError || (error as {oclif?: unknown}).oclif) {
      // oclif's own errors (unknown flag, missing argument, bad flag value): usage errors, exit 2,
      // in the same format as ours (a Jenkins log then has one shape of error to grep for), with
      // the code USAGE and a pointer to --help instead of the whole usage text.
      const oclif = error as Error & {oclif?: {exit?: number}; suggestions?: string[]}
      const message = oclif.message.replace(/\n?See more help with --help\s*$/, '').trim()
      cliError = new Errors.CLIError(this.redact(message), {
        exit: error.exitCode ?? oclif.oclif?.exit ?? ExitCode.usage,
        code: 'USAGE',
        suggestions: [...(oclif.suggestions ?? []), [this.config.bin, ...(this.id?.split(':') ?? []), '--help'].join(' ')].map(this.redact),
      })
    } else {
      cliError = new Errors.CLIError(this.redact(`unexpected error: ${error.message}`), {
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

/** Pure: the error's stack and those of its causes (`caused by: …`), for DEBUG output. */
export function stackTrace(error: unknown): string {
  const lines: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(`${depth === 0 ? '' : 'caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}`)
    current = current instanceof Error ? current.cause : undefined
  }
  return lines.join('\n')
}
