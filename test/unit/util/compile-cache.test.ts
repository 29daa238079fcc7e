import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import test from 'ava'

import {cacheEntryName, compileCacheDir, requireWithCompileCache} from '../../../src/util/compile-cache.js'

const MODULE = fileURLToPath(new URL('../../../src/util/compile-cache.ts', import.meta.url))

/**
 * Loads `file` in a new Node process, as the CLI does: the entry is written when that process exits.
 * Prints the cache outcome and what the module computed.
 */
function loadInChild(file: string, dir: string): {cache: string; answer: unknown} {
  const script = `import {requireWithCompileCache} from ${JSON.stringify(MODULE)}
const {cache, exports} = requireWithCompileCache(${JSON.stringify(file)}, ${JSON.stringify(dir)})
console.log(JSON.stringify({cache, answer: exports.answer()}))`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', '--input-type=module', '-e', script], {encoding: 'utf8'})
  if (child.status !== 0) throw new Error(child.stderr)
  return JSON.parse(child.stdout)
}

/** A CommonJS module big enough for V8 to cache, and a function whose answer shows which code ran. */
function writeModule(dir: string, answer: string): string {
  const file = path.join(dir, 'lib.cjs')
  const filler = Array.from({length: 200}, (_, i) => `exports.f${i} = (x) => x * ${i} + ${i}`).join('\n')
  writeFileSync(file, `'use strict'\nconst {join} = require('node:path')\n${filler}\nexports.answer = () => join('a', ${JSON.stringify(answer)})\n`)
  return file
}

const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8'))

test('the first run compiles and writes the entry at exit; the next one compiles from it', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  t.deepEqual(loadInChild(file, dir), {cache: 'miss', answer: 'a/one'})
  t.deepEqual(entries(dir), [cacheEntryName(file, readFileSync(file, 'utf8'))])
  t.is(statSync(dir).mode & 0o777, 0o700, 'the directory is private')
  t.is(statSync(path.join(dir, entries(dir)[0]!)).mode & 0o777, 0o600)
  t.deepEqual(loadInChild(file, dir), {cache: 'hit', answer: 'a/one'})
})

test('a file changed in place to the same length gets its own entry, never the old code, and replaces the old entry', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  loadInChild(file, dir)
  const old = entries(dir)
  writeModule(work, 'two') // same length: V8 alone would accept the old bytes
  t.deepEqual(loadInChild(file, dir), {cache: 'miss', answer: 'a/two'})
  t.notDeepEqual(entries(dir), old)
  t.is(entries(dir).length, 1, 'the entry of the old content is gone')
  t.deepEqual(loadInChild(file, dir), {cache: 'hit', answer: 'a/two'})
})

test('a corrupt entry is rejected, the file compiled normally, and the entry written anew', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  loadInChild(file, dir)
  const entry = path.join(dir, entries(dir)[0]!)
  writeFileSync(entry, Buffer.from('not a V8 code cache at all'))
  t.deepEqual(loadInChild(file, dir), {cache: 'miss', answer: 'a/one'})
  t.true(statSync(entry).size > 1000, 'rewritten with real code')
  t.deepEqual(loadInChild(file, dir), {cache: 'hit', answer: 'a/one'})
})

test('a directory other accounts may write to is not used: the file loads without a cache', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const dir = path.join(work, 'cache')
  mkdirSync(dir)
  chmodSync(dir, 0o777)
  const file = writeModule(work, 'one')
  const loaded = requireWithCompileCache(file, dir)
  t.is(loaded.cache, 'off')
  t.is((loaded.exports as {answer(): string}).answer(), 'a/one')
  t.deepEqual(loadInChild(file, dir), {cache: 'off', answer: 'a/one'})
  t.deepEqual(entries(dir), [])
})

test('an unusable cache location (a file where the directory should be) loads without a cache', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const file = writeModule(work, 'one')
  writeFileSync(path.join(work, 'cache'), 'a file')
  const loaded = requireWithCompileCache(file, path.join(work, 'cache', 'v8'))
  t.is(loaded.cache, 'off')
  t.is((loaded.exports as {answer(): string}).answer(), 'a/one')
})

test('no directory: off, the module still loads, and require() resolves from the file', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'compile-cache-'))
  const file = writeModule(work, 'one')
  const loaded = requireWithCompileCache(file, undefined)
  t.is(loaded.cache, 'off')
  t.is((loaded.exports as {answer(): string}).answer(), 'a/one')
})

test('compileCacheDir: XDG_CACHE_HOME, else ~/.cache; NODE_DISABLE_COMPILE_CACHE switches it off', (t) => {
  t.is(compileCacheDir({XDG_CACHE_HOME: '/x/cache'}, () => '/home/j'), '/x/cache/shopsys-ci/v8')
  t.is(compileCacheDir({}, () => '/home/j'), '/home/j/.cache/shopsys-ci/v8')
  t.is(compileCacheDir({NODE_DISABLE_COMPILE_CACHE: '1', XDG_CACHE_HOME: '/x/cache'}, () => '/home/j'), undefined)
  t.is(compileCacheDir({}, () => ''), undefined)
  t.is(
    compileCacheDir({}, () => {
      throw new Error('no home')
    }),
    undefined,
  )
})

test('cacheEntryName depends on the content, not only on its length', (t) => {
  t.regex(cacheEntryName('/d/kube-client.cjs', 'abc'), /^kube-client\.cjs-[0-9a-f]{32}\.v8$/)
  t.not(cacheEntryName('/d/x.cjs', 'abc'), cacheEntryName('/d/x.cjs', 'abd'))
  t.is(cacheEntryName('/d/x.cjs', 'abc'), cacheEntryName('/e/x.cjs', 'abc'))
})
