/**
 * Branch → slug → namespace, hosts and URLs (DESIGN §4). Pure: no I/O.
 *
 * Limits: namespace ≤ 63 (DNS-1123 label), every host label ≤ 63, whole host ≤ 253. The slug is cut
 * so that it fits *everywhere* it is used: in the namespace after the prefix, and in every host label
 * and host it is rendered into (e.g. `adminer-{{slug}}.{{domain}}`). So a config that works for one
 * branch works for all; if not even the shortest slug fits, that is an error whatever the branch.
 * Names given explicitly (`--namespace`) and the parts of hosts that are not the slug are validated,
 * never cut or rewritten.
 */
import {createRequire} from 'node:module'

import {UsageError} from '../errors.js'
import {DNS_LABEL_MAX, MIN_SLUG_LENGTH, slugify} from './slug.js'

export interface NameInputs {
  branch: string
  /** The config's `project` (a DNS label). */
  project: string
  /** Put in front of the slug to make the namespace; default `${project}-`. Used literally. */
  namespacePrefix?: string
  /** `DEVELOPMENT_SERVER_DOMAIN`. */
  domain: string
  /** `NGINX_INGRESS_CONTROLLER_HOST_PORT`; shown in URLs unless it is the scheme's default. `''` = unset. */
  hostPort?: string | number
  scheme: 'http' | 'https'
  /** Handlebars templates: `{{slug}}` `{{domain}}` `{{project}}` `{{branch}}`. The first is the main host. */
  hosts: Record<string, string>
  /** Explicit `--namespace`: validated, never rewritten. */
  namespace?: string
}

export interface Names {
  branch: string
  slug: string
  namespace: string
  hosts: Record<string, string>
  urls: Record<string, string>
}

export const DNS_NAME_MAX = 253

/** A DNS-1123 label's characters (the 63-character limit is checked apart). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const LABEL_RULE = 'lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters'

/** Stands in for the slug when measuring how much room each host leaves it (private-use character). */
const SLUG_PROBE = '\uE000'

export function computeNames(inputs: NameInputs): Names {
  const branch = inputs.branch.trim()
  if (branch === '') throw new UsageError('the branch name is empty', {suggestions: ['set BRANCH_NAME or pass --branch <name>']})

  const domainProblem = validateDomain(inputs.domain)
  if (domainProblem) {
    throw new UsageError(`invalid domain ${JSON.stringify(inputs.domain)} (DEVELOPMENT_SERVER_DOMAIN): ${domainProblem}`)
  }
  const domain = inputs.domain.toLowerCase()
  const port = inputs.hostPort === undefined || inputs.hostPort === '' ? undefined : parsePort(inputs.hostPort)

  const prefix = inputs.namespacePrefix ?? `${inputs.project}-`
  checkPrefix(prefix)

  const templates = compileHosts(inputs.hosts)
  const context = {domain, project: inputs.project, branch}
  // Cut for the derived namespace even when --namespace is given: the slug (labels, hosts) must not
  // change with that flag.
  const slug = slugify(branch, slugRoom(prefix, templates, context))

  const namespace = inputs.namespace ?? prefix + slug
  validateNamespace(namespace)

  const hosts: Record<string, string> = {}
  const urls: Record<string, string> = {}
  for (const [key, template] of Object.entries(templates)) {
    const host = render(key, template, {...context, slug}).toLowerCase()
    const problem = validateHost(host)
    if (problem) throw hostError(key, inputs.hosts[key], host, problem, domain)
    hosts[key] = host
    urls[key] = urlFor(inputs.scheme, host, port)
  }
  return {branch, slug, namespace, hosts, urls}
}

/** Throws a UsageError unless `name` is a valid namespace for this tool to create and delete. */
export function validateNamespace(name: string): void {
  if (name.length > DNS_LABEL_MAX || !DNS_LABEL.test(name)) {
    const length = name.length > DNS_LABEL_MAX ? ` (it has ${name.length})` : ''
    throw new UsageError(`invalid namespace ${JSON.stringify(name)}: a namespace is a DNS-1123 label: ${LABEL_RULE}${length}`, {
      suggestions: ['pass a valid --namespace, or leave it out to derive one from the branch'],
    })
  }
  // Same guard as cleanup/gc (DESIGN §5): these are never ours to create, fill or delete.
  if (name === 'default' || name.startsWith('kube-')) {
    throw new UsageError(`namespace ${JSON.stringify(name)} is reserved by Kubernetes; shopsys-ci only uses namespaces of its own`, {
      suggestions: ['give names.namespacePrefix a value (e.g. the project\'s name), so that no branch slug can name such a namespace; or pass another --namespace'],
    })
  }
}

/** What is wrong with `host` as an Ingress host name (lower-case DNS-1123 subdomain), or undefined. */
export function validateHost(host: string): string | undefined {
  return dnsNameProblem(host, false)
}

/** What is wrong with `DEVELOPMENT_SERVER_DOMAIN` (a DNS name; any letter case), or undefined. */
export function validateDomain(domain: string): string | undefined {
  // The usual slips get their fix named; "its label "http://ci" is not valid" says neither.
  if (domain.trim() !== domain) return 'has blanks around it'
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(domain)) return 'must be a domain without a scheme, e.g. ci.example.com (names.scheme sets the URLs\' scheme)'
  if (/^[^/]*:\d*$/.test(domain)) return 'must be a domain without a port (the port goes into NGINX_INGRESS_CONTROLLER_HOST_PORT)'
  return dnsNameProblem(domain, true)
}

/** What is wrong with a port (e.g. `NGINX_INGRESS_CONTROLLER_HOST_PORT`), or undefined. */
export function validatePort(port: string | number): string | undefined {
  const text = String(port).trim()
  if (!/^\d+$/.test(text)) return `${JSON.stringify(String(port))} is not a port number (1-65535)`
  const n = Number(text)
  return n >= 1 && n <= 65535 ? undefined : `${n} is out of range for a port (1-65535)`
}

export function parsePort(port: string | number): number {
  const problem = validatePort(port)
  if (problem) throw new UsageError(`invalid host port (NGINX_INGRESS_CONTROLLER_HOST_PORT): ${problem}`)
  return Number(String(port).trim())
}

/** `scheme://host[:port]`, leaving out the scheme's default port (80 for http, 443 for https). */
export function urlFor(scheme: 'http' | 'https', host: string, port?: string | number): string {
  if (port === undefined || port === '') return `${scheme}://${host}`
  const n = parsePort(port)
  const isDefault = (scheme === 'http' && n === 80) || (scheme === 'https' && n === 443)
  return isDefault ? `${scheme}://${host}` : `${scheme}://${host}:${n}`
}

function dnsNameProblem(name: string, anyCase: boolean): string | undefined {
  if (name === '') return 'it is empty'
  if (name.endsWith('.')) return 'it ends with "." (leave out the trailing dot)'
  if (name.length > DNS_NAME_MAX) return `it is ${name.length} characters long; a DNS name may have at most ${DNS_NAME_MAX}`
  const text = anyCase ? name.toLowerCase() : name
  for (const label of text.split('.')) {
    if (label === '') return 'it has an empty label (".." or a leading ".")'
    if (label.length > DNS_LABEL_MAX) return `its label "${label}" is ${label.length} characters long; a DNS label may have at most ${DNS_LABEL_MAX}`
    if (!DNS_LABEL.test(label)) return `its label ${JSON.stringify(label)} is not valid: ${LABEL_RULE}`
  }
  return undefined
}

/** The longest `names.namespacePrefix`: it must leave room for the branch slug in a 63-character namespace. */
export const NAMESPACE_PREFIX_MAX = DNS_LABEL_MAX - MIN_SLUG_LENGTH

function checkPrefix(prefix: string): void {
  const maxPrefix = NAMESPACE_PREFIX_MAX
  if (prefix !== '' && !/^[a-z0-9][-a-z0-9]*$/.test(prefix)) {
    throw new UsageError(`invalid namespace prefix ${JSON.stringify(prefix)} (names.namespacePrefix): lower-case letters, digits and "-", starting with a letter or digit`)
  }
  if (prefix.length > maxPrefix) {
    throw new UsageError(`namespace prefix ${JSON.stringify(prefix)} (names.namespacePrefix) is ${prefix.length} characters long; at most ${maxPrefix} leave room for the branch slug in a 63-character namespace`)
  }
}

type Template = (context: Record<string, string>) => string

/** `{{name}}` placeholders only: the common host template, rendered without loading Handlebars. */
const PLAIN_PLACEHOLDERS = /^(?:[^{}]|\{\{\s*[A-Za-z_]\w*\s*\}\})*$/

/**
 * A template of plain `{{name}}` placeholders as a function; strict like Handlebars' strict mode (an
 * unknown name throws). Keeps Handlebars (~70 ms to load) off the start-up path of `names`.
 */
function plainTemplate(source: string): Template {
  return (context) =>
    source.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_match, name: string) => {
      if (!Object.hasOwn(context, name)) throw new Error(`"${name}" not defined`)
      return context[name]
    })
}

function compileHosts(hosts: Record<string, string>): Record<string, Template> {
  const compiled: Record<string, Template> = {}
  let hb: typeof import('handlebars') | undefined
  for (const [key, source] of Object.entries(hosts)) {
    try {
      if (PLAIN_PLACEHOLDERS.test(source)) {
        compiled[key] = plainTemplate(source)
        continue
      }
      // An isolated Handlebars environment: helpers registered elsewhere cannot change host names.
      hb ??= (createRequire(import.meta.url)('handlebars') as typeof import('handlebars')).create()
      compiled[key] = hb.compile(source, {strict: true, noEscape: true})
    } catch (error) {
      throw templateError(key, source, error)
    }
  }
  return compiled
}

function render(key: string, template: Template, context: Record<string, string>): string {
  try {
    return template(context)
  } catch (error) {
    throw templateError(key, '', error)
  }
}

function templateError(key: string, source: string, error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error)
  // A Handlebars parse error's first line is only "Parse error on line 1:"; the caret and what was expected follow it.
  const reason = message.startsWith('Parse error') ? message : message.split('\n')[0]
  const shown = source ? ` ${JSON.stringify(source)}` : ''
  return new UsageError(`names.hosts.${key}: template${shown} cannot be rendered: ${reason}`, {
    suggestions: ['host templates may use {{slug}}, {{domain}}, {{project}} and {{branch}}'],
    cause: error,
  })
}

/**
 * The longest slug that fits the namespace after `prefix` and every host label and host that
 * contains it. Measured by rendering each host with a one-character probe in place of the slug.
 */
function slugRoom(prefix: string, templates: Record<string, Template>, context: Record<string, string>): number {
  let room = Math.min(DNS_LABEL_MAX, DNS_LABEL_MAX - prefix.length)
  for (const [key, template] of Object.entries(templates)) {
    const probed = render(key, template, {...context, slug: SLUG_PROBE})
    const uses = countProbe(probed)
    if (uses === 0) continue
    let hostRoom = Math.floor((DNS_NAME_MAX - (probed.length - uses)) / uses)
    let limit = `the ${DNS_NAME_MAX}-character limit of a host name (the domain is ${context.domain.length} characters)`
    for (const label of probed.split('.')) {
      const n = countProbe(label)
      if (n === 0) continue
      const labelRoom = Math.floor((DNS_LABEL_MAX - (label.length - n)) / n)
      if (labelRoom < hostRoom) {
        hostRoom = labelRoom
        limit = `the ${DNS_LABEL_MAX}-character limit of its label ${JSON.stringify(label.replaceAll(SLUG_PROBE, '{{slug}}'))}`
      }
    }
    if (hostRoom < MIN_SLUG_LENGTH) {
      throw new UsageError(
        `names.hosts.${key}: ${JSON.stringify(probed.replaceAll(SLUG_PROBE, '{{slug}}'))} leaves room for ${Math.max(hostRoom, 0)} characters of the branch slug under ${limit}; at least ${MIN_SLUG_LENGTH} are needed`,
        {suggestions: ['use a shorter domain (DEVELOPMENT_SERVER_DOMAIN) or a shorter host template']},
      )
    }
    room = Math.min(room, hostRoom)
  }
  return room
}

function countProbe(text: string): number {
  return text.split(SLUG_PROBE).length - 1
}

function hostError(key: string, template: string, host: string, problem: string, domain: string): UsageError {
  const tooLong = host.length > DNS_NAME_MAX
  return new UsageError(`names.hosts.${key}: host ${JSON.stringify(host)} (from ${JSON.stringify(template)}) is not a valid host name: ${problem}`, {
    suggestions: tooLong
      ? [`the domain ${JSON.stringify(domain)} is ${domain.length} characters; use a shorter DEVELOPMENT_SERVER_DOMAIN or host template`]
      : ['host templates should combine {{slug}} and {{domain}} with fixed DNS labels, e.g. adminer.{{slug}}.{{domain}}'],
  })
}
