/**
 * Where the tool keeps what it may reuse between runs on one agent (V8's compiled code, kustomize's
 * output): `$XDG_CACHE_HOME/shopsys-ci/<name>` (an absolute one) or `~/.cache/shopsys-ci/<name>`,
 * never a shared temporary directory.
 */
import createDebug from 'debug'
import {mkdirSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

const debug = createDebug('shopsys-ci:cache')

/** The cache directory `name`, or undefined when there is no home to put it in. */
export function userCacheDir(name: string, env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  // The XDG spec: a relative XDG_CACHE_HOME is invalid (it would put the cache in the workspace).
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined
  const homeDir = xdg ? undefined : safeHome(home)
  const base = xdg ?? (homeDir && path.join(homeDir, '.cache'))
  return base ? path.join(base, 'shopsys-ci', name) : undefined
}

function safeHome(home: () => string): string | undefined {
  try {
    return home() || undefined
  } catch {
    return undefined
  }
}

/** Creates `dir` if needed; true when it is ours and writable by nobody else (its content is trusted). */
export function privateDir(dir: string): boolean {
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

/**
 * Pure: which of a cache's entries to delete so that `keep` stay, counting `written` (just written,
 * always kept): the least recently used first (`used`: the entry's mtime, set on every use).
 */
export function staleEntries(entries: ReadonlyArray<{name: string; used: number}>, written: string, keep: number): string[] {
  const others = entries.filter((e) => e.name !== written).sort((a, b) => b.used - a.used)
  return others.slice(Math.max(0, keep - 1)).map((e) => e.name)
}
