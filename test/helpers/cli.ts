/**
 * Runs the CLI the way a user does: a child process of bin/dev.js (TypeScript sources through tsx,
 * no build needed) or, with `compiled`, of bin/run.js, with a controlled environment. Tests that use it are serial-safe: no shared state.
 */
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {cp} from 'node:fs/promises'
import {constants as osConstants} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {tempDir} from './tmp.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const EXAMPLE_APP = path.join(REPO_ROOT, 'examples/shopsys-app')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Variables a CI run may have set that would change what the CLI does. */
const INHERITED_NOISE = ['BRANCH_NAME', 'JOB_NAME', 'GIT_COMMIT', 'WORKSPACE', 'DEVELOPMENT_SERVER_DOMAIN', 'NGINX_INGRESS_CONTROLLER_HOST_PORT', 'DOCKER_REGISTRY', 'DOCKER_USERNAME', 'DOCKER_PASSWORD', 'DOCKER_PULL_USERNAME', 'DOCKER_PULL_PASSWORD', 'SHOPSYS_CI_CONFIG', 'DEBUG', 'BUILD_URL', 'BUILD_TAG']

export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const name of INHERITED_NOISE) delete env[name]
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export interface CliOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  input?: string
  /** Run the compiled CLI (bin/run.js: the esbuild bundle in dist, as installed) instead of the sources. */
  compiled?: boolean
  /** Run the package's command, bin/shopsys-ci: the compiled CLI through its launcher. */
  launcher?: boolean
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if ((options.compiled || options.launcher) && !existsSync(path.join(REPO_ROOT, 'dist/cli.cjs'))) {
    return Promise.reject(new Error('the compiled CLI is missing: run `npm run build` first (test/run-all does)'))
  }
  const node = options.compiled ? [path.join(REPO_ROOT, 'bin/run.js')] : ['--import', 'tsx', '--no-warnings', path.join(REPO_ROOT, 'bin/dev.js')]
  const [command, commandArgs] = options.launcher ? [path.join(REPO_ROOT, 'bin/shopsys-ci'), args] : [process.execPath, [...node, ...args]]
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: options.cwd ?? REPO_ROOT,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({exitCode: code ?? 1, stdout, stderr}))
    child.stdin.on('error', () => {}) // the CLI may exit before reading stdin
    child.stdin.end(options.input ?? '')
  })
}

/** A private copy of the example app in a temp dir (rendering writes into the workspace). */
export async function copyExample(): Promise<string> {
  const dir = tempDir('shopsys-ci-example-')
  await cp(EXAMPLE_APP, dir, {recursive: true})
  return dir
}

export interface RunningCli {
  /** Everything the CLI printed so far, stdout and stderr. */
  readonly stdout: string
  readonly stderr: string
  /** Resolves once `pattern` appears on stdout or stderr (rejects if the CLI exits first). */
  waitFor(pattern: RegExp): Promise<void>
  kill(signal: NodeJS.Signals): void
  /** The CLI's process ID (its docker children have it as their parent). */
  readonly pid: number
  /** The exit code (or 128 + n when a signal killed it, as a shell reports it). */
  exited: Promise<number>
}

/**
 * Starts the CLI like `runCli` (the compiled one with `compiled`) and hands it back while it runs,
 * for tests that signal it (a Jenkins abort sends SIGTERM).
 */
export function startCli(args: string[], options: Omit<CliOptions, 'input'> = {}): RunningCli {
  if (options.compiled && !existsSync(path.join(REPO_ROOT, 'dist/cli.cjs'))) {
    throw new Error('the compiled CLI is missing: run `npm run build` first (test/run-all does)')
  }
  const node = options.compiled ? [path.join(REPO_ROOT, 'bin/run.js')] : ['--import', 'tsx', '--no-warnings', path.join(REPO_ROOT, 'bin/dev.js')]
  const child = spawn(process.execPath, [...node, ...args], {cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const waiters: Array<{pattern: RegExp; resolve(): void}> = []
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout) || w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    check()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    check()
  })
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)))
  })
  return {
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    waitFor(pattern) {
      return new Promise<void>((resolve, reject) => {
        waiters.push({pattern, resolve})
        check()
        void exited.then((code) => reject(new Error(`the CLI exited (${code}) before printing ${pattern}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`)))
      })
    },
    kill: (signal) => child.kill(signal),
    pid: child.pid!,
    exited,
  }
}

/** Every process now: its ID, its parent's and its command line (from /proc). */
export function processes(): Array<{pid: number; ppid: number; cmdline: string}> {
  const found: Array<{pid: number; ppid: number; cmdline: string}> = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
      found.push({pid: Number(pid), ppid, cmdline})
    } catch {
      // The process is gone.
    }
  }
  return found
}
