/**
 * The one way this tool runs other programs: argument arrays, never a shell, so a branch name or
 * any other value can never be interpreted as shell syntax. Secrets go on stdin, never in argv.
 */
import {spawn} from 'node:child_process'

import {ToolError} from '../errors.js'
import {LineSplitter} from './lines.js'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Written to the child's stdin, then closed (e.g. a password for --password-stdin). */
  input?: string
  /** Called with each complete output line (stdout and stderr), e.g. to stream with a prefix. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Kill the process after this many ms. */
  timeout?: number
  signal?: AbortSignal
}

export interface RunResult {
  exitCode: number
  /** The signal that ended the process, if any. */
  signal?: NodeJS.Signals
  stdout: string
  stderr: string
  /** stdout and stderr interleaved in arrival order. */
  output: string
}

/** Runs `command args…` and resolves with its result whatever the exit code; rejects only if it cannot start. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeout,
    })
    let stdout = ''
    let stderr = ''
    let output = ''
    const splitters = {
      stdout: new LineSplitter((line) => options.onLine?.(line, 'stdout')),
      stderr: new LineSplitter((line) => options.onLine?.(line, 'stderr')),
    }
    const append = (stream: 'stdout' | 'stderr', text: string) => {
      if (stream === 'stdout') stdout += text
      else stderr += text
      output += text
    }
    child.stdout.on('data', (chunk: Buffer) => append('stdout', splitters.stdout.push(chunk)))
    child.stderr.on('data', (chunk: Buffer) => append('stderr', splitters.stderr.push(chunk)))
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new ToolError(`${command} was not found on PATH`, {suggestions: [`install ${command}, or put it on PATH`], cause: error}))
      } else if (error.name === 'AbortError') {
        // The close event still reports the exit; nothing to do here.
      } else {
        reject(error)
      }
    })
    child.on('close', (code, signal) => {
      for (const stream of ['stdout', 'stderr'] as const) append(stream, splitters[stream].end())
      resolve({exitCode: code ?? 128, signal: signal ?? undefined, stdout, stderr, output})
    })
    child.stdin.on('error', () => {
      // The child may exit before reading its stdin; its exit code tells what happened.
    })
    child.stdin.end(options.input ?? '')
  })
}

/** The last `n` non-empty lines of some output, for error messages. */
export function tail(text: string, n: number): string {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-n).join('\n')
}
