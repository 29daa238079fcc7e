/**
 * The one parser of a multi-document manifests text (kustomize's output after `render`, the file
 * `deploy` applies): every document is one Kubernetes object or a `kind: …List` of them, and every
 * object has apiVersion, kind and metadata.name. Pure, and light: `render` loads it too, so it
 * imports nothing from src/kube/ but types.
 */
import {isMap, isNode, isSeq, LineCounter, parseAllDocuments} from 'yaml'

import {ManifestError} from '../errors.js'
import type {KObject} from '../kube/workload-status.js'

export interface ManifestObject extends KObject {
  apiVersion: string
  kind: string
  metadata: NonNullable<KObject['metadata']> & {name: string}
}

export interface ParseOptions {
  /** Problems the caller found itself; reported first, in the same error. */
  problems?: string[]
  /** What to do about the problems ("Try:" lines). */
  suggestions?: string[]
}

/**
 * Every object of a multi-document YAML text, in order: empty documents are skipped, `List`
 * documents are expanded into their items. All problems are reported at once, each with the
 * document (and item) number, its line and the object's kind/name where known; `source` names
 * the text in the message (a file, or the command that printed it).
 */
export function parseManifests(text: string, source: string, options: ParseOptions = {}): ManifestObject[] {
  const problems = [...(options.problems ?? [])]
  const objects: ManifestObject[] = []
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, {lineCounter})
  if (!Array.isArray(docs)) throw new ManifestError(`${source}: not a YAML stream`, {suggestions: options.suggestions})

  const visit = (value: unknown, node: unknown, where: string): void => {
    const line = isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined
    if (!isPlainObject(value)) {
      problems.push(`${locate(where, line)}: not a mapping but ${describeValue(value)}; a document must be one object`)
      return
    }
    const isList = typeof value.kind === 'string' && /List$/.test(value.kind) && Array.isArray(value.items)
    const fields = isList || value.kind === 'List' ? (['apiVersion', 'kind'] as const) : (['apiVersion', 'kind', 'metadata.name'] as const)
    const missing = fields.filter((f) => isBlank(field(value, f)))
    const notStrings = fields.filter((f) => !isBlank(field(value, f)) && typeof field(value, f) !== 'string')
    const generated = missing.includes('metadata.name') && isPlainObject(value.metadata) && typeof value.metadata.generateName === 'string'
    const wrong = [
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
      // Helm-hook style; a name is needed to apply it, and a Job whose template changes is created anew anyway.
      ...(generated ? ['generateName is not supported: server-side apply needs a fixed name (a Job whose pod template changes is created anew on deploy)'] : []),
      ...notStrings.map((f) => `${f} is ${describeValue(field(value, f))}, not a string`),
      ...(value.kind === 'List' && !isList ? ['a List needs `items:`, a sequence of objects'] : []),
    ]
    if (wrong.length > 0) problems.push(`${locate(where, line, label(value))}: ${wrong.join('; ')}`)
    if (isList) {
      const itemsNode = isMap(node) ? node.get('items', true) : undefined
      ;(value.items as unknown[]).forEach((item, j) => visit(item, isSeq(itemsNode) ? itemsNode.items[j] : undefined, `${where}, item ${j + 1}`))
    } else if (wrong.length === 0) {
      objects.push(value as unknown as ManifestObject)
    }
  }

  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push(`document ${i + 1}: ${doc.errors[0].message.split('\n')[0]}`)
      return
    }
    const value: unknown = doc.toJS({maxAliasCount: 100})
    if (value === null || value === undefined) return
    visit(value, doc.contents, `document ${i + 1}`)
  })
  if (objects.length === 0 && problems.length === 0) problems.push('no objects: every document is empty')
  if (problems.length > 0) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`
    throw new ManifestError(`${count} in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {suggestions: options.suggestions})
  }
  return objects
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function field(obj: Record<string, unknown>, name: 'apiVersion' | 'kind' | 'metadata.name'): unknown {
  if (name !== 'metadata.name') return obj[name]
  return isPlainObject(obj.metadata) ? obj.metadata.name : undefined
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === ''
}

/** `document 2, item 1 (line 7, ConfigMap/a)`. */
function locate(where: string, line: number | undefined, what?: string): string {
  const details = [line === undefined ? undefined : `line ${line}`, what].filter(Boolean)
  return details.length > 0 ? `${where} (${details.join(', ')})` : where
}

/** `Kind/name`, `Kind` or `name a`: what the object says it is, as far as it says. */
function label(obj: Record<string, unknown>): string | undefined {
  const kind = typeof obj.kind === 'string' && obj.kind !== '' ? obj.kind : undefined
  const name = field(obj, 'metadata.name')
  const named = typeof name === 'string' && name !== '' ? name : undefined
  if (kind && named) return `${kind}/${named}`
  return kind ?? (named === undefined ? undefined : `name ${named}`)
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a sequence'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a mapping'
  const text = JSON.stringify(value)
  return `a ${typeof value} (${text.length > 40 ? `${text.slice(0, 39)}…` : text})`
}
