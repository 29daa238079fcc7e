/**
 * A V8 code cache for the compiled CLI (dist/*.cjs). Compiling the CLI's 0.9 MB and the cluster
 * client's 1.6 MB cost every command 0.1–0.2 s of CPU, every time; Node 20 caches nothing for us
 * (Node 22's `module.enableCompileCache` would). So, like v8-compile-cache but only for this CLI's
 * own files, Node's CommonJS compile step is replaced for files under dist/: the file is compiled
 * through `vm.Script` with the bytes V8 produced for it the last time, and the bytes are written
 * when a process that had none exits (so they hold the functions that ran, compiled too), and
 * again when a process that clearly did more exits (see `grown`).
 *
 * bin/run.js installs it from dist/boot.cjs (src/boot.ts), before it loads the CLI. The cache is only
 * ever an optimisation: whatever fails (no home, a read-only disk, a corrupt or foreign file)
 * compiles the file the ordinary way and says so in the debug log, never in the output.
 */
import createDebug from 'debug'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {createRequire, Module} from 'node:module'
import {homedir} from 'node:os'
import path from 'node:path'
import {Script} from 'node:vm'

import {privateDir, staleEntries, userCacheDir} from './cache-dir.js'

const debug = createDebug('shopsys-ci:compile-cache')

/**
 * Where the cache lives: `<user cache>/shopsys-ci/v8` (cache-dir.ts; V8 runs whatever bytecode the
 * file holds, so never a shared temporary directory). Undefined when switched off with Node's own
 * `NODE_DISABLE_COMPILE_CACHE`, or when there is no home to put it in.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined
  return userCacheDir('v8', env, home)
}

/**
 * The name of a file's cache entry: its content, Node's version and the architecture, hashed. V8
 * checks its version and flags itself, but compares the source only by length: a file changed in
 * place to the same length must not find the old bytecode.
 */
export function cacheEntryName(file: string, source: string): string {
  const hash = createHash('sha256').update(process.version).update('\0').update(process.arch).update('\0').update(source).digest('hex')
  return `${path.basename(file)}-${hash.slice(0, 32)}.v8`
}

/** What happened to each file compiled since installCompileCache (for the debug log and the tests). */
export interface CompileCacheLoad {
  file: string
  /** `hit`: compiled from the cache; `miss`: no usable entry (one is written at exit); `off`: no cache. */
  cache: 'hit' | 'miss' | 'off'
}

type Compile = (this: NodeJS.Module, content: string, filename: string) => unknown

/**
 * From now on, every CommonJS file under `root` that Node loads is compiled with the cache in `dir`
 * (compileCacheDir(); undefined: none, the files compile as usual). Files elsewhere (node_modules)
 * are left to Node. Returns the list of what was loaded, filled in as files load.
 */
export function installCompileCache(root: string, dir: string | undefined): CompileCacheLoad[] {
  const loads: CompileCacheLoad[] = []
  const prototype = Module.prototype as unknown as {_compile: Compile}
  const original = prototype._compile
  const cacheDir = dir !== undefined && privateDir(dir) ? dir : undefined
  const prefix = root.endsWith(path.sep) ? root : root + path.sep
  prototype._compile = function (this: NodeJS.Module, content: string, filename: string): unknown {
    if (!filename.startsWith(prefix)) return original.call(this, content, filename)
    const entry = cacheDir ? path.join(cacheDir, cacheEntryName(filename, content)) : undefined
    const cached = entry ? readEntry(entry) : undefined
    // No `importModuleDynamically`: Node 20 loses it when V8 takes the code from the cache, so an
    // `import()` would fail on a hit only. The bundles have none (scripts/bundle.mjs lowers them).
    const script = new Script(Module.wrap(content), {filename, cachedData: cached?.data})
    const hit = cached !== undefined && !script.cachedDataRejected
    if (cached && !hit) debug('%s: V8 rejected the cached code; compiling it again', entry)
    if (hit) markUsed(entry!)
    if (entry) {
      process.once('exit', () => {
        if (hit) {
          const now = cpuMillis()
          if (!grown(cached.cpu, now)) return
          debug('%s: this run did more (%d ms of CPU, the entry\'s writer %d ms): writing it again', entry, now, cached.cpu)
        }
        writeEntry(entry, script)
      })
    }
    const load: CompileCacheLoad = {file: filename, cache: entry ? (hit ? 'hit' : 'miss') : 'off'}
    loads.push(load)
    debug('%s: compile cache %s', path.basename(filename), load.cache)
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, path.dirname(filename))
  }
  return loads
}

/**
 * An entry is a header and V8's bytes. The header records the CPU time of the process that wrote
 * it: V8's bytes hold only the functions that had run, so an entry written by a short command
 * (Jenkins asks `names --urls` before the build) would leave every later build compiling the rest
 * itself, run after run. CPU time stands in for "ran more code": it is free to read, where V8's
 * own heap code statistics walk the heap (5-25 ms at the end of a build).
 */
const MAGIC = 'SCC2'
const HEADER = 8

/** This process's CPU time so far (user + system), in ms. */
export function cpuMillis(): number {
  const {user, system} = process.cpuUsage()
  return Math.round((user + system) / 1000)
}

/**
 * Pure: whether this process did so much more than the entry's writer that the entry should be
 * written again, from this process. A hit holds all of the entry's functions already, so an entry
 * only grows, and the bar with it: once the longest command has written it, the others find
 * nothing to add.
 */
export function grown(writer: number, now: number): boolean {
  return now > writer * 1.25
}

/** The entry's mtime is when it was last used: which versions' entries to keep (staleEntries). */
function markUsed(entry: string): void {
  try {
    const now = new Date()
    utimesSync(entry, now, now)
  } catch {
    // read-only: the entry is still good
  }
}

function readEntry(entry: string): {data: Buffer; cpu: number} | undefined {
  try {
    const file = readFileSync(entry)
    if (file.length <= HEADER || file.toString('latin1', 0, 4) !== MAGIC) return undefined
    return {data: file.subarray(HEADER), cpu: file.readUInt32LE(4)}
  } catch {
    return undefined
  }
}

/**
 * How many versions of one file keep their entries. An agent that builds projects pinned to
 * different versions of the CLI runs them in turn; with one entry per file each switch compiled
 * the CLI anew (~0.18 s). Beyond that, the least recently used go (a hit marks its entry used).
 */
export const KEPT_VERSIONS = 4

/** Atomically (a reader never sees half a file); older versions' entries beyond KEPT_VERSIONS are deleted. */
function writeEntry(entry: string, script: Script): void {
  try {
    const temporary = `${entry}.${process.pid}.tmp`
    const header = Buffer.alloc(HEADER)
    header.write(MAGIC, 0, 'latin1')
    header.writeUInt32LE(Math.min(cpuMillis(), 0xffffffff), 4)
    writeFileSync(temporary, Buffer.concat([header, script.createCachedData()]), {mode: 0o600})
    renameSync(temporary, entry)
    const dir = path.dirname(entry)
    const prefix = path.basename(entry).replace(/-[0-9a-f]+\.v8$/, '-')
    const versions = readdirSync(dir)
      .filter((name) => name.startsWith(prefix) && name.endsWith('.v8'))
      .map((name) => ({name, used: statSync(path.join(dir, name), {throwIfNoEntry: false})?.mtimeMs ?? 0}))
    for (const name of staleEntries(versions, path.basename(entry), KEPT_VERSIONS)) unlinkSync(path.join(dir, name))
    debug('%s: written', entry)
  } catch (error) {
    debug('%s: not written: %s', entry, (error as Error).message)
  }
}
