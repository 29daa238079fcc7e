/**
 * Shared by the images integration tests (images*.test.ts): the stack's registry coordinates, the
 * environment a user's run has, and the CLI run in its own process with its output and the command
 * lines of every process seen meanwhile.
 *
 * Needs the stack's variables (`eval "$(test/stack/env)"`); if they are not set, they are read
 * from `test/stack/env` (which only reads the stack's state and starts nothing).
 */
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {requireRegistry} from '../helpers/stack.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const RUN_CLI = path.join(ROOT, 'test/fixtures/images/run-cli.ts')

/** The stack's variables, from the environment or from `test/stack/env`. */
function stackEnv(): void {
  if (process.env.SHOPSYS_CI_TEST_REGISTRY && process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD) return
  const result = spawnSync(path.join(ROOT, 'test/stack/env'), {encoding: 'utf8'})
  if (result.status !== 0) return
  for (const line of result.stdout.split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line)
    if (!m || process.env[m[1]]) continue
    // printf %q output: plain words, or $'…'/'…' quoting (not used for our hex/paths values).
    process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/\\(.)/g, '$1')
  }
}

stackEnv()
/** The stack's registry, or undefined when no stack is configured (the tests then fail with STACK_HINT). */
export const registry = (() => {
  try {
    return requireRegistry()
  } catch {
    return undefined
  }
})()

export const newCommit = () => randomBytes(20).toString('hex')

export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DOCKER_|GIT_|SHOPSYS_CI_TEST_REGISTRY_PASSWORD|FIXTURE_)/.test(k)) env[k] = v
  }
  if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST
  // The stack's choice of builder (test/stack/env): the legacy one, unless a test asks for BuildKit.
  if (process.env.DOCKER_BUILDKIT) env.DOCKER_BUILDKIT = process.env.DOCKER_BUILDKIT
  return {
    ...env,
    DOCKER_REGISTRY: registry!.registry,
    DOCKER_USERNAME: registry!.user,
    DOCKER_PASSWORD: registry!.password,
    ...extra,
  }
}

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  /** Distinct command lines of every process seen while the CLI ran. */
  cmdlines: Set<string>
}

/**
 * Runs `shopsys-ci images build|push` in its own process as a user does: the command class, oclif's
 * flag parsing, the base command's error funnel, exit codes and --json output, from the sources
 * (test/fixtures/images/run-cli.ts; bin/dev.js may run stale dist/ code, see there). Samples
 * /proc/*\/cmdline while it runs.
 */
export function cli(args: string[], env: Record<string, string>, {sample = false, onStdout}: {sample?: boolean; onStdout?: (text: string, kill: () => void) => void} = {}): Promise<CliRun> {
  if (args[0] !== 'images' || !['build', 'push'].includes(args[1])) throw new Error('only `images build` and `images push` are run here')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUN_CLI, ...args.slice(1)], {cwd: ROOT, env: {...env, OCLIF_COLUMNS: '1000'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    const cmdlines = new Set<string>()
    const sampler = sample ? setInterval(() => sampleCmdlines(cmdlines), 5) : undefined
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
      onStdout?.(stdout + stderr, () => child.kill('SIGTERM'))
    })
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
      onStdout?.(stdout + stderr, () => child.kill('SIGTERM'))
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (sampler) clearInterval(sampler)
      resolve({code, stdout, stderr, cmdlines})
    })
  })
}

function sampleCmdlines(into: Set<string>): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
      if (cmdline) into.add(cmdline)
    } catch {
      // The process is gone.
    }
  }
}

export function json<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`)
  }
}

export interface Report {
  commit: string
  images: Array<{name: string; status: string; tag: string; reference: string; digest?: string; repository: string; placeholder: string; durationMs: number}>
}

export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = []
  const walk = async (d: string) => {
    for (const entry of await readdir(d, {withFileTypes: true})) {
      const p = path.join(d, entry.name)
      if (entry.isDirectory()) await walk(p)
      else if (entry.isFile() && (await readFile(p)).includes(needle)) hits.push(p)
    }
  }
  if (existsSync(dir)) await walk(dir)
  return hits
}

/**
 * A TCP proxy on 127.0.0.1 in front of the stack's registry that passes everything, except that a
 * connection goes silent, unanswered and never closed, at the first request bytes `stall` picks
 * (e.g. one repository's `/blobs/uploads/`): a push that hangs, for as long as the test wants.
 */
export async function stallingRegistryProxy(t: {teardown(fn: () => void): void}, stall: (request: string) => boolean): Promise<{registry: string; stalled: Promise<void>}> {
  const [host, port] = registry!.registry.split(':')
  const sockets = new Set<net.Socket>()
  let onStall!: () => void
  const stalled = new Promise<void>((resolve) => (onStall = resolve))
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host)
    sockets.add(client).add(upstream)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    upstream.pipe(client)
    client.on('data', (chunk: Buffer) => {
      if (stall(chunk.toString('latin1'))) {
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
        onStall()
      } else {
        upstream.write(chunk)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.close()
    for (const socket of sockets) socket.destroy()
  })
  return {registry: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, stalled}
}
