/**
 * kustomize's output, reused while none of its inputs changed. kustomize spends 0.2-0.4 s of CPU on
 * every render (most of it loading its OpenAPI schema for strategic-merge patches), which is a fifth
 * of a build that redeploys an unchanged commit in place.
 *
 * The key is a hash of everything the output depends on: the kustomize binary (path, size, mtime),
 * its arguments (the overlay's absolute path among them), and the path and content of every file
 * kustomize reads (kustomize-inputs.ts). What cannot be known (a remote base, a plugin, a key this
 * version does not know) is not cached. Output with a Secret is never written. Entries live in
 * `<user cache>/shopsys-ci/kustomize`, private to the account; the least recently used beyond
 * MAX_ENTRIES are deleted. The cache is an optimisation only: a failure to read or write it is a
 * miss, said in the debug log.
 */
import createDebug from 'debug'
import {createHash} from 'node:crypto'
import {readdir, readFile, rm, stat, utimes} from 'node:fs/promises'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'

import {privateDir, staleEntries} from '../util/cache-dir.js'
import {writeFileAtomic} from '../util/fs.js'
import {kustomizeInputs} from './kustomize-inputs.js'
import type {ManifestObject} from './parse.js'

const debug = createDebug('shopsys-ci:kustomize-cache')

/** A few hundred kB each for a real app; the cache stays in the tens of MB. */
export const MAX_ENTRIES = 100

/** An entry: kustomize's output, and its objects as the check parsed them (JSON reads 50-100 times faster than YAML). */
export interface KustomizeEntry {
  output: string
  manifests: ManifestObject[]
}

export type KustomizeLookup =
  /** Output reused, already checked when it was stored; `files` inputs were hashed. */
  | ({state: 'hit'; key: string; files: number} & KustomizeEntry)
  /** Not in the cache: store the output under `key` once it is checked. */
  | {state: 'miss'; key: string; files: number}
  /** Not cacheable, or the cache is off: why. */
  | {state: 'off'; reason: string}

/** The executable `binary` names: a path, or the first match on PATH. */
export async function resolveExecutable(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = binary.includes('/') ? [path.resolve(binary)] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, binary))
  for (const candidate of candidates) {
    try {
      if ((await stat(candidate)).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** Pure: the key of one kustomize run from what identifies the binary, its arguments and its inputs. */
export function kustomizeCacheKey(binary: string, args: readonly string[], inputs: ReadonlyArray<{file: string; content: Buffer}>): string {
  const hash = createHash('sha256').update('shopsys-ci kustomize cache 2\0').update(binary).update('\0')
  for (const arg of args) hash.update(arg).update('\0')
  for (const input of inputs) hash.update(input.file).update('\0').update(createHash('sha256').update(input.content).digest()).update('\0')
  return hash.digest('hex')
}

export class KustomizeCache {
  constructor(
    private readonly dir: string | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  async lookup(binary: string, args: readonly string[], root: string): Promise<KustomizeLookup> {
    if (!this.dir) return {state: 'off', reason: 'no cache directory (no home directory)'}
    if (!privateDir(this.dir)) return {state: 'off', reason: `${this.dir} is not private to this account`}
    try {
      return await this.find(this.dir, binary, args, root)
    } catch (error) {
      return {state: 'off', reason: (error as Error).message}
    }
  }

  private async find(dir: string, binary: string, args: readonly string[], root: string): Promise<KustomizeLookup> {
    const inputs = await kustomizeInputs(root)
    if ('uncacheable' in inputs) return {state: 'off', reason: inputs.uncacheable}
    const executable = await resolveExecutable(binary, this.env)
    if (!executable) return {state: 'off', reason: `${binary} not found`}
    const info = await stat(executable)
    const identity = `${executable}\0${info.size}\0${info.mtimeMs}`
    const contents = await Promise.all(inputs.files.map(async (file) => ({file, content: await readFile(file)})))
    const key = kustomizeCacheKey(identity, args, contents)
    const file = path.join(dir, `${key}.json`)
    let entry: KustomizeEntry
    try {
      entry = JSON.parse(await readFile(file, 'utf8')) as KustomizeEntry
    } catch {
      return {state: 'miss', key, files: contents.length}
    }
    if (typeof entry?.output !== 'string' || !Array.isArray(entry.manifests)) return {state: 'miss', key, files: contents.length}
    // Touched, so that pruning deletes the least recently used.
    const now = new Date()
    await utimes(file, now, now).catch(() => undefined)
    return {state: 'hit', key, files: contents.length, output: entry.output, manifests: entry.manifests}
  }

  /** Stores a checked output and its objects; not when JSON would not give the same objects back (`.nan`, `.inf`). */
  async store(key: string, entry: KustomizeEntry): Promise<void> {
    if (!this.dir || !privateDir(this.dir)) return
    const json = JSON.stringify(entry)
    if (!isDeepStrictEqual((JSON.parse(json) as KustomizeEntry).manifests, entry.manifests)) {
      debug('%s: not stored, its objects do not survive JSON', key)
      return
    }
    try {
      await writeFileAtomic(path.join(this.dir, `${key}.json`), json, {mode: 0o600})
      await this.prune(`${key}.json`)
    } catch (error) {
      debug('%s: not written: %s', this.dir, (error as Error).message)
    }
  }

  private async prune(written: string): Promise<void> {
    const names = (await readdir(this.dir!)).filter((name) => name.endsWith('.json'))
    if (names.length <= this.maxEntries) return
    const entries = await Promise.all(names.map(async (name) => ({name, used: (await stat(path.join(this.dir!, name)).catch(() => undefined))?.mtimeMs ?? 0})))
    for (const name of staleEntries(entries, written, this.maxEntries)) await rm(path.join(this.dir!, name), {force: true})
  }
}
