/**
 * Handlebars rendering in strict mode: an unknown variable is an error naming the template file and
 * line, never an empty string. `noEscape`, because the output is YAML/config, not HTML.
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import Handlebars from 'handlebars'

import {TemplateError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'

/** A Handlebars environment of our own, so helpers never leak into or from other users of the library. */
const hbs = Handlebars.create()
// `{{json x}}` writes a value as JSON, which is also valid YAML (flow style): safe for any string.
hbs.registerHelper('json', (value: unknown) => JSON.stringify(value))

export type TemplateValues = Record<string, unknown>

/**
 * Renders `source` with `values`; `file` names the template in errors (a path, or e.g.
 * `names.hosts.first` for an inline template in the config).
 */
export function renderString(source: string, values: TemplateValues, file: string): string {
  try {
    return compiled(source)(values)
  } catch (error) {
    throw templateError(error as Error & {lineNumber?: number; column?: number}, source, file, values)
  }
}

/**
 * Templates compiled once per process: `build` renders each twice, with stand-in images before they
 * are built (the check stage) and with the real ones; Handlebars' compiler is the costly part.
 */
const templates = new Map<string, Handlebars.TemplateDelegate>()

function compiled(source: string): Handlebars.TemplateDelegate {
  let template = templates.get(source)
  if (!template) {
    template = hbs.compile(strictArguments(hbs.parseWithoutProcessing(source)), {strict: true, noEscape: true})
    templates.set(source, template)
  }
  return template
}

/**
 * Handlebars' strict mode checks `{{urls.first}}` but not the arguments of a helper: `{{json urls.frist}}`
 * wrote `url: ` and `{{#if values.typo}}` was quietly false. Every path passed to a helper or block
 * (`params`, `key=value`) is marked strict as the compiler marks a plain `{{path}}`, so a typo there is an
 * error too. A value that may be absent belongs under `values:` (e.g. `flag: false`).
 */
function strictArguments<T>(node: T): T {
  if (node === null || typeof node !== 'object') return node
  if (Array.isArray(node)) {
    for (const child of node) strictArguments(child)
    return node
  }
  const n = node as {params?: unknown[]; hash?: {pairs: Array<{value: unknown}>}}
  for (const argument of [...(n.params ?? []), ...(n.hash?.pairs.map((p) => p.value) ?? [])]) {
    if ((argument as {type?: string}).type === 'PathExpression') (argument as {strict?: boolean}).strict = true
  }
  for (const [key, child] of Object.entries(node)) if (key !== 'loc') strictArguments(child)
  return node
}

function templateError(error: Error & {lineNumber?: number; column?: number}, source: string, file: string, values: TemplateValues): TemplateError {
  const known = Object.keys(values).sort().join(', ')
  const undefinedVariable = /^"([^"]+)" not defined in/.exec(error.message)
  if (undefinedVariable && error.lineNumber !== undefined) {
    const line = source.split('\n')[error.lineNumber - 1] ?? ''
    const expression = mustacheAt(line, error.column ?? 0) ?? undefinedVariable[1]
    return new TemplateError(`${file}:${error.lineNumber}: unknown variable in ${expression}`, {
      suggestions: [`variables available here: ${known}`, 'fix the name, or add it under `values:` in the config and use {{values.name}}'],
    })
  }
  const parse = /^Parse error on line (\d+):/.exec(error.message)
  if (parse) {
    return new TemplateError(`${file}:${parse[1]}: template syntax error\n${error.message.split('\n').slice(1).join('\n')}`)
  }
  return new TemplateError(`${file}: ${error.message}`, {suggestions: [`variables available here: ${known}`]})
}

/** The `{{…}}` expression of `line` that covers `column` (0-based), if any. */
function mustacheAt(line: string, column: number): string | undefined {
  for (const match of line.matchAll(/\{\{[^}]*\}\}/g)) {
    if (match.index! <= column && column < match.index! + match[0].length) return match[0]
  }
  return undefined
}

export interface TemplateFile {
  source: string
  target: string
}

export interface RenderedFile {
  source: string
  target: string
  bytes: number
}

/**
 * Renders each `source → target` (paths relative to `workspace`). All templates are rendered before
 * any target is written, so a broken template leaves no half-updated set of files behind.
 */
export async function renderTemplateFiles(templates: TemplateFile[], workspace: string, values: TemplateValues, {write = true}: {write?: boolean} = {}): Promise<RenderedFile[]> {
  const rendered: Array<RenderedFile & {content: string; absolute: string}> = []
  for (const t of templates) {
    const sourcePath = path.resolve(workspace, t.source)
    const targetPath = path.resolve(workspace, t.target)
    if (sourcePath === targetPath) throw new TemplateError(`${t.source}: the target is the source itself; sources are never overwritten`)
    let source: string
    try {
      source = await readFile(sourcePath, 'utf8')
    } catch {
      throw new TemplateError(`${t.source}: template not found (looked in ${sourcePath})`, {suggestions: ['check `templates[].source` in the config; paths are relative to the workspace']})
    }
    const content = renderString(source, values, t.source)
    rendered.push({source: t.source, target: t.target, bytes: Buffer.byteLength(content), content, absolute: targetPath})
  }
  if (write) for (const r of rendered) await writeFileAtomic(r.absolute, r.content)
  return rendered.map(({source, target, bytes}) => ({source, target, bytes}))
}
