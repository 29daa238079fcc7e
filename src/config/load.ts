/**
 * Reads `.ci/shopsys-ci.yaml`, validates it against the schema and normalizes it.
 * Every problem is collected and thrown at once as a ConfigError (exit 2).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {LineCounter, parseDocument} from 'yaml'

import {MANAGED_BY_LABEL, PULL_SECRET_NAME} from '../conventions.js'
import {ConfigError, type ConfigProblem} from '../errors.js'
import {VARIABLES} from './environment.js'
import {interpolateEnv} from './interpolate.js'
import {type Config, configSchema, type ImageConfig, type PhaseConfig} from './model.js'
import {defaultOf, validate} from './schema.js'

export const DEFAULT_CONFIG_PATH = '.ci/shopsys-ci.yaml'

export type Env = Readonly<Record<string, string | undefined>>

export interface LoadedConfig {
  config: Config
  /** Absolute path of the file read; undefined when running on defaults. */
  file?: string
}

export interface LoadOptions {
  workspace: string
  /** Explicit `--config`; relative to the working directory. Must exist. */
  configPath?: string
  env: Env
  /** Allow running without a config file (commands like `names`). */
  optional?: boolean
}

export function loadConfig(options: LoadOptions): LoadedConfig {
  const file = options.configPath ? path.resolve(options.configPath) : path.join(options.workspace, DEFAULT_CONFIG_PATH)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.optional && !options.configPath) {
      return {config: defaultConfig(options.workspace, options.env)}
    }
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message
    throw new ConfigError([{file, message: reason}], {
      suggestions: options.configPath ? ['check the --config path'] : ['run `shopsys-ci init` to write a starter config, or pass --config'],
    })
  }
  return {config: parseConfig(text, file, options.env), file}
}

/** Parses and validates config text; `file` is used in messages only. */
export function parseConfig(text: string, file: string, env: Env): Config {
  const lines = new LineCounter()
  // merge: YAML 1.1 merge keys (`<<: *defaults`), which CI configs commonly use with anchors.
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true})
  const problems: ConfigProblem[] = []
  for (const error of doc.errors) {
    const pos = lines.linePos(error.pos[0])
    problems.push({file, line: pos.line, column: pos.col, message: `YAML syntax: ${error.message.split('\n')[0]}`})
  }
  if (problems.length > 0) throw new ConfigError(problems)
  if (doc.contents === null) throw new ConfigError([{file, message: 'the file is empty; it needs at least `project:`'}])

  const raw = validate(doc.contents, configSchema, '', {
    file,
    lines,
    doc,
    problems,
    interpolate: (value, report) => interpolateEnv(value, env, report),
  }) as Record<string, unknown> | undefined
  if (!raw) throw new ConfigError(problems)
  // Cross-checked even when the schema found problems, so that every problem is reported at once;
  // not where the schema already found the same item wrong (it may look wrong only for that), and
  // not when a list item was refused whole (its hole would shift the others' positions).
  const schemaProblems = [...problems]
  if (schemaProblems.length > 0 && Object.values(raw).some((v) => Array.isArray(v) && v.includes(undefined))) throw new ConfigError(problems)
  let config: Config
  let cross: ConfigProblem[]
  try {
    config = normalize(schemaProblems.length > 0 ? withDefaultSections(raw) : raw)
    cross = crossCheck(config, file, (key) => keyLine(doc, lines, key))
  } catch (error) {
    // A part the schema refused may break a cross-check that expects it whole: its problems stand.
    if (schemaProblems.length > 0) throw new ConfigError(problems)
    throw error
  }
  problems.push(...cross.filter((c) => !schemaProblems.some((p) => sameItem(p.key, c.key))))
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

/** A section the schema refused whole has no value: it gets its defaults, for the other sections' cross-checks. */
function withDefaultSections(raw: Record<string, unknown>): Record<string, unknown> {
  const out = {...raw}
  if (configSchema.kind === 'object') {
    for (const [key, field] of Object.entries(configSchema.fields)) out[key] ??= defaultOf(field)
  }
  return out
}

/** Do two problem keys concern the same item (`images[0].tag` and `images[0].tagTemplate`, or `images` and `images[1].name`)? */
function sameItem(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false
  const item = (key: string) => /^[^.[]+(\[\d+\])?/.exec(key)?.[0] ?? key
  const [x, y] = [item(a), item(b)]
  return x === y || x.startsWith(`${y}[`) || y.startsWith(`${x}[`)
}

/** The configuration used when the repository has no config file. */
export function defaultConfig(workspace: string, env: Env): Config {
  const project = env.SHOPSYS_CI_PROJECT || path.basename(path.resolve(workspace)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32).replace(/-+$/, '') || 'app'
  if (configSchema.kind !== 'object') throw new Error('the config schema is an object')
  const raw: Record<string, unknown> = {project}
  for (const [key, field] of Object.entries(configSchema.fields)) {
    const value = defaultOf(field)
    if (value !== undefined && key !== 'project') raw[key] = value
  }
  return normalize(raw)
}

function normalize(raw: Record<string, unknown>): Config {
  const config = raw as unknown as Config
  config.images = (config.images ?? []).map((image: ImageConfig) => ({
    ...image,
    placeholder: image.placeholder ?? image.name,
    // (context is missing only in a config the schema refused, which is cross-checked all the same)
    dockerfile: image.dockerfile ?? (image.context === undefined ? undefined : path.posix.join(image.context, 'Dockerfile')),
  }))
  config.phases = (config.phases ?? []).map((phase: PhaseConfig) => ({
    ...phase,
    command: typeof phase.command === 'string' ? ['sh', '-c', phase.command] : phase.command,
  }))
  if (config.kustomize) {
    config.kustomize.patches = config.kustomize.patches.map((p) => (typeof p === 'string' ? {path: p} : p))
  }
  return config
}

function crossCheck(config: Config, file: string, lineOf: (key: string) => number | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const add = (key: string, message: string) => problems.push({file, line: lineOf(key), key, message})

  const duplicates = (names: string[]) => names.filter((n, i) => names.indexOf(n) !== i)
  for (const name of new Set(duplicates(config.images.map((i) => i.name)))) add('images', `image "${name}" is declared twice`)
  for (const name of new Set(duplicates(config.phases.map((p) => p.name)))) add('phases', `phase "${name}" is declared twice`)
  for (const name of new Set(duplicates(config.templates.map((t) => t.target)))) add('templates', `two templates write "${name}"`)

  const imageNames = new Set(config.images.map((i) => i.name))
  config.images.forEach((image, i) => {
    if (image.tag === 'template' && !image.tagTemplate) add(`images[${i}].tagTemplate`, 'required when tag is "template"')
    if (image.tag !== 'template' && image.tagTemplate) add(`images[${i}].tagTemplate`, `only used with tag: template (tag is "${image.tag}")`)
    for (const dep of image.dependsOn) {
      if (!imageNames.has(dep)) add(`images[${i}].dependsOn`, `no image named "${dep}" (images: ${[...imageNames].join(', ')})`)
    }
  })
  const cycle = findCycle(config.images)
  if (cycle) add('images', `dependsOn forms a cycle: ${cycle.join(' -> ')}`)

  config.templates.forEach((t, i) => {
    if (path.posix.normalize(t.source) === path.posix.normalize(t.target)) add(`templates[${i}].target`, 'must differ from source (sources are never overwritten)')
  })

  // The tool's own labels and annotations say whose environment a namespace is: never the config's.
  for (const [field, keys] of [['namespaceLabels', Object.keys(config.deploy.namespaceLabels)], ['namespaceAnnotations', Object.keys(config.deploy.namespaceAnnotations)]] as const) {
    for (const key of keys.filter((k) => k.startsWith('shopsys-ci/') || k === MANAGED_BY_LABEL)) add(`deploy.${field}.${key}`, 'is set by shopsys-ci itself (it marks whose environment the namespace is)')
  }

  // The image pull secret is the tool's own (deploy.imagePullSecret); a Secret of the app must not take its name.
  if (PULL_SECRET_NAME in config.deploy.secrets) add(`deploy.secrets.${PULL_SECRET_NAME}`, 'is the name of the image pull secret shopsys-ci makes (deploy.imagePullSecret); choose another name')
  const own = new Set(VARIABLES.map((v) => v.name))
  for (const [name, keys] of Object.entries(config.deploy.secrets)) {
    if (Object.keys(keys).length === 0) add(`deploy.secrets.${name}`, 'has no keys: map each key to the environment variable holding its value, e.g. DATABASE_PASSWORD: APP_DATABASE_PASSWORD')
    // The registry's push credential in every branch's namespace is what the read-only pull pair avoids.
    for (const [key, variable] of Object.entries(keys)) {
      if (own.has(variable)) add(`deploy.secrets.${name}.${key}`, `${variable} is a variable of shopsys-ci itself; give the app's secret a variable of its own (Jenkins: shopsysBuild secretCredentials)`)
    }
  }

  const phaseNames = new Set(config.phases.map((p) => p.name))
  for (const name of config.build.phases ?? []) {
    if (!phaseNames.has(name)) add('build.phases', `no phase named "${name}" (phases: ${[...phaseNames].join(', ') || 'none'})`)
  }
  // Like tagTemplate without tag: template: a setting that does nothing is a mistake to point out.
  if (!config.build.cache.registry && config.build.cache.fallbackBranches.length > 0) add('build.cache.fallbackBranches', 'only used with build.cache.registry: true (it is false)')
  if (Object.keys(config.names.hosts).length === 0) add('names.hosts', 'at least one host is needed')
  return problems
}

function findCycle(images: ImageConfig[]): string[] | undefined {
  const deps = new Map(images.map((i) => [i.name, i.dependsOn]))
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name]
    state.set(name, 'visiting')
    for (const dep of deps.get(name) ?? []) {
      const found = visit(dep, [...trail, name])
      if (found) return found
    }
    state.set(name, 'done')
    return undefined
  }
  for (const name of deps.keys()) {
    const found = visit(name, [])
    if (found) return found
  }
  return undefined
}

/** Line of a dotted key like `images[1].tagTemplate`, for problems found after validation. */
function keyLine(doc: ReturnType<typeof parseDocument>, lines: LineCounter, key: string): number | undefined {
  const pathParts = key.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '').map((p) => (/^\d+$/.test(p) ? Number(p) : p))
  for (let n = pathParts.length; n > 0; n--) {
    const node = doc.getIn(pathParts.slice(0, n), true) as {range?: [number, number, number]} | undefined
    if (node?.range) return lines.linePos(node.range[0]).line
  }
  return undefined
}
