/**
 * Output that reads well in a Jenkins log: plain lines, stage headers with durations, no spinners
 * or colours unless stdout is a TTY. With --json, human output goes to stderr so stdout holds only JSON.
 */
import {formatDuration} from './duration.js'
import type {Redact} from './redact.js'

export interface Logger {
  info(message: string): void
  warn(message: string): void
  /** A line of a child's output, prefixed with its source (`[php-fpm] Step 1/5 ...`). */
  line(prefix: string, message: string): void
  /** Runs `fn` between a stage header and a footer with its duration. */
  stage<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Extra detail shown only with --verbose or DEBUG. */
  debug(message: string): void
}

export interface StreamLoggerOptions {
  out?: NodeJS.WritableStream
  err?: NodeJS.WritableStream
  verbose?: boolean
  now?: () => number
  /** Applied to every line before it is written (base-command: the secret variables' values). */
  redact?: Redact
}

export class StreamLogger implements Logger {
  private readonly out: NodeJS.WritableStream
  private readonly err: NodeJS.WritableStream
  private readonly verbose: boolean
  private readonly now: () => number

  constructor(options: StreamLoggerOptions = {}) {
    const redact = options.redact
    this.out = redacting(options.out ?? process.stdout, redact)
    this.err = redacting(options.err ?? process.stderr, redact)
    this.verbose = options.verbose ?? false
    this.now = options.now ?? (() => performance.now())
  }

  info(message: string): void {
    this.out.write(`${message}\n`)
  }

  warn(message: string): void {
    this.err.write(`WARNING: ${message}\n`)
  }

  line(prefix: string, message: string): void {
    this.out.write(`[${prefix}] ${message}\n`)
  }

  debug(message: string): void {
    if (this.verbose) this.err.write(`debug: ${message}\n`)
  }

  async stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = this.now()
    this.out.write(`==> ${name}\n`)
    try {
      const result = await fn()
      this.out.write(`<== ${name} done in ${formatDuration(this.now() - started)}\n`)
      return result
    } catch (error) {
      this.out.write(`<== ${name} FAILED after ${formatDuration(this.now() - started)}\n`)
      throw error
    }
  }
}

/** A logger that records everything, for unit tests. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = []
  info(message: string): void {
    this.lines.push(message)
  }
  warn(message: string): void {
    this.lines.push(`WARNING: ${message}`)
  }
  line(prefix: string, message: string): void {
    this.lines.push(`[${prefix}] ${message}`)
  }
  debug(): void {}
  async stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`==> ${name}`)
    return fn()
  }
}

/** `stream` whose `write` of text goes through `redact` first (the stream itself when there is nothing to redact). */
function redacting(stream: NodeJS.WritableStream, redact?: Redact): NodeJS.WritableStream {
  if (!redact) return stream
  return {write: (chunk: string) => stream.write(redact(chunk))} as unknown as NodeJS.WritableStream
}
