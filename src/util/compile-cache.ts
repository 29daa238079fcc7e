/**
 * A V8 code cache for the CommonJS files of the compiled CLI that are too big to compile on every
 * run: the cluster client (dist/kube-client.cjs, 1.6 MB) cost every command that talks to the
 * cluster ~0.1 s of CPU to compile, every time. Node 20 caches nothing for us (Node 22's
 * `module.enableCompileCache` would), so this does what v8-compile-cache does, for one file:
 * compile it through `vm.Script` with the bytes V8 produced the last time, and write them once.
 *
 * The cache is only ever an optimisation: whatever fails (no home, a read-only disk, a corrupt or
 * foreign file) loads the file the ordinary way and says so in the debug log, never in the output.
 */
import createDebug from 'debug'
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {createRequire, Module} from 'node:module'
import {homedir} from 'node:os'
import path from 'node:path'
import {Script} from 'node:vm'

const debug = createDebug('shopsys-ci:compile-cache')

/**
 * Where the cache lives: `$XDG_CACHE_HOME/shopsys-ci/v8` or `~/.cache/shopsys-ci/v8`, never a shared
 * temporary directory (V8 runs whatever bytecode the file holds). Undefined when switched off with
 * Node's own `NODE_DISABLE_COMPILE_CACHE`, or when there is no home to put it in.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined
  const base = env.XDG_CACHE_HOME || (safeHome(home) && path.join(safeHome(home)!, '.cache'))
  return base ? path.join(base, 'shopsys-ci', 'v8') : undefined
}

function safeHome(home: () => string): string | undefined {
  try {
    return home() || undefined
  } catch {
    return undefined
  }
}

/**
 * The name of `file`'s cache entry: its content, Node's version and the architecture, hashed. V8
 * checks its version and flags itself, but compares the source only by length: a file changed in
 * place to the same length must not find the old bytecode.
 */
export function cacheEntryName(file: string, source: string): string {
  const hash = createHash('sha256').update(process.version).update('\0').update(process.arch).update('\0').update(source).digest('hex')
  return `${path.basename(file)}-${hash.slice(0, 32)}.v8`
}

export interface CompileCacheResult {
  exports: unknown
  /** `hit`: compiled from the cache; `miss`: no usable entry (one is written at exit); `off`: no cache. */
  cache: 'hit' | 'miss' | 'off'
}

/**
 * `require(file)` for a self-contained CommonJS bundle, compiled with the cache in `dir`
 * (compileCacheDir(); undefined: none). A miss
 * writes the entry when the process exits, so it holds the functions this run compiled too, not
 * only the top level.
 */
export function requireWithCompileCache(file: string, dir: string | undefined): CompileCacheResult {
  const source = readFileSync(file, 'utf8')
  const entry = dir && usableDir(dir) ? path.join(dir, cacheEntryName(file, source)) : undefined
  const cachedData = entry ? readEntry(entry) : undefined
  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  const hit = cachedData !== undefined && !script.cachedDataRejected
  if (cachedData && !hit) debug('%s: V8 rejected the cached code; compiling it again', entry)
  const module = {exports: {}}
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file))
  if (entry && !hit) process.once('exit', () => writeEntry(entry, script))
  return {exports: module.exports, cache: entry ? (hit ? 'hit' : 'miss') : 'off'}
}

/** Ours, and writable by nobody else: another account's bytes must never run as ours. */
function usableDir(dir: string): boolean {
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const stat = statSync(dir)
    const ours = typeof process.getuid !== 'function' || stat.uid === process.getuid()
    if (ours && (stat.mode & 0o022) === 0) return true
    debug('%s: not used, it is not private to this account', dir)
  } catch (error) {
    debug('%s: not used: %s', dir, (error as Error).message)
  }
  return false
}

function readEntry(entry: string): Buffer | undefined {
  try {
    return readFileSync(entry)
  } catch {
    return undefined
  }
}

/** Atomically (a reader never sees half a file), and replacing the entries of older versions. */
function writeEntry(entry: string, script: Script): void {
  try {
    const temporary = `${entry}.${process.pid}.tmp`
    writeFileSync(temporary, script.createCachedData(), {mode: 0o600})
    renameSync(temporary, entry)
    const prefix = path.basename(entry).replace(/-[0-9a-f]+\.v8$/, '-')
    for (const name of readdirSync(path.dirname(entry))) {
      if (name.startsWith(prefix) && name.endsWith('.v8') && name !== path.basename(entry)) unlinkSync(path.join(path.dirname(entry), name))
    }
    debug('%s: written', entry)
  } catch (error) {
    debug('%s: not written: %s', entry, (error as Error).message)
  }
}
