/**
 * The one place that loads `@kubernetes/client-node`, lazily: commands that never talk to the
 * cluster never pay for importing it. Connections are pooled (connections.ts) and requests retried
 * after a passing failure (retry.ts).
 *
 * kubeconfig like kubectl: `KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account.
 */
import type * as K8s from '@kubernetes/client-node'

import createDebug from 'debug'
import {accessSync, constants} from 'node:fs'
import {createRequire} from 'node:module'

import {FIELD_MANAGER} from '../conventions.js'
import {EnvironmentError} from '../errors.js'
import {isNotFound} from './api-errors.js'
import {reuseConnections} from './connections.js'
import {explainCredentialFailures} from './credentials.js'
import {type Http2Options, type Http2Stream, Http2Transport} from './http2.js'
import {retrying, withRetries} from './retry.js'

export {apiMessage, elideInvalidValues, isConflict, isNotFound, statusCode} from './api-errors.js'

export type K8sModule = typeof import('./client-lib.js')

export interface Kube {
  k8s: K8sModule
  kc: K8s.KubeConfig
  core: K8s.CoreV1Api
  apps: K8s.AppsV1Api
  authorization: K8s.AuthorizationV1Api
  batch: K8s.BatchV1Api
  coordination: K8s.CoordinationV1Api
  objects: K8s.KubernetesObjectApi
  /** Is this apiVersion/kind namespaced? Undefined when the cluster does not know the kind. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>
  /**
   * Server-side apply of one object (field manager `shopsys-ci`, force, strict field validation).
   * The document is sent as written: KubernetesObjectApi.patch would first pass it through the
   * generated models, which silently drop every field they do not know (typos included).
   */
  serverSideApply(obj: ApplyObject): Promise<ApplyObject>
  /**
   * A collection as the API server's JSON, as a watch delivers its objects, not the client's model
   * classes (see processResponse): by its path (`/apis/apps/v1/namespaces/x/deployments`), or by
   * apiVersion and kind (discovery finds the path).
   */
  listJSON<T = KObjectList>(collection: string | CollectionRef, query?: ListQuery): Promise<T>
  /**
   * A GET whose answer is read as it comes (a log), over the HTTP/2 connection; undefined when
   * there is none (the server offers no HTTP/2, DISABLE_HTTP2): client-node's own way then.
   */
  openStream(path: string, query: Record<string, string>, signal?: AbortSignal): Promise<Http2Stream | undefined>
}

export interface ListQuery {
  fieldSelector?: string
  labelSelector?: string
  /**
   * `'0'`: any state the API server's watch cache holds, answered at once. Without it a list is
   * consistent: since Kubernetes 1.31 the server first waits until the cache has caught up with
   * etcd, which after a write to another resource takes up to ~100 ms (the cache of pods learns of
   * a Lease's write only from etcd's next progress notification).
   */
  resourceVersion?: '0'
}

/** A kind's objects in a namespace. */
export interface CollectionRef {
  apiVersion: string
  kind: string
  namespace: string
}

/** A collection as the API server sends it. */
export interface KObjectList {
  items: Array<Record<string, unknown>>
  metadata?: {resourceVersion?: string}
}

export interface ApplyObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; [key: string]: unknown}
  [key: string]: unknown
}

const debug = createDebug('shopsys-ci:kube')

let cached: Promise<Kube> | undefined

/** The clients for the current kubeconfig; loaded once per process. */
export function getKube(): Promise<Kube> {
  cached ??= load().catch((error: unknown) => {
    cached = undefined
    throw error
  })
  return cached
}

/** Set by the bundler (scripts/bundle.mjs); undefined when running from the sources (tsx, the tests). */
declare const SHOPSYS_CI_BUNDLED: boolean | undefined

/**
 * Loaded lazily: only commands that talk to the cluster pay for it. In the compiled CLI it is a
 * CommonJS file of its own (dist/kube-client.cjs), which bin/run.js's compile cache compiles
 * (util/compile-cache.ts); from the sources it is the package's ~2,600 modules (about half a second).
 */
async function importClientNode(): Promise<K8sModule> {
  if (typeof SHOPSYS_CI_BUNDLED === 'undefined') {
    debug('loading @kubernetes/client-node from node_modules')
    return import('./client-lib.js')
  }
  debug('loading the bundled @kubernetes/client-node')
  return createRequire(import.meta.url)('./kube-client.cjs') as K8sModule
}

async function load(): Promise<Kube> {
  const k8s = await importClientNode()
  const kc = new k8s.KubeConfig()
  reuseConnections(kc)
  explainCredentialFailures(kc)
  try {
    kc.loadFromDefault()
  } catch (error) {
    throw new EnvironmentError([{name: 'KUBECONFIG', purpose: 'access to the Kubernetes cluster', problem: `cannot load the kubeconfig: ${(error as Error).message}`}], {cause: error})
  }
  if (!kc.getCurrentCluster()) {
    throw new EnvironmentError([{name: 'KUBECONFIG', purpose: 'access to the Kubernetes cluster', problem: 'no cluster configured (set KUBECONFIG, or create ~/.kube/config)'}])
  }
  // Files the kubeconfig names are read at the first request, where a missing one was an "unexpected error".
  const unreadable = unreadableKubeconfigFiles(kc)
  if (unreadable.length > 0) throw new EnvironmentError(unreadable.map((problem) => ({name: 'KUBECONFIG', purpose: 'access to the Kubernetes cluster', problem})))
  return clientsFor(k8s, kc)
}

/**
 * The certificate and key files the current context's cluster and user name, that cannot be read:
 * a kubeconfig copied from another machine, or a credential file Jenkins did not put in place.
 */
export function unreadableKubeconfigFiles(kc: Pick<K8s.KubeConfig, 'getCurrentCluster' | 'getCurrentUser' | 'getCurrentContext'>): string[] {
  const cluster = kc.getCurrentCluster()
  const user = kc.getCurrentUser()
  const files: Array<[string | undefined, string]> = [
    [cluster?.caFile, `certificate-authority of cluster ${cluster?.name}`],
    [user?.certFile, `client-certificate of user ${user?.name}`],
    [user?.keyFile, `client-key of user ${user?.name}`],
  ]
  const problems: string[] = []
  for (const [file, what] of files) {
    if (!file) continue
    try {
      accessSync(file, constants.R_OK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      problems.push(`${what} (context ${kc.getCurrentContext()}): ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`)
    }
  }
  return problems
}

/** The type name of an answer the client must not deserialize (ObjectApi.processResponse). */
const RAW_JSON = 'shopsys-ci:raw-json'

/** The clients of one kubeconfig (exported for tests that point one at a faulty proxy). */
export function clientsFor(k8s: K8sModule, kc: K8s.KubeConfig, options: {http2?: Http2Options; env?: NodeJS.ProcessEnv} = {env: process.env}): Kube {
  // KubernetesObjectApi does discovery (cached per apiVersion), URLs and auth; we add a raw apply and raw lists.
  class ObjectApi extends k8s.KubernetesObjectApi {
    async namespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
      return (await this.resource(apiVersion, kind))?.namespaced
    }

    async serverSideApply(obj: ApplyObject): Promise<ApplyObject> {
      const uri = await this.specUriPath(obj as never, 'patch')
      const request = this.configuration.baseServer.makeRequestContext(uri, k8s.HttpMethod.PATCH)
      request.setHeaderParam('Accept', 'application/json')
      request.setHeaderParam('Content-Type', k8s.PatchStrategy.ServerSideApply)
      request.setQueryParam('fieldManager', FIELD_MANAGER)
      request.setQueryParam('force', 'true')
      request.setQueryParam('fieldValidation', 'Strict')
      request.setBody(JSON.stringify(obj))
      return (await this.requestPromise(request, RAW_JSON)) as unknown as ApplyObject
    }

    async listJSON(collection: string | CollectionRef, query: ListQuery = {}): Promise<unknown> {
      const path = typeof collection === 'string' ? collection : await this.specUriPath({apiVersion: collection.apiVersion, kind: collection.kind, metadata: {namespace: collection.namespace}}, 'list')
      const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.GET)
      request.setHeaderParam('Accept', 'application/json')
      for (const [name, value] of Object.entries(query)) if (value !== undefined) request.setQueryParam(name, value)
      return this.requestPromise(request, RAW_JSON)
    }

    /**
     * Answers as plain JSON: the client would turn them into its model classes, walking every
     * field of every object (the profiler's largest item of a deploy in place after the TLS
     * handshakes), for the few fields the tool reads. Errors still become the client's ApiException.
     */
    protected async processResponse<T extends K8s.KubernetesObject>(response: K8s.ResponseContext, type?: string): Promise<T> {
      if (type === RAW_JSON && response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return JSON.parse(await response.body.text()) as T
      return super.processResponse<T>(response, type)
    }
  }
  // Every request over one HTTP/2 connection where the server offers it (http2.ts), like kubectl;
  // DISABLE_HTTP2 switches it off as it does kubectl's.
  const fallback = new k8s.IsomorphicFetchHttpLibrary()
  const transport = options.env?.DISABLE_HTTP2 ? undefined : new Http2Transport(k8s, fallback, options.http2)
  const baseServer = new k8s.ServerConfiguration<Record<string, string>>(kc.getCurrentCluster()?.server ?? '', {})
  const makeApiClient = <T>(Api: new (configuration: K8s.Configuration) => T): T => new Api(k8s.createConfiguration({baseServer, authMethods: {default: kc}, httpApi: transport ?? fallback}))
  const rawObjects = makeApiClient(ObjectApi)
  ;(rawObjects as unknown as {setDefaultNamespace(kc: K8s.KubeConfig): void}).setDefaultNamespace(kc)
  // Every request is retried after a passing failure of the API server (see retry.ts).
  const retry = {onRetry: retryWarning, cluster: {server: kc.getCurrentCluster()?.server, context: kc.getCurrentContext()}}
  const objects = retrying(rawObjects, retry)
  // The client caches an apiVersion's resource list once it has it; lookups sent before that (a
  // deploy asks for every kind at once) would each fetch the same list again.
  const discovering = new Map<string, Promise<unknown>>()
  return {
    k8s,
    kc,
    core: retrying(makeApiClient(k8s.CoreV1Api), retry),
    apps: retrying(makeApiClient(k8s.AppsV1Api), retry),
    authorization: retrying(makeApiClient(k8s.AuthorizationV1Api), retry),
    batch: retrying(makeApiClient(k8s.BatchV1Api), retry),
    coordination: retrying(makeApiClient(k8s.CoordinationV1Api), retry),
    objects,
    async isNamespaced(apiVersion, kind) {
      const first = discovering.get(apiVersion)
      if (first) await first.catch(() => undefined)
      try {
        const lookup = withRetries('isNamespaced', () => rawObjects.namespaced(apiVersion, kind), retry)
        if (!first) discovering.set(apiVersion, lookup)
        return await lookup
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    },
    serverSideApply: (obj) => withRetries('serverSideApply', () => rawObjects.serverSideApply(obj), retry),
    listJSON: (collection, query) => withRetries('listJSON', () => rawObjects.listJSON(collection, query), retry) as never,
    async openStream(path, query, signal) {
      if (!transport) return undefined
      const request = baseServer.makeRequestContext(path, k8s.HttpMethod.GET)
      for (const [name, value] of Object.entries(query)) request.setQueryParam(name, value)
      if (signal) request.setSignal(signal)
      await kc.applySecurityAuthentication(request)
      return transport.open(request)
    },
  }
}

let lastRetryWarning = ''

/**
 * Where retry notices go: a warning line on stderr, like the logger's (stdout may be --json). Requests
 * sent together fail together; their identical notices are printed once.
 */
function retryWarning(message: string): void {
  if (message === lastRetryWarning) return
  lastRetryWarning = message
  process.stderr.write(`WARNING: ${message}\n`)
}

/** Kubernetes MicroTime (RFC 3339 with exactly six fraction digits; the API rejects milliseconds). */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}
