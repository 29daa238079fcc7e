/**
 * Where images go: registry coordinates, repository names, the registry's API endpoint and tags.
 * All pure, so every rule here has a table test (test/unit/images/reference.test.ts).
 */
import {EnvironmentError, type EnvProblem} from '../errors.js'

export interface Registry {
  /** `host` or `host:port`; undefined means Docker Hub. */
  host?: string
  /** The account every repository lives under (DOCKER_USERNAME). */
  namespace: string
}

const HOST = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/
/** A path component of a repository name (distribution's reference grammar). */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/

/** Reads DOCKER_REGISTRY and DOCKER_USERNAME; reports every problem at once (exit 3). */
export function registryFromEnv(env: Readonly<Record<string, string | undefined>>): Registry {
  const problems: EnvProblem[] = []
  const rawHost = (env.DOCKER_REGISTRY ?? '').trim()
  const username = env.DOCKER_USERNAME ?? ''
  let host: string | undefined
  if (rawHost !== '') {
    const problem = checkRegistryHost(rawHost)
    if (problem) problems.push({name: 'DOCKER_REGISTRY', purpose: 'registry the images are pushed to (host or host:port; empty: Docker Hub)', problem})
    else host = rawHost
  }
  if (username === '') {
    problems.push({name: 'DOCKER_USERNAME', purpose: 'registry user; also the first part of every image repository', problem: 'is not set'})
  } else if (!COMPONENT.test(username)) {
    problems.push({
      name: 'DOCKER_USERNAME',
      purpose: 'registry user; also the first part of every image repository',
      problem: `"${username}" cannot be part of a repository name (lower-case letters, digits and single ".", "_" or "-" between them)`,
    })
  }
  if (problems.length > 0) throw new EnvironmentError(problems)
  return {host, namespace: username}
}

/** Why a DOCKER_REGISTRY value is not usable, or undefined if it is. */
export function checkRegistryHost(value: string): string | undefined {
  if (/^[a-z]+:\/\//i.test(value)) return 'must be a host or host:port without a scheme (the scheme is chosen like docker does: http for 127.0.0.0/8, https otherwise)'
  if (value.includes('/')) return 'must be a host or host:port without a path'
  const m = HOST.exec(value)
  if (!m) return 'is not a valid host name or host:port'
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65_535)) return 'has a port outside 1-65535'
  return undefined
}

/** The repository of one image: `<registry>/<user>/<image>`, or `<user>/<image>` on Docker Hub. */
export function repositoryFor(registry: Registry, image: string): string {
  const path = repositoryPath(registry, image)
  return registry.host ? `${registry.host}/${path}` : path
}

/** The repository's name inside its registry (what goes after `/v2/` in the API). */
export function repositoryPath(registry: Registry, image: string): string {
  return `${registry.namespace}/${image}`
}

/** The host name of `host[:port]` without port or IPv6 brackets. */
export function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/**
 * The scheme docker itself uses for a registry: plain HTTP for loopback addresses (the daemon treats
 * 127.0.0.0/8 and ::1 as insecure registries by default; `localhost` resolves there), HTTPS otherwise.
 */
export function registryScheme(host: string): 'http' | 'https' {
  const name = hostname(host).toLowerCase()
  if (name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'http'
  return 'https'
}

/**
 * Base URL of the registry's HTTP API (without `/v2`). For Docker Hub (no host) the caller passes the
 * daemon's own default index (`docker info`), so no registry host is hard-coded here; its token
 * service comes from the WWW-Authenticate challenge.
 */
export function registryApiBase(registry: Pick<Registry, 'host'>, defaultIndex?: string): string {
  if (registry.host) return `${registryScheme(registry.host)}://${registry.host}`
  if (!defaultIndex) throw new Error('Docker Hub needs the daemon\'s default index address (docker info)')
  return new URL(defaultIndex).origin
}

/** How the registry is named in messages. */
export function registryDisplayName(registry: Pick<Registry, 'host'>): string {
  return registry.host ?? 'Docker Hub'
}

/** distribution's limit on a whole repository name, registry host included; docker refuses longer ones. */
export const MAX_REPOSITORY_LENGTH = 255

/** Why `repository` (`[host/]user/image`) cannot be used, or undefined if it can. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    return `is ${repository.length} characters long; a Docker repository name (DOCKER_REGISTRY, DOCKER_USERNAME and the image name together) has at most ${MAX_REPOSITORY_LENGTH}`
  }
  return undefined
}

export const MAX_TAG_LENGTH = 128
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** Why `tag` is not a valid Docker tag, or undefined if it is. */
export function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'is empty'
  if (tag.length > MAX_TAG_LENGTH) return `is ${tag.length} characters long; a Docker tag has at most ${MAX_TAG_LENGTH}`
  if (!TAG.test(tag)) {
    if (/^[.-]/.test(tag)) return 'must not start with "." or "-"'
    const bad = [...new Set(tag.replace(/[A-Za-z0-9_.-]/g, ''))].map((c) => JSON.stringify(c)).join(' ')
    return `contains characters a Docker tag cannot have (${bad}); allowed: letters, digits, "_", "." and "-"`
  }
  return undefined
}
