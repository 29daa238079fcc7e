import test from 'ava'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {Readable} from 'node:stream'

import {safeMemberPath, TarExtractor} from '../../../src/kube/tar.js'
import {tempDir} from '../../helpers/tmp.js'

const tmp = () => tempDir('shopsys-ci-tar-')

async function extract(archive: Buffer, chunkSize = 777): Promise<{dest: string; extractor: TarExtractor}> {
  const dest = tmp()
  const extractor = new TarExtractor(dest)
  const chunks: Buffer[] = []
  for (let i = 0; i < archive.length; i += chunkSize) chunks.push(archive.subarray(i, i + chunkSize))
  await pipeline(Readable.from(chunks), extractor)
  return {dest, extractor}
}

test('safe member paths', (t) => {
  t.is(safeMemberPath('var/log/junit.xml'), 'var/log/junit.xml')
  t.is(safeMemberPath('/abs/file'), 'abs/file')
  t.is(safeMemberPath('./a//b/'), 'a/b')
  t.is(safeMemberPath('../etc/passwd'), undefined)
  t.is(safeMemberPath('a/../../b'), undefined)
  t.is(safeMemberPath('.'), undefined)
})

test('extracts what tar cf - writes: files, directories, long names, binary content', async (t) => {
  const src = tmp()
  const long = `${'deep/'.repeat(30)}screenshot-with-a-very-long-name-${'x'.repeat(80)}.png`
  mkdirSync(path.join(src, path.dirname(long)), {recursive: true})
  const binary = Buffer.from(Array.from({length: 70_000}, (_, i) => (i * 7) % 256))
  writeFileSync(path.join(src, long), binary)
  mkdirSync(path.join(src, 'var/logs'), {recursive: true})
  writeFileSync(path.join(src, 'var/logs/junit.xml'), '<testsuites/>\n')
  writeFileSync(path.join(src, 'empty.txt'), '')
  for (const format of ['gnu', 'posix', 'ustar']) {
    if (format === 'ustar') continue // ustar cannot store the long name
    const archive = execFileSync('tar', ['cf', '-', `--format=${format}`, '-C', src, 'deep', 'var', 'empty.txt'], {maxBuffer: 1 << 26})
    const {dest, extractor} = await extract(archive)
    t.deepEqual(readFileSync(path.join(dest, long)), binary, format)
    t.is(readFileSync(path.join(dest, 'var/logs/junit.xml'), 'utf8'), '<testsuites/>\n')
    t.is(readFileSync(path.join(dest, 'empty.txt'), 'utf8'), '')
    t.true(extractor.entries.some((e) => e.path === 'var/logs/junit.xml' && e.type === 'file' && e.size === 14))
  }
})

function header(name: string, type: string, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0, 'utf8')
  h.write('0000644\0', 100)
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  h.write(type, 156)
  h.write('ustar\0', 257)
  return h
}

test('entries escaping the destination are skipped, links too', async (t) => {
  const data = Buffer.from('pwned\n')
  const pad = Buffer.alloc(512 - data.length)
  const archive = Buffer.concat([
    header('../escape.txt', '0', data.length), data, pad,
    header('ok/../../escape2.txt', '0', data.length), data, pad,
    header('link', '2', 0),
    header('fine.txt', '0', data.length), data, pad,
    Buffer.alloc(1024),
  ])
  const {dest, extractor} = await extract(archive, 100)
  t.false(existsSync(path.join(dest, '../escape.txt')))
  t.false(existsSync(path.join(path.dirname(dest), 'escape2.txt')))
  t.is(readFileSync(path.join(dest, 'fine.txt'), 'utf8'), 'pwned\n')
  t.deepEqual(extractor.skipped, ['../escape.txt', 'ok/../../escape2.txt', 'link'])
})

test('an empty stream extracts nothing', async (t) => {
  const {extractor} = await extract(Buffer.alloc(0))
  t.deepEqual(extractor.entries, [])
})
