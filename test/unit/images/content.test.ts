import {chmod, mkdir, rm, stat, symlink, utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {contextEntries, inputsDigest} from '../../../src/images/content.js'
import {tempDir} from '../../helpers/tmp.js'

async function makeContext(files: Record<string, string>): Promise<string> {
  const dir = tempDir('shopsys-ci-content-')
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), {recursive: true})
    await writeFile(path.join(dir, name), content)
  }
  return dir
}

const BASE = {
  Dockerfile: 'FROM scratch\nCOPY . /app\n',
  '.dockerignore': '**/*.log\nvar\n!var/keep.txt\n',
  'src/index.php': '<?php echo 1;',
  'src/lib/a.php': 'a',
  'var/cache/big.bin': 'cache',
  'var/keep.txt': 'keep',
  'debug.log': 'noise',
  'src/deep/x.log': 'noise',
}

const spec = (dir: string, extra: Partial<Parameters<typeof inputsDigest>[0]> = {}) => ({contextDir: dir, dockerfile: path.join(dir, 'Dockerfile'), buildArgs: {}, ...extra})

test('the context as docker sees it: .dockerignore applied, sorted, with modes', async (t) => {
  const dir = await makeContext(BASE)
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  const entries = await contextEntries(dir)
  t.deepEqual(
    entries.map((e) => `${e.type} ${e.path}`),
    ['file .dockerignore', 'file Dockerfile', 'dir src', 'dir src/deep', 'file src/index.php', 'dir src/lib', 'file src/lib/a.php', 'file var/keep.txt'],
  )
  t.regex(entries.find((e) => e.path === 'src/index.php')!.content!, /^[0-9a-f]{64}$/)
})

test('deterministic: same inputs, same digest; timestamps do not matter; creation order does not matter', async (t) => {
  const a = await makeContext(BASE)
  const reversed = Object.fromEntries(Object.entries(BASE).reverse())
  const b = await makeContext(reversed)
  t.teardown(() => Promise.all([rm(a, {recursive: true, force: true}), rm(b, {recursive: true, force: true})]))
  const da = await inputsDigest(spec(a))
  t.regex(da, /^[0-9a-f]{64}$/)
  await utimes(path.join(b, 'src/index.php'), new Date(2001, 1, 1), new Date(2001, 1, 1))
  t.is(await inputsDigest(spec(b, {concurrency: 1})), da)
  t.is(await inputsDigest(spec(a, {concurrency: 32})), da)
})

test('changes: file content, file added, mode, Dockerfile, target, build args — but not ignored files', async (t) => {
  const dir = await makeContext(BASE)
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  const base = await inputsDigest(spec(dir))
  const differs = async (what: string, change: () => Promise<unknown>, undo: () => Promise<unknown>) => {
    await change()
    t.not(await inputsDigest(spec(dir)), base, what)
    await undo()
    t.is(await inputsDigest(spec(dir)), base, `${what} undone`)
  }
  await differs('content', () => writeFile(path.join(dir, 'src/index.php'), '<?php echo 2;'), () => writeFile(path.join(dir, 'src/index.php'), BASE['src/index.php']))
  await differs('new file', () => writeFile(path.join(dir, 'src/new.php'), ''), () => rm(path.join(dir, 'src/new.php')))
  const mode = (await stat(path.join(dir, 'src/lib/a.php'))).mode & 0o7777
  await differs('mode', () => chmod(path.join(dir, 'src/lib/a.php'), mode | 0o111), () => chmod(path.join(dir, 'src/lib/a.php'), mode))
  await differs('empty dir', () => mkdir(path.join(dir, 'empty')), () => rm(path.join(dir, 'empty'), {recursive: true}))
  await differs('symlink', () => symlink('index.php', path.join(dir, 'src/link')), () => rm(path.join(dir, 'src/link')))
  await differs('re-included file', () => writeFile(path.join(dir, 'var/keep.txt'), 'changed'), () => writeFile(path.join(dir, 'var/keep.txt'), 'keep'))
  await differs('Dockerfile', () => writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n'), () => writeFile(path.join(dir, 'Dockerfile'), BASE.Dockerfile))

  await writeFile(path.join(dir, 'debug.log'), 'other noise')
  await writeFile(path.join(dir, 'var/cache/big.bin'), 'other cache')
  await writeFile(path.join(dir, 'var/cache/new.bin'), 'new')
  t.is(await inputsDigest(spec(dir)), base, 'ignored files do not count')

  t.not(await inputsDigest(spec(dir, {target: 'ci'})), base, 'target')
  t.not(await inputsDigest(spec(dir, {buildArgs: {A: '1'}})), base, 'build arg')
  t.not(await inputsDigest(spec(dir, {buildArgs: {A: '1'}})), await inputsDigest(spec(dir, {buildArgs: {A: '2'}})), 'build arg value')
})

test('a Dockerfile outside the context counts by content', async (t) => {
  const dir = await makeContext({'ctx/a.txt': 'a', 'docker/Dockerfile': 'FROM scratch\n'})
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  const s = {contextDir: path.join(dir, 'ctx'), dockerfile: path.join(dir, 'docker/Dockerfile'), buildArgs: {}}
  const before = await inputsDigest(s)
  await writeFile(path.join(dir, 'docker/Dockerfile'), 'FROM scratch\nCOPY a.txt /\n')
  t.not(await inputsDigest(s), before)
})
