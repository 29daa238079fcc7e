import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import test from 'ava'

import {staleEntries} from '../../../src/util/cache-dir.js'
import {cacheEntryName, compileCacheDir, grown, KEPT_VERSIONS} from '../../../src/util/compile-cache.js'
import {tempDir} from '../../helpers/tmp.js'

const MODULE = fileURLToPath(new URL('../../../src/util/compile-cache.ts', import.meta.url))

/**
 * Loads `file` in a new Node process the way bin/run.js loads the CLI: the cache installed for the
 * files under `root`, then require(). The entry is written when that process exits. Prints what
 * the cache did for each file and what the module computed.
 */
function loadInChild(file: string, dir: string | undefined, root = path.dirname(file), call = 'answer'): {loads: Array<{file: string; cache: string}>; answer: unknown} {
  const script = `import {createRequire} from 'node:module'
import {installCompileCache} from ${JSON.stringify(MODULE)}
const loads = installCompileCache(${JSON.stringify(root)}, ${JSON.stringify(dir ?? null)} ?? undefined)
const module = createRequire(import.meta.url)(${JSON.stringify(file)})
console.log(JSON.stringify({loads: loads.map((l) => ({file: l.file, cache: l.cache})), answer: module[${JSON.stringify(call)}]()}))`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', '--input-type=module', '-e', script], {encoding: 'utf8'})
  if (child.status !== 0) throw new Error(child.stderr)
  return JSON.parse(child.stdout)
}

/** The cache outcome of the one file loaded, and the answer. */
function loadOne(file: string, dir: string | undefined): {cache: string; answer: unknown} {
  const {loads, answer} = loadInChild(file, dir)
  if (loads.length !== 1 || loads[0]!.file !== file) throw new Error(`expected one load of ${file}, got ${JSON.stringify(loads)}`)
  return {cache: loads[0]!.cache, answer}
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
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  t.deepEqual(loadOne(file, dir), {cache: 'miss', answer: 'a/one'})
  t.deepEqual(entries(dir), [cacheEntryName(file, readFileSync(file, 'utf8'))])
  t.is(statSync(dir).mode & 0o777, 0o700, 'the directory is private')
  t.is(statSync(path.join(dir, entries(dir)[0]!)).mode & 0o777, 0o600)
  t.deepEqual(loadOne(file, dir), {cache: 'hit', answer: 'a/one'})
})

test('a file changed in place to the same length gets its own entry, never the old code; going back to the old version hits its entry', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  loadOne(file, dir)
  const old = entries(dir)
  writeModule(work, 'two') // same length: V8 alone would accept the old bytes
  t.deepEqual(loadOne(file, dir), {cache: 'miss', answer: 'a/two'})
  t.is(entries(dir).length, 2)
  t.true(entries(dir).includes(old[0]!))
  t.deepEqual(loadOne(file, dir), {cache: 'hit', answer: 'a/two'})
  // An agent running two pinned versions of the CLI in turn: each keeps its entry.
  writeModule(work, 'one')
  t.deepEqual(loadOne(file, dir), {cache: 'hit', answer: 'a/one'})
})

test('beyond KEPT_VERSIONS versions of a file, the entries used least recently are deleted', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'v0')
  for (const version of ['v0', 'v1', 'v2', 'v3']) {
    writeModule(work, version)
    loadOne(file, dir)
  }
  t.is(entries(dir).length, KEPT_VERSIONS)
  // v0 is used again (a hit marks its entry), so v1 is the least recently used when v4 comes.
  writeModule(work, 'v0')
  t.like(loadOne(file, dir), {cache: 'hit'})
  writeModule(work, 'v4')
  loadOne(file, dir)
  t.is(entries(dir).length, KEPT_VERSIONS)
  writeModule(work, 'v1')
  t.like(loadOne(file, dir), {cache: 'miss', answer: 'a/v1'})
  writeModule(work, 'v0')
  t.like(loadOne(file, dir), {cache: 'hit', answer: 'a/v0'})
})

test('staleEntries: the others beyond KEPT_VERSIONS - 1, least recently used first to go', (t) => {
  const versions = [{name: 'a', used: 1}, {name: 'b', used: 5}, {name: 'c', used: 3}, {name: 'd', used: 4}, {name: 'new', used: 0}]
  t.deepEqual(staleEntries(versions, 'new', 4), ['a'])
  t.deepEqual(staleEntries(versions, 'new', 2), ['d', 'c', 'a'])
  t.deepEqual(staleEntries(versions.slice(0, 2), 'new', 4), [])
})

test('a corrupt entry is rejected, the file compiled normally, and the entry written anew', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  const file = writeModule(work, 'one')
  loadOne(file, dir)
  const entry = path.join(dir, entries(dir)[0]!)
  writeFileSync(entry, Buffer.from('not a V8 code cache at all'))
  t.deepEqual(loadOne(file, dir), {cache: 'miss', answer: 'a/one'})
  t.true(statSync(entry).size > 1000, 'rewritten with real code')
  t.deepEqual(loadOne(file, dir), {cache: 'hit', answer: 'a/one'})
})

test('a directory other accounts may write to is not used: the file compiles without a cache', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  mkdirSync(dir)
  chmodSync(dir, 0o777)
  const file = writeModule(work, 'one')
  t.deepEqual(loadOne(file, dir), {cache: 'off', answer: 'a/one'})
  t.deepEqual(entries(dir), [])
})

test('an unusable cache location (a file where the directory should be) compiles without a cache', (t) => {
  const work = tempDir('compile-cache-')
  const file = writeModule(work, 'one')
  writeFileSync(path.join(work, 'cache'), 'a file')
  t.deepEqual(loadOne(file, path.join(work, 'cache', 'v8')), {cache: 'off', answer: 'a/one'})
})

test('no directory (switched off): the file compiles as usual', (t) => {
  const work = tempDir('compile-cache-')
  const file = writeModule(work, 'one')
  t.deepEqual(loadOne(file, undefined), {cache: 'off', answer: 'a/one'})
})

test('only files under the root go through the cache; what they require() resolves from their own place', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  const root = path.join(work, 'dist')
  const outside = path.join(work, 'outside')
  mkdirSync(root)
  mkdirSync(outside)
  writeModule(outside, 'from outside')
  // dist/main.cjs requires a file next to it and one outside the root, like cli.cjs does kube-client.cjs and handlebars.
  writeFileSync(path.join(root, 'next.cjs'), "exports.word = 'next'\n")
  const main = path.join(root, 'main.cjs')
  writeFileSync(main, "const next = require('./next.cjs')\nconst lib = require('../outside/lib.cjs')\nexports.answer = () => next.word + ' ' + lib.answer()\n")
  const first = loadInChild(main, dir, root)
  t.is(first.answer, 'next a/from outside')
  t.deepEqual(first.loads.map((l) => [path.basename(l.file), l.cache]), [['main.cjs', 'miss'], ['next.cjs', 'miss']])
  t.deepEqual(loadInChild(main, dir, root).loads.map((l) => l.cache), ['hit', 'hit'])
  t.false(entries(dir).some((f) => f.startsWith('lib.cjs')), 'the file outside the root has no entry')
})

test('an entry written by a short run is written again by a run that did much more, and then kept', (t) => {
  const work = tempDir('compile-cache-')
  const dir = path.join(work, 'cache')
  // `answer` runs one function; `everything` some 3000 more, and works as long again as the process
  // had so far (like `names --urls` before a `build`): the CPU time that tells the cache it did more.
  const file = path.join(work, 'lib.cjs')
  const bodies = Array.from({length: 3000}, (_, i) => `exports.f${i} = (x) => { let s = ${i}; for (let i = 0; i < x; i++) s += i * ${i} % 7; return [s, '${i}'.padStart(4), {i: ${i}}] }`)
  const cpu = '(() => { const u = process.cpuUsage(); return u.user + u.system })()'
  writeFileSync(file, `'use strict'\n${bodies.join('\n')}\nexports.answer = () => 'a'\nexports.everything = () => { let n = 0; for (let i = 0; i < 3000; i++) n += exports['f' + i](2).length; const until = 2 * ${cpu}; while (${cpu} < until); return n }\n`)
  const entrySize = () => statSync(path.join(dir, entries(dir)[0]!)).size
  t.is(loadInChild(file, dir, work, 'answer').answer, 'a')
  const short = entrySize()
  t.is(loadInChild(file, dir, work, 'everything').answer, 9000)
  t.deepEqual(entries(dir).length, 1)
  const long = entrySize()
  t.true(long > short * 2, `rewritten with the functions that ran: ${short} -> ${long} bytes`)
  // A short run from the long entry adds nothing: it is not written again.
  t.deepEqual(loadInChild(file, dir, work, 'answer').loads.map((l) => l.cache), ['hit'])
  t.is(entrySize(), long)
  t.deepEqual(loadInChild(file, dir, work, 'everything').loads.map((l) => l.cache), ['hit'])
  t.is(entrySize(), long)
})

test('grown: written again only when the process used a quarter more CPU than the entry\'s writer did', (t) => {
  t.true(grown(800, 1100))
  t.false(grown(800, 1000))
  t.false(grown(2000, 900), 'a shorter run')
  t.true(grown(0, 1), 'a header without a size')
})

test('compileCacheDir: XDG_CACHE_HOME, else ~/.cache; NODE_DISABLE_COMPILE_CACHE switches it off', (t) => {
  t.is(compileCacheDir({XDG_CACHE_HOME: '/x/cache'}, () => '/home/j'), '/x/cache/shopsys-ci/v8')
  t.is(compileCacheDir({}, () => '/home/j'), '/home/j/.cache/shopsys-ci/v8')
  t.is(compileCacheDir({XDG_CACHE_HOME: 'relative/cache'}, () => '/home/j'), '/home/j/.cache/shopsys-ci/v8', 'a relative XDG_CACHE_HOME is invalid')
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
