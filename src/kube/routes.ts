/**
 * Pure: which of the environment's URLs nothing in the manifests routes to. The build prints every
 * URL; an Ingress whose host patch did not apply (the original's `sed` failed exactly like this)
 * serves a placeholder host instead, and the printed URL leads nowhere, silently.
 */
import type {ManifestObject} from './manifests.js'

export interface UnroutedUrl {
  name: string
  url: string
  host: string
}

/** The hosts an Ingress (`rules[].host`) or a Gateway API HTTPRoute (`spec.hostnames`) serves. */
export function routedHosts(objects: ManifestObject[]): string[] {
  const hosts: string[] = []
  for (const o of objects) {
    if (o.kind === 'Ingress') {
      for (const rule of (o.spec?.rules ?? []) as Array<{host?: string}>) if (rule.host) hosts.push(rule.host)
    } else if (o.kind === 'HTTPRoute') {
      hosts.push(...((o.spec?.hostnames ?? []) as string[]))
    }
  }
  return hosts
}

/** A route host matches exactly, or as `*.rest` for one more label in front of `rest`. */
function serves(routeHost: string, host: string): boolean {
  if (routeHost === host) return true
  return routeHost.startsWith('*.') && host.endsWith(routeHost.slice(1)) && !host.slice(0, -routeHost.length + 1).includes('.')
}

/**
 * The URLs whose host no route serves. None when the manifests have no route at all: the app is
 * then reached some other way, and every URL would be noise.
 */
export function unroutedUrls(objects: ManifestObject[], urls: Record<string, string>): UnroutedUrl[] {
  const routes = routedHosts(objects)
  if (routes.length === 0) return []
  return Object.entries(urls)
    .map(([name, url]) => ({name, url, host: new URL(url).hostname}))
    .filter((u) => !routes.some((r) => serves(r.toLowerCase(), u.host.toLowerCase())))
}
