/**
 * The shape of `.ci/shopsys-ci.yaml` (DESIGN §3): TypeScript types, the schema they are validated
 * against, and the defaults. docs/configuration.md documents every key; keep them in step.
 */
import {DNS_LABEL, NAMESPACE_PREFIX_MAX} from '../names/names.js'
import {any, bool, duration, int, list, map, object, oneOf, scalar, str, type Schema} from './schema.js'

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const QUALIFIED_NAME = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const QUALIFIED_NAME_HINT = 'a label key: [prefix/]name, e.g. pod-security.kubernetes.io/enforce'
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/
/** An object name such as a Secret's (DNS-1123 subdomain). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/
/** A key of a Secret's data. */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export type TagPolicy = 'commit' | 'content' | 'template'

export interface ImageConfig {
  /** Short name; the repository is `<registry>/<user>/<name>`. */
  name: string
  /** Image name the app's manifests use; kustomize `images:` replaces it with the real reference. */
  placeholder: string
  context: string
  dockerfile: string
  target?: string
  buildArgs: Record<string, string>
  tag: TagPolicy
  /** Handlebars template for `tag: template`. */
  tagTemplate?: string
  /** Names of images this one is built FROM (built first). */
  dependsOn: string[]
}

export interface TemplateConfig {
  source: string
  target: string
}

export interface ConfigMapConfig {
  name: string
  /** Files (usually rendered templates) relative to the workspace; the key is the file's base name. */
  files: string[]
  /** kustomize generator behaviour: `replace` or `merge` when the app's own overlay already generates it. */
  behavior: 'create' | 'replace' | 'merge'
}

export interface KustomizeConfig {
  /** The app's own overlay (directory with a kustomization.yaml), relative to the workspace. */
  base: string
  /** Handlebars templates of patches (strategic merge or JSON6902 with `target`), relative to the workspace. */
  patches: Array<{path: string; target?: Record<string, string>}>
  configMaps: ConfigMapConfig[]
  /** `kubectl` (runs `kubectl kustomize`) or a path to a `kustomize` binary. */
  binary: string
  /** Reuse kustomize's output while none of its inputs changed (docs/configuration.md). */
  cache: boolean
}

export interface PhaseConfig {
  name: string
  /** `deployment/<name>`, `statefulset/<name>` or a label selector `app=x,tier=y`. */
  target: string
  container?: string
  command: string[]
  env: Record<string, string>
  workingDir?: string
  timeout: number
  /** Paths inside the container copied to `<workspace>/shopsys-ci/artifacts/<phase>/`. */
  artifacts: string[]
}

export interface DeployConfig {
  timeout: number
  keep: boolean
  ttl: number
  fresh: boolean
  allowClusterScoped: boolean
  /** Deploying in place deletes what an earlier deploy applied and the manifests no longer have. */
  prune: boolean
  /** Secret `shopsys-ci-registry` from the registry credentials, named in the default ServiceAccount. */
  imagePullSecret: boolean
  /**
   * Secrets of the app, made in the namespace at every deploy: Secret name -> key -> the name of the
   * environment variable holding the value (a Jenkins "Secret text" credential). The values go to
   * the API server only.
   */
  secrets: Record<string, Record<string, string>>
  /** Extra labels of the branch's namespace (Pod Security levels, a service mesh's injection, ...). */
  namespaceLabels: Record<string, string>
  namespaceAnnotations: Record<string, string>
  lockTimeout: number
  /** `spec.hard` of a ResourceQuota created in the namespace. */
  resourceQuota?: Record<string, string | number>
  /** `spec.limits` of a LimitRange created in the namespace. */
  limitRange?: unknown[]
}

/** The registry build cache (docs/images.md, *Registry build cache*). */
export interface BuildCacheConfig {
  /** Use, and after a push publish, each image's `<repository>:ci-cache-<branch slug>` as build cache. */
  registry: boolean
  /** Branches whose cache a branch uses until it has its own (e.g. master), in this order after its own. */
  fallbackBranches: string[]
}

export interface CapacityConfig {
  /** 0 = unlimited. */
  maxEnvironments: number
  waitTimeout: number
}

export interface Config {
  project: string
  names: {
    namespacePrefix?: string
    scheme: 'http' | 'https'
    /** Host name templates, in order; the first is the app's main host. */
    hosts: Record<string, string>
  }
  images: ImageConfig[]
  templates: TemplateConfig[]
  kustomize?: KustomizeConfig
  /** Extra values available to templates as `{{values.x}}`. */
  values: Record<string, unknown>
  deploy: DeployConfig
  capacity: CapacityConfig
  phases: PhaseConfig[]
  build: {
    /** Phases `build` runs, in order; default: all. */
    phases?: string[]
    /** Images built at once. */
    parallel: number
    /** `docker build --network` of every image's RUN steps (`host`, `none`, a network's name); default: docker's. */
    network?: string
    cache: BuildCacheConfig
  }
  /** Where generated files go, relative to the workspace. */
  output: string
}

/** The original system's hosts (original-system.md §2). */
export const DEFAULT_HOSTS: Record<string, string> = {
  first: '{{slug}}.{{domain}}',
  second: '2.{{slug}}.{{domain}}',
  adminer: 'adminer.{{slug}}.{{domain}}',
  elasticsearch: 'elasticsearch.{{slug}}.{{domain}}',
  'redis-admin': 'redis-admin.{{slug}}.{{domain}}',
}

const dnsHint = 'lower-case letters, digits and "-", starting and ending with a letter or digit'
const relPath = str({nonEmpty: true})

const image = object({
  name: {schema: str({pattern: /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, patternHint: 'a Docker repository name: lower-case letters, digits, "." "_" "-" and "/"'}), required: true},
  placeholder: str({nonEmpty: true}),
  context: {schema: relPath, default: '.'},
  dockerfile: str({nonEmpty: true}),
  target: str({nonEmpty: true}),
  buildArgs: {schema: map(str(), {keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/, keyHint: 'a build argument name'}), default: {}},
  tag: {schema: str({enum: ['commit', 'content', 'template']}), default: 'commit'},
  tagTemplate: str({nonEmpty: true}),
  dependsOn: {schema: list(str()), default: []},
})

const phase = object({
  name: {schema: str({pattern: DNS_LABEL, patternHint: dnsHint}), required: true},
  target: {schema: str({nonEmpty: true}), required: true},
  container: str({nonEmpty: true}),
  command: {schema: oneOf('a list of arguments, or a string run with sh -c', list(str(), {nonEmpty: true}), str({nonEmpty: true})), required: true},
  env: {schema: map(str(), {keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/, keyHint: 'an environment variable name'}), default: {}},
  workingDir: str({nonEmpty: true}),
  timeout: {schema: duration(), default: 30 * 60_000},
  artifacts: {schema: list(str({nonEmpty: true})), default: []},
})

export const configSchema: Schema = object({
  project: {schema: str({pattern: /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, patternHint: `${dnsHint}, at most 32 characters`}), required: true},
  names: {
    schema: object({
      namespacePrefix: str({pattern: new RegExp(`^([a-z0-9][-a-z0-9]{0,${NAMESPACE_PREFIX_MAX - 1}})?$`), patternHint: `${dnsHint}, at most ${NAMESPACE_PREFIX_MAX} characters`}),
      scheme: {schema: str({enum: ['http', 'https']}), default: 'http'},
      hosts: {schema: map(str({nonEmpty: true}), {keyPattern: /^[A-Za-z][A-Za-z0-9_-]*$/, keyHint: 'a name usable in templates, e.g. first, adminer'}), default: DEFAULT_HOSTS},
    }),
  },
  images: {schema: list(image), default: []},
  templates: {schema: list(object({source: {schema: relPath, required: true}, target: {schema: relPath, required: true}})), default: []},
  kustomize: object({
    base: {schema: relPath, required: true},
    patches: {schema: list(oneOf('a path, or {path, target}', relPath, object({path: {schema: relPath, required: true}, target: map(str())}))), default: []},
    configMaps: {schema: list(object({name: {schema: str({pattern: DNS_LABEL, patternHint: dnsHint}), required: true}, files: {schema: list(relPath, {nonEmpty: true}), required: true}, behavior: {schema: str({enum: ['create', 'replace', 'merge']}), default: 'create'}})), default: []},
    binary: {schema: str({nonEmpty: true}), default: 'kubectl'},
    cache: {schema: bool(), default: true},
  }),
  values: {schema: map(any()), default: {}},
  deploy: {
    schema: object({
      timeout: {schema: duration(), default: 10 * 60_000},
      keep: {schema: bool(), default: false},
      ttl: {schema: duration(), default: 24 * 3_600_000},
      fresh: {schema: bool(), default: false},
      allowClusterScoped: {schema: bool(), default: false},
      prune: {schema: bool(), default: true},
      imagePullSecret: {schema: bool(), default: false},
      secrets: {
        schema: map(map(str({pattern: ENV_NAME, patternHint: 'the name of an environment variable, e.g. APP_DATABASE_PASSWORD'}), {keyPattern: SECRET_KEY, keyHint: 'a Secret key: letters, digits, "-", "_" or "."'}), {
          keyPattern: DNS_SUBDOMAIN,
          keyHint: 'a Secret name: lower-case letters, digits, "-" and ".", at most 253 characters',
        }),
        default: {},
      },
      namespaceLabels: {schema: map(str({pattern: LABEL_VALUE, patternHint: 'at most 63 letters, digits, "-", "_" or "." between letters or digits'}), {keyPattern: QUALIFIED_NAME, keyHint: QUALIFIED_NAME_HINT}), default: {}},
      namespaceAnnotations: {schema: map(str(), {keyPattern: QUALIFIED_NAME, keyHint: QUALIFIED_NAME_HINT}), default: {}},
      lockTimeout: {schema: duration(), default: 15 * 60_000},
      resourceQuota: map(scalar()),
      limitRange: list(any()),
    }),
  },
  capacity: {
    schema: object({
      maxEnvironments: {schema: int({min: 0}), default: 0},
      waitTimeout: {schema: duration(), default: 15 * 60_000},
    }),
  },
  phases: {schema: list(phase), default: []},
  build: {
    schema: object({
      phases: list(str()),
      parallel: {schema: int({min: 1, max: 16}), default: 2},
      network: str({pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, patternHint: 'host, none, default or the name of a Docker network'}),
      cache: {
        schema: object({
          registry: {schema: bool(), default: false},
          // `HEAD` is what a detached checkout calls its branch, never a branch with a cache.
          fallbackBranches: {schema: list(str({pattern: /^(?!HEAD$)[^\s]+$/, patternHint: 'a branch name as Jenkins or git writes it, e.g. master or release/1.2'})), default: []},
        }),
      },
    }),
  },
  output: {schema: relPath, default: '.shopsys-ci'},
})
