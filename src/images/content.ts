/**
 * The digest of everything an image build reads: the Dockerfile's text, the target, the build args
 * and every file of the build context that `.dockerignore` lets through (path, type, permission
 * bits, size, content; symlink targets). Deterministic: entries sorted by path, no timestamps, no
 * owners. Files are stream-hashed in place; nothing is copied.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, readdir, readFile, readlink} from 'node:fs/promises'
import path from 'node:path'

import {mapLimit} from '../util/concurrency.js'
import {DockerignoreMatcher} from './dockerignore.js'

export interface InputsSpec {
  /** Absolute context directory. */
  contextDir: string
  /** Absolute Dockerfile path (may be outside the context). */
  dockerfile: string
  target?: string
  buildArgs: Readonly<Record<string, string>>
  /** Files hashed at once. */
  concurrency?: number
}

export interface ContextEntry {
  /** `/`-separated, relative to the context. */
  path: string
  type: 'file' | 'dir' | 'symlink' | 'other'
  mode: number
  size: number
  /** sha256 of a file's content, or a symlink's target. */
  content?: string
}

/** The hex sha256 of an image's build inputs. */
export async function inputsDigest(spec: InputsSpec): Promise<string> {
  const hash = createHash('sha256')
  const dockerfileText = await readFile(spec.dockerfile)
  hash.update('shopsys-ci inputs v1\n')
  hash.update(`dockerfile ${sha256(dockerfileText)}\n`)
  hash.update(`target ${JSON.stringify(spec.target ?? '')}\n`)
  for (const key of Object.keys(spec.buildArgs).sort()) hash.update(`arg ${JSON.stringify(key)}=${JSON.stringify(spec.buildArgs[key])}\n`)
  for (const entry of await contextEntries(spec.contextDir, spec.concurrency)) hash.update(`${JSON.stringify(entry)}\n`)
  return hash.digest('hex')
}

/** The context as the build sees it, sorted by path (byte order). */
export async function contextEntries(contextDir: string, concurrency = 8): Promise<ContextEntry[]> {
  let ignoreText = ''
  try {
    ignoreText = await readFile(path.join(contextDir, '.dockerignore'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const matcher = DockerignoreMatcher.fromText(ignoreText)
  const entries: ContextEntry[] = []
  const files: ContextEntry[] = []

  const walk = async (dirRel: string): Promise<void> => {
    const abs = dirRel === '' ? contextDir : path.join(contextDir, dirRel)
    const names = (await readdir(abs)).sort(compareBytes)
    for (const name of names) {
      const rel = dirRel === '' ? name : `${dirRel}/${name}`
      const stat = await lstat(path.join(contextDir, rel))
      const excluded = matcher.matches(rel)
      if (stat.isDirectory()) {
        if (excluded) {
          if (matcher.hasExclusions && matcher.mayReincludeBelow(rel)) await walk(rel)
          continue
        }
        entries.push({path: rel, type: 'dir', mode: stat.mode & 0o7777, size: 0})
        await walk(rel)
        continue
      }
      if (excluded) continue
      if (stat.isFile()) {
        const entry: ContextEntry = {path: rel, type: 'file', mode: stat.mode & 0o7777, size: stat.size}
        entries.push(entry)
        files.push(entry)
      } else if (stat.isSymbolicLink()) {
        entries.push({path: rel, type: 'symlink', mode: 0, size: 0, content: await readlink(path.join(contextDir, rel))})
      } else {
        entries.push({path: rel, type: 'other', mode: stat.mode & 0o7777, size: 0})
      }
    }
  }
  await walk('')

  // Content hashes, a few files at a time; the order of the result does not depend on timing.
  await mapLimit(files, concurrency, async (entry) => {
    entry.content = await hashFile(path.join(contextDir, entry.path))
  })
  return entries.sort((a, b) => compareBytes(a.path, b.path))
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
  })
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
