import {readFile, writeFile, mkdir, readdir} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {TemplateError} from '../../../src/errors.js'
import {renderString, renderTemplateFiles} from '../../../src/templates/render.js'
import {tempDir} from '../../helpers/tmp.js'

test('renders variables without HTML escaping', (t) => {
  t.is(renderString('url: {{urls.first}} & {{x}}', {urls: {first: 'http://a.b:8000/?q=1&r=<2>'}, x: "'"}, 't'), "url: http://a.b:8000/?q=1&r=<2> & '")
})

test('{{json}} writes a YAML-safe quoted value', (t) => {
  t.is(renderString('v: {{json v}}', {v: 'a: "b"\n'}, 't'), 'v: "a: \\"b\\"\\n"')
})

test('an unknown variable is an error naming the file, line and expression, never an empty string', (t) => {
  const error = t.throws(() => renderString('a: 1\nb: {{urls.thrid}}\n', {urls: {first: 'x'}}, 'config/x.yaml.hbs'), {instanceOf: TemplateError})
  t.regex(error!.message, /^config\/x\.yaml\.hbs:2: unknown variable in \{\{urls\.thrid\}\}/)
  t.is(error!.exitCode, 2)
  t.regex(error!.suggestions.join(' '), /variables available here: urls/)
})

test('a template rendered again (build renders each twice: stand-in images, then the real ones) uses the new values and names its own file in errors', (t) => {
  const source = 'image: {{images.app}}\n'
  t.is(renderString(source, {images: {app: 'preflight.invalid/app:x'}}, 'a.hbs'), 'image: preflight.invalid/app:x\n')
  t.is(renderString(source, {images: {app: 'registry.test/app:1'}}, 'a.hbs'), 'image: registry.test/app:1\n')
  t.throws(() => renderString(source, {images: {}}, 'b.hbs'), {instanceOf: TemplateError, message: /^b\.hbs:1: unknown variable in \{\{images\.app\}\}/})
  t.throws(() => renderString(source, {images: {}}, 'c.hbs'), {instanceOf: TemplateError, message: /^c\.hbs:1: /}, 'the second failure is reported as the first')
})

test('an unknown top-level variable is an error too', (t) => {
  const error = t.throws(() => renderString('{{nope}}', {}, 'f'), {instanceOf: TemplateError})
  t.regex(error!.message, /f:1: unknown variable in \{\{nope\}\}/)
})

test('an unknown variable passed to a helper or block is an error too: {{json urls.secnd}} never writes `url: `', (t) => {
  const values = {urls: {first: 'http://a'}, values: {flag: false}, hosts: {first: 'a'}}
  for (const [source, expression] of [
    ['x: 1\nurl: {{json urls.secnd}}\n', '{{json urls.secnd}}'],
    ['x: 1\n{{#if values.flga}}y{{/if}}\n', '{{#if values.flga}}'],
    ['x: 1\n{{json (lookup hosts nope)}}\n', '{{json (lookup hosts nope)}}'],
  ]) {
    const error = t.throws(() => renderString(source, values, 'f.hbs'), {instanceOf: TemplateError}, source)
    t.is(error!.message, `f.hbs:2: unknown variable in ${expression}`)
  }
  // Known paths, block params, @data and ../ still work, and a false value is not a missing one.
  t.is(renderString('{{json urls.first}} {{#if values.flag}}y{{else}}n{{/if}} {{#each hosts as |h k|}}{{k}}={{json h}}{{json ../urls.first}}{{/each}}', values, 'f'), '"http://a" n first="a""http://a"')
})

test('a syntax error names the file and line', (t) => {
  const error = t.throws(() => renderString('ok\n{{#if x}}\n', {x: true}, 'f.hbs'), {instanceOf: TemplateError})
  t.regex(error!.message, /^f\.hbs:\d+: template syntax error/)
})

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = tempDir('shopsys-ci-templates-')
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), {recursive: true})
    await writeFile(path.join(dir, name), content)
  }
  return dir
}

test('template files are rendered to their targets; sources stay untouched', async (t) => {
  const dir = await workspace({'config/a.yaml.dist': 'host: {{host}}\n'})
  const result = await renderTemplateFiles([{source: 'config/a.yaml.dist', target: 'config/a.yaml'}], dir, {host: 'x.example'})
  t.deepEqual(result, [{source: 'config/a.yaml.dist', target: 'config/a.yaml', bytes: 'host: x.example\n'.length}])
  t.is(await readFile(path.join(dir, 'config/a.yaml'), 'utf8'), 'host: x.example\n')
  t.is(await readFile(path.join(dir, 'config/a.yaml.dist'), 'utf8'), 'host: {{host}}\n')
  t.deepEqual((await readdir(path.join(dir, 'config'))).sort(), ['a.yaml', 'a.yaml.dist'], 'no temporary file is left behind')
})

test('a broken template writes no target at all', async (t) => {
  const dir = await workspace({'a.hbs': 'ok {{x}}', 'b.hbs': 'broken {{y}}'})
  await t.throwsAsync(renderTemplateFiles([{source: 'a.hbs', target: 'a'}, {source: 'b.hbs', target: 'b'}], dir, {x: 1}), {message: /b\.hbs:1: unknown variable/})
  t.deepEqual((await readdir(dir)).sort(), ['a.hbs', 'b.hbs'])
})

test('a missing template source says where it looked', async (t) => {
  const dir = await workspace({})
  await t.throwsAsync(renderTemplateFiles([{source: 'nope.hbs', target: 'x'}], dir, {}), {instanceOf: TemplateError, message: /nope\.hbs: template not found/})
})
