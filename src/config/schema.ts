/**
 * A small schema language for the config file, validated against the YAML syntax tree so every
 * problem carries its file, line and key. All problems are collected; none stops the walk.
 */
import {type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, type Pair, type YAMLMap} from 'yaml'

import type {ConfigProblem} from '../errors.js'
import {parseDuration} from '../util/duration.js'

export type Schema =
  | {kind: 'string'; pattern?: RegExp; patternHint?: string; enum?: readonly string[]; nonEmpty?: boolean}
  | {kind: 'int'; min?: number; max?: number}
  | {kind: 'bool'}
  | {kind: 'duration'}
  | {kind: 'scalar'}
  | {kind: 'list'; of: Schema; nonEmpty?: boolean}
  | {kind: 'map'; of: Schema; keyPattern?: RegExp; keyHint?: string}
  | {kind: 'object'; fields: Record<string, Field>}
  | {kind: 'any'}
  | {kind: 'oneOf'; options: readonly Schema[]; hint: string}

export interface Field {
  schema: Schema
  required?: boolean
  /** Used when the key is absent. */
  default?: unknown
}

export const str = (opts: Omit<Extract<Schema, {kind: 'string'}>, 'kind'> = {}): Schema => ({kind: 'string', ...opts})
export const int = (opts: Omit<Extract<Schema, {kind: 'int'}>, 'kind'> = {}): Schema => ({kind: 'int', ...opts})
export const bool = (): Schema => ({kind: 'bool'})
export const duration = (): Schema => ({kind: 'duration'})
export const scalar = (): Schema => ({kind: 'scalar'})
export const any = (): Schema => ({kind: 'any'})
export const list = (of: Schema, opts: {nonEmpty?: boolean} = {}): Schema => ({kind: 'list', of, ...opts})
export const map = (of: Schema, opts: {keyPattern?: RegExp; keyHint?: string} = {}): Schema => ({kind: 'map', of, ...opts})
export const object = (fields: Record<string, Field | Schema>): Schema => ({
  kind: 'object',
  fields: Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, 'kind' in f ? {schema: f} : f])),
})
export const oneOf = (hint: string, ...options: Schema[]): Schema => ({kind: 'oneOf', options, hint})

/** A function that replaces `${VAR}` references in a scalar; it reports problems itself. */
export type Interpolate = (value: string, report: (message: string) => void) => string

export interface ValidateContext {
  file: string
  lines: LineCounter
  /** Resolves aliases (`*name`) to their anchored node. */
  doc: Document
  interpolate: Interpolate
  problems: ConfigProblem[]
}

function describe(schema: Schema): string {
  switch (schema.kind) {
    case 'string':
      return schema.enum ? `one of ${schema.enum.join(', ')}` : 'a string'
    case 'int':
      return 'a whole number'
    case 'bool':
      return 'true or false'
    case 'duration':
      return 'a duration such as 90s, 10m or 24h'
    case 'scalar':
      return 'a string, number or boolean'
    case 'list':
      return 'a list'
    case 'map':
    case 'object':
      return 'a mapping'
    case 'oneOf':
      return schema.hint
    case 'any':
      return 'anything'
  }
}

function typeOf(node: Node | null | undefined): string {
  if (!node) return 'nothing'
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a list'
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${JSON.stringify(node.value)}`
  return 'an alias'
}

function isEmptySection(node: Node | null, field: {schema: Schema; required?: boolean}): boolean {
  return !field.required && ['object', 'map', 'list'].includes(field.schema.kind) && (!node || (isScalar(node) && node.value === null))
}

/** A YAML 1.1 merge key (`<<: *base`); parsed with `merge: true`, its value is a symbol. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol'
}

/**
 * A mapping's pairs with merge keys expanded in place, as YAML defines them: a key of the mapping itself
 * wins over a merged one, and an earlier merged mapping over a later. Merged pairs keep their own
 * positions, so a problem in one points at the anchored mapping it was written in.
 */
function pairsOf(node: YAMLMap, ctx: ValidateContext, report: (message: string, at?: Node | null) => void): Pair[] {
  const keyOf = (pair: Pair) => (isScalar(pair.key) ? String(pair.key.value) : undefined)
  const own = new Set(node.items.filter((p) => !isMergeKey(p.key)).map(keyOf))
  const seen = new Set<string | undefined>()
  const out: Pair[] = []
  for (const pair of node.items) {
    if (!isMergeKey(pair.key)) {
      out.push(pair)
      continue
    }
    const value = pair.value as Node | null
    for (let source of isSeq(value) ? (value.items as Node[]) : [value]) {
      if (isAlias(source)) source = (source.resolve(ctx.doc) as Node | undefined) ?? null
      if (!isMap(source)) {
        report('a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *defaults', source ?? value)
        continue
      }
      for (const merged of pairsOf(source, ctx, report)) {
        const k = keyOf(merged)
        if (own.has(k) || seen.has(k)) continue
        seen.add(k)
        out.push(merged)
      }
    }
  }
  return out
}

/** Validates `node` against `schema`; returns the plain value (defaults applied) or undefined on error. */
export function validate(node: Node | null | undefined, schema: Schema, key: string, ctx: ValidateContext): unknown {
  const report = (message: string, at: Node | null | undefined = node) => {
    const offset = at?.range?.[0]
    const pos = offset === undefined ? undefined : ctx.lines.linePos(offset)
    ctx.problems.push({file: ctx.file, line: pos?.line, column: pos?.col, key: key || '(top level)', message})
  }
  const wrongType = () => report(`expected ${describe(schema)}, got ${typeOf(node)}`)
  // `*name` stands for the node anchored as `&name`: validated as if written here.
  if (isAlias(node)) {
    const target = node.resolve(ctx.doc) as Node | undefined
    if (target) return validate(target, schema, key, ctx)
    report(`*${node.source} refers to no anchor: define &${node.source} before it`)
    return undefined
  }

  switch (schema.kind) {
    case 'any':
      return node ? node.toJS(ctx.doc) : undefined
    case 'oneOf': {
      for (const option of schema.options) {
        const probe: ValidateContext = {...ctx, problems: []}
        const value = validate(node, option, key, probe)
        if (probe.problems.length === 0) return value
      }
      // Report through the option whose shape matches, so the message names the real mistake.
      const matching = schema.options.find((o) => (isMap(node) ? o.kind === 'object' : isSeq(node) ? o.kind === 'list' : isScalar(node) && !['object', 'list', 'map'].includes(o.kind)))
      if (matching) return validate(node, matching, key, ctx)
      wrongType()
      return undefined
    }
    case 'object': {
      if (!isMap(node)) {
        wrongType()
        return undefined
      }
      const out: Record<string, unknown> = {}
      const seen = new Set<string>()
      for (const pair of pairsOf(node, ctx, report)) {
        const k = isScalar(pair.key) ? String(pair.key.value) : undefined
        const path = key ? `${key}.${k}` : String(k)
        if (k === undefined || !(k in schema.fields)) {
          const known = Object.keys(schema.fields)
          const hint = suggest(String(k), known)
          ctx.problems.push({
            file: ctx.file,
            ...position(pair.key as Node, ctx),
            key: path,
            message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; known keys here: ${known.join(', ')}`,
          })
          continue
        }
        // A section whose keys are all commented out (`deploy:` alone) is empty: as if absent, so its defaults apply.
        if (isEmptySection(pair.value as Node | null, schema.fields[k])) continue
        seen.add(k)
        const value = validate(pair.value as Node, schema.fields[k].schema, path, ctx)
        if (value !== undefined) out[k] = value
      }
      for (const [k, field] of Object.entries(schema.fields)) {
        if (seen.has(k)) continue
        if (field.required) report(`required key "${key ? `${key}.${k}` : k}" is missing`)
        else {
          const value = defaultOf(field)
          if (value !== undefined) out[k] = value
        }
      }
      return out
    }
    case 'map': {
      if (!isMap(node)) {
        wrongType()
        return undefined
      }
      const out: Record<string, unknown> = {}
      for (const pair of pairsOf(node, ctx, report)) {
        const k = isScalar(pair.key) ? String(pair.key.value) : ''
        const path = key ? `${key}.${k}` : k
        if (schema.keyPattern && !schema.keyPattern.test(k)) {
          ctx.problems.push({file: ctx.file, ...position(pair.key as Node, ctx), key: path, message: `invalid name: ${schema.keyHint ?? schema.keyPattern}`})
          continue
        }
        const value = validate(pair.value as Node, schema.of, path, ctx)
        if (value !== undefined) out[k] = value
      }
      return out
    }
    case 'list': {
      if (!isSeq(node)) {
        wrongType()
        return undefined
      }
      if (schema.nonEmpty && node.items.length === 0) report('must not be empty')
      return node.items.map((item, i) => validate(item as Node, schema.of, `${key}[${i}]`, ctx))
    }
    default: {
      if (!isScalar(node) || node.value === null) {
        wrongType()
        return undefined
      }
      let value = node.value
      if (typeof value === 'string') value = ctx.interpolate(value, (m) => report(m))
      return scalarValue(value, schema, report, wrongType)
    }
  }
}

/** A field's default; an object without one gets its own fields' defaults. */
export function defaultOf(field: Field): unknown {
  if (field.default !== undefined) return structuredClone(field.default)
  // An optional section with required keys of its own (e.g. kustomize.base) stays absent.
  if (field.schema.kind !== 'object' || Object.values(field.schema.fields).some((f) => f.required)) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, f] of Object.entries(field.schema.fields)) {
    const value = defaultOf(f)
    if (value !== undefined) out[k] = value
  }
  return out
}

function scalarValue(value: unknown, schema: Schema, report: (m: string) => void, wrongType: () => void): unknown {
  switch (schema.kind) {
    case 'string': {
      if (typeof value === 'number' || typeof value === 'boolean') value = String(value)
      if (typeof value !== 'string') return wrongType()
      if (schema.nonEmpty && value === '') return report('must not be empty')
      if (schema.enum && !schema.enum.includes(value)) return report(`expected one of ${schema.enum.join(', ')}, got "${value}"`)
      if (schema.pattern && !schema.pattern.test(value)) return report(`"${value}" is not valid: ${schema.patternHint ?? `must match ${schema.pattern}`}`)
      return value
    }
    case 'int': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) return wrongType()
      if (schema.min !== undefined && n < schema.min) return report(`must be at least ${schema.min}, got ${n}`)
      if (schema.max !== undefined && n > schema.max) return report(`must be at most ${schema.max}, got ${n}`)
      return n
    }
    case 'bool': {
      if (value === 'true' || value === 'false') return value === 'true'
      if (typeof value !== 'boolean') return wrongType()
      return value
    }
    case 'duration': {
      const ms = parseDuration(String(value))
      if (ms === undefined) return wrongType()
      return ms
    }
    case 'scalar':
      return typeof value === 'object' ? wrongType() : value
    default:
      return wrongType()
  }
}

function position(node: Node | undefined, ctx: ValidateContext): {line?: number; column?: number} {
  const offset = node?.range?.[0]
  if (offset === undefined) return {}
  const {line, col} = ctx.lines.linePos(offset)
  return {line, column: col}
}

/** The known key closest to a typo, if it is close enough to be a likely intent. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}
