import {chmodSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {KustomizeCache, kustomizeCacheKey, resolveExecutable} from '../../../src/manifests/kustomize-cache.js'
import {kustomizeInputs} from '../../../src/manifests/kustomize-inputs.js'
import {tempDir} from '../../helpers/tmp.js'

/** A directory tree from relative path → content. */
function tree(files: Record<string, string>): string {
  const root = tempDir('shopsys-ci-kinputs-')
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
    writeFileSync(path.join(root, file), content)
  }
  return root
}

const APP = {
  'base/kustomization.yaml': 'resources: [web.yaml]\n',
  'base/web.yaml': 'kind: Deployment\n',
  'base/unused.yaml': 'not read by kustomize\n',
  'overlay/kustomization.yml': [
    'resources: [../base, extra.yaml]',
    'components: [../component]',
    'patches: [{path: patch.yaml, target: {kind: Deployment}}, {patch: "inline"}]',
    'patchesStrategicMerge: [psm.yaml, "kind: Deployment\\nmetadata: {name: web}\\n"]',
    'configMapGenerator: [{name: c, files: [k=files/a.txt, files/b.txt], envs: [e.env]}]',
    'replacements: [{path: repl.yaml}]',
    'openapi: {path: schema.json}',
    'namePrefix: x-',
    'images: [{name: a, newTag: b}]',
    '',
  ].join('\n'),
  'overlay/extra.yaml': 'kind: Service\n',
  'overlay/patch.yaml': 'p\n',
  'overlay/psm.yaml': 'psm\n',
  'overlay/files/a.txt': 'a\n',
  'overlay/files/b.txt': 'b\n',
  'overlay/e.env': 'X=1\n',
  'overlay/repl.yaml': 'r\n',
  'overlay/schema.json': '{}\n',
  'component/Kustomization': 'kind: Component\nresources: [c.yaml]\n',
  'component/c.yaml': 'kind: ConfigMap\n',
}

test('the inputs of a kustomize build: every kustomization reached and every file each names, nothing else', async (t) => {
  const root = tree(APP)
  const inputs = await kustomizeInputs(path.join(root, 'overlay'))
  t.deepEqual(inputs, {
    files: [
      'base/kustomization.yaml', 'base/web.yaml', 'component/Kustomization', 'component/c.yaml',
      'overlay/e.env', 'overlay/extra.yaml', 'overlay/files/a.txt', 'overlay/files/b.txt', 'overlay/kustomization.yml',
      'overlay/patch.yaml', 'overlay/psm.yaml', 'overlay/repl.yaml', 'overlay/schema.json',
    ].map((f) => path.join(root, f)).sort(),
  })
})

test('a build is uncacheable, with the reason, when what it reads cannot be known', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a remote base', {'k/kustomization.yaml': 'resources: [github.com/acme/app//base?ref=main]\n'}, /resources: github\.com\/acme\/app\/\/base\?ref=main is not a local file or directory/],
    ['an https base', {'k/kustomization.yaml': 'resources: ["https://example.com/x.yaml"]\n'}, /is not a local file or directory/],
    ['a missing file', {'k/kustomization.yaml': 'patches: [{path: gone.yaml}]\n'}, /patches: gone\.yaml is not a local file/],
    ['an unknown key', {'k/kustomization.yaml': 'someFutureKey: [x]\n'}, /someFutureKey: a key this version of shopsys-ci does not know what it reads/],
    ['secretGenerator', {'k/kustomization.yaml': 'secretGenerator: [{name: s, literals: [a=b]}]\n'}, /secretGenerator: its output holds Secrets/],
    ['helm charts', {'k/kustomization.yaml': 'helmCharts: [{name: redis}]\n'}, /helmCharts: helm charts come from outside/],
    ['a plugin', {'k/kustomization.yaml': 'transformers: [t.yaml]\n', 'k/t.yaml': 'x\n'}, /transformers: plugins may read anything/],
    ['a directory without a kustomization', {'k/kustomization.yaml': 'resources: [../plain]\n', 'plain/a.yaml': 'x\n'}, /plain has no kustomization/],
    ['two kustomization files', {'k/kustomization.yaml': 'resources: []\n', 'k/kustomization.yml': 'resources: []\n'}, /k has more than one kustomization file/],
    ['not YAML', {'k/kustomization.yaml': 'resources: [a\n'}, /is not YAML/],
  ]
  for (const [name, files, reason] of cases) {
    const inputs = await kustomizeInputs(path.join(tree(files), 'k'))
    t.true('uncacheable' in inputs, name)
    if ('uncacheable' in inputs) t.regex(inputs.uncacheable, reason, name)
  }
})

test('a kustomization reached twice (a diamond, or a cycle) is read once', async (t) => {
  const root = tree({
    'k/kustomization.yaml': 'resources: [../a, ../b]\n',
    'a/kustomization.yaml': 'resources: [../common]\n',
    'b/kustomization.yaml': 'resources: [../common, ../k]\n',
    'common/kustomization.yaml': 'resources: []\n',
  })
  const inputs = await kustomizeInputs(path.join(root, 'k'))
  t.deepEqual(inputs, {files: ['a', 'b', 'common', 'k'].map((d) => path.join(root, d, 'kustomization.yaml'))})
})

test('the key changes with the binary, an argument, a file\'s path or its content, and only with them', (t) => {
  const inputs = [{file: '/a', content: Buffer.from('1')}, {file: '/b', content: Buffer.from('2')}]
  const key = kustomizeCacheKey('kubectl|100|1', ['kustomize', '/o'], inputs)
  t.is(kustomizeCacheKey('kubectl|100|1', ['kustomize', '/o'], inputs.map((i) => ({...i}))), key)
  t.not(kustomizeCacheKey('kubectl|100|2', ['kustomize', '/o'], inputs), key)
  t.not(kustomizeCacheKey('kubectl|100|1', ['kustomize', '/p'], inputs), key)
  t.not(kustomizeCacheKey('kubectl|100|1', ['kustomize', '/o'], [inputs[0], {file: '/c', content: Buffer.from('2')}]), key)
  t.not(kustomizeCacheKey('kubectl|100|1', ['kustomize', '/o'], [inputs[0], {file: '/b', content: Buffer.from('3')}]), key)
  // Where one argument ends and the next begins is part of the key.
  t.not(kustomizeCacheKey('k', ['ab', 'c'], []), kustomizeCacheKey('k', ['a', 'bc'], []))
})

const WEB = {output: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n', manifests: [{apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web'}}]}

/** A fake kustomize binary: only its identity (path, size, mtime) matters to the cache. */
function fakeBinary(): string {
  const file = path.join(tempDir('shopsys-ci-kbin-'), 'kustomize')
  writeFileSync(file, '#!/bin/sh\n', {mode: 0o755})
  return file
}

test('a miss, then stored: a hit with the same output; a changed input, or another binary, is a miss again', async (t) => {
  const root = tree(APP)
  const overlay = path.join(root, 'overlay')
  const cache = new KustomizeCache(tempDir('shopsys-ci-kcache-'))
  const cacheDirOf = (c: KustomizeCache) => (c as unknown as {dir: string}).dir
  const binary = fakeBinary()
  const args = ['build', overlay]
  const first = await cache.lookup(binary, args, overlay)
  t.like(first, {state: 'miss', files: 13})
  if (first.state !== 'miss') return
  await cache.store(first.key, WEB)
  const entry = path.join(cacheDirOf(cache), `${first.key}.json`)
  utimesSync(entry, new Date(2020, 1, 1), new Date(2020, 1, 1))
  t.deepEqual(await cache.lookup(binary, args, overlay), {state: 'hit', key: first.key, files: 13, ...WEB})
  t.true(statSync(entry).mtimeMs > Date.now() - 60_000, 'a hit marks the entry used')
  // A file kustomize does not read changes nothing.
  writeFileSync(path.join(root, 'base/unused.yaml'), 'changed\n')
  t.like(await cache.lookup(binary, args, overlay), {state: 'hit'})
  writeFileSync(path.join(root, 'base/web.yaml'), 'kind: StatefulSet\n')
  t.like(await cache.lookup(binary, args, overlay), {state: 'miss'})
  writeFileSync(path.join(root, 'base/web.yaml'), 'kind: Deployment\n')
  t.like(await cache.lookup(binary, args, overlay), {state: 'hit'})
  // An upgraded kustomize: another size or mtime.
  utimesSync(binary, new Date(2020, 1, 1), new Date(2020, 1, 1))
  t.like(await cache.lookup(binary, args, overlay), {state: 'miss'})
})

test('off, with the reason: an uncacheable overlay, a binary not found, a directory others may write to, no directory', async (t) => {
  const cacheDir = tempDir('shopsys-ci-kcache-')
  const cache = new KustomizeCache(cacheDir, {PATH: path.dirname(fakeBinary())})
  const remote = path.join(tree({'k/kustomization.yaml': 'resources: [github.com/acme/app]\n'}), 'k')
  const uncacheable = await cache.lookup('kustomize', ['build', remote], remote)
  t.is(uncacheable.state, 'off')
  t.regex((uncacheable as {reason: string}).reason, /resources: github\.com\/acme\/app is not a local file or directory$/)
  const overlay = path.join(tree(APP), 'overlay')
  t.like(await cache.lookup('kustomize', ['build', overlay], overlay), {state: 'miss'}, 'found on PATH')
  t.deepEqual(await cache.lookup('no-such-kustomize', ['build', overlay], overlay), {state: 'off', reason: 'no-such-kustomize not found'})
  const shared = tempDir('shopsys-ci-kcache-')
  chmodSync(shared, 0o777)
  t.deepEqual(await new KustomizeCache(shared).lookup(fakeBinary(), [], overlay), {state: 'off', reason: `${shared} is not private to this account`})
  t.like(await new KustomizeCache(undefined).lookup(fakeBinary(), [], overlay), {state: 'off'})
})

test('resolveExecutable: a path as given, a name on PATH, else undefined', async (t) => {
  const binary = fakeBinary()
  t.is(await resolveExecutable(binary), binary)
  t.is(await resolveExecutable('kustomize', {PATH: `/nonexistent${path.delimiter}${path.dirname(binary)}`}), binary)
  t.is(await resolveExecutable('kustomize', {PATH: '/nonexistent'}), undefined)
  t.is(await resolveExecutable(path.dirname(binary)), undefined, 'a directory is not an executable')
})

test('beyond MAX_ENTRIES, the least recently used entries are deleted', async (t) => {
  const dir = tempDir('shopsys-ci-kcache-')
  const cache = new KustomizeCache(dir, process.env, 3)
  for (const [i, key] of ['a', 'b', 'c'].entries()) {
    await cache.store(key, WEB)
    utimesSync(path.join(dir, `${key}.json`), new Date(2020, 1, 1 + i), new Date(2020, 1, 1 + i))
  }
  // `a` is used again (a hit marks it, see above), so `b` is now the oldest.
  utimesSync(path.join(dir, 'a.json'), new Date(2021, 1, 1), new Date(2021, 1, 1))
  await cache.store('d', WEB)
  t.deepEqual(readdirSync(dir).sort(), ['a.json', 'c.json', 'd.json'])
  t.is(statSync(path.join(dir, 'd.json')).mode & 0o777, 0o600)
})

test('objects JSON would not give back (.inf, .nan) are not stored; an entry that is not one is a miss', async (t) => {
  const overlay = path.join(tree(APP), 'overlay')
  const dir = tempDir('shopsys-ci-kcache-')
  const cache = new KustomizeCache(dir)
  const binary = fakeBinary()
  const miss = await cache.lookup(binary, [], overlay)
  if (miss.state !== 'miss') return t.fail(miss.state)
  await cache.store(miss.key, {output: 'x: .inf\n', manifests: [{...WEB.manifests[0], spec: {x: Number.POSITIVE_INFINITY}}]})
  t.deepEqual(readdirSync(dir), [])
  writeFileSync(path.join(dir, `${miss.key}.json`), '{"output": 1}')
  t.like(await cache.lookup(binary, [], overlay), {state: 'miss'})
  writeFileSync(path.join(dir, `${miss.key}.json`), '{"outp')
  t.like(await cache.lookup(binary, [], overlay), {state: 'miss'})
})
