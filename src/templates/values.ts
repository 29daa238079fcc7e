/** The variables every template sees: names, URLs, commit, images and the config's own `values`. */
import type {Names} from '../names/index.js'

export interface ImageValue {
  reference: string
  repository: string
  tag: string
  digest?: string
}

export interface ValueInputs {
  project: string
  names: Names
  domain: string
  hostPort?: string
  commit: string
  images: Record<string, ImageValue>
  values: Record<string, unknown>
}

export function templateValues(input: ValueInputs): Record<string, unknown> {
  return {
    project: input.project,
    branch: input.names.branch,
    slug: input.names.slug,
    namespace: input.names.namespace,
    domain: input.domain,
    hostPort: input.hostPort ?? '',
    commit: input.commit,
    hosts: input.names.hosts,
    urls: input.names.urls,
    images: input.images,
    values: input.values,
  }
}
