/**
 * Connection pooling for client-node: one keep-alive agent per set of TLS credentials, and pooled
 * connections closed when idle.
 */
import type * as K8s from '@kubernetes/client-node'
import type {Socket} from 'node:net'
import tls, {createSecureContext, type SecureContext, type SecureContextOptions} from 'node:tls'

/** The agent options that tell one set of TLS credentials from another. */
const AGENT_KEY_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const

type AgentFactory = (cluster: {server?: string; proxyUrl?: string} | null, options: Record<string, unknown>) => unknown

/**
 * An idle connection is closed after this long. Load balancers in front of managed control planes
 * drop idle connections silently after a few minutes (AWS NLB 350 s, Azure 4 min); a request sent
 * on such a connection hangs until TCP gives up, long after a phase of many minutes has ended.
 */
export const IDLE_CONNECTION_MS = 30_000

/**
 * client-node 1.x builds a new https.Agent for every request (its private `createAgent`), so every
 * call paid a TCP and TLS handshake: 4–6× the request itself on a local API server. This keeps one
 * keep-alive agent per distinct set of TLS credentials, so rotated client certificates still get a
 * new one, and closes connections idle for `idleMs`. Exported for the tests that prove both.
 */
export function reuseConnections(kc: K8s.KubeConfig, {idleMs = IDLE_CONNECTION_MS}: {idleMs?: number} = {}): void {
  reuseTlsOptions(kc)
  const internals = kc as unknown as {createAgent?: AgentFactory}
  const create = internals.createAgent
  if (typeof create !== 'function') return // a client-node without it: slower, still correct
  const agents = new Map<string, unknown>()
  internals.createAgent = (cluster, options) => {
    const key = agentKey(cluster, options)
    let agent = agents.get(key)
    if (!agent) {
      const agentOptions = {...options, keepAlive: true, ...sharedSecureContext(options)}
      agent = create.call(kc, cluster, agentOptions)
      closeIdleConnections(agent as PoolingAgent, idleMs)
      agents.set(key, agent)
      // Straight to an https server (no proxy): HTTP/2 may carry its requests (http2.ts).
      if (cluster?.server?.startsWith('https:') && !cluster.proxyUrl && agent && typeof agent === 'object') {
        tlsTargets.set(agent, {origin: new URL(cluster.server).origin, options: agentOptions as tls.ConnectionOptions})
      }
    }
    return agent
  }
}

/** How long the kubeconfig's certificates, once read and decoded, serve the requests that follow. */
export const TLS_OPTIONS_TTL_MS = 10_000

/**
 * client-node reads and base64-decodes the CA, client certificate and key of the kubeconfig again for
 * every request (`applyHTTPSOptions`): ~0.15 ms each, 8 ms of a build. The same Buffers serve the
 * requests of the next TLS_OPTIONS_TTL_MS, so a certificate file rotated on disk (a mounted
 * Secret) is still picked up. Exported for the tests.
 */
export function reuseTlsOptions(kc: K8s.KubeConfig, {ttlMs = TLS_OPTIONS_TTL_MS, now = Date.now}: {ttlMs?: number; now?: () => number} = {}): void {
  const internals = kc as unknown as {applyHTTPSOptions?: (opts: Record<string, unknown>) => void}
  const apply = internals.applyHTTPSOptions
  if (typeof apply !== 'function') return
  let cached: {at: number; options: Record<string, unknown>} | undefined
  internals.applyHTTPSOptions = (opts) => {
    if (!cached || now() - cached.at >= ttlMs) {
      const options: Record<string, unknown> = {}
      apply.call(kc, options)
      cached = {at: now(), options}
    }
    for (const [name, value] of Object.entries(cached.options)) {
      opts[name] = name === 'headers' ? {...(opts.headers as object | undefined), ...(value as object)} : value
    }
  }
}

/** Where a pooled agent connects, with its TLS options: what an HTTP/2 connection needs (http2.ts). */
export interface TlsTarget {
  origin: string
  options: tls.ConnectionOptions
}

const tlsTargets = new WeakMap<object, TlsTarget>()

/** The server and TLS options of an agent reuseConnections made; undefined for any other agent. */
export function tlsTargetOf(agent: object): TlsTarget | undefined {
  return tlsTargets.get(agent)
}

/**
 * One TLS context for all of an agent's connections. Without it Node builds one per connection
 * from the same options (`tls.connect`: `options.secureContext || tls.createSecureContext(options)`),
 * parsing the CA and the client key each time: 3-4 ms of CPU a connection, and the check stage
 * opens eight at once. Exported for the tests.
 */
export function sharedSecureContext(options: Record<string, unknown>): {secureContext?: SecureContext} {
  if (options.secureContext || !(options.ca || options.cert || options.key || options.pfx)) return {}
  return {secureContext: createSecureContext(options as SecureContextOptions)}
}

/**
 * Which pooled agent a request may use: the server and every TLS credential. client-node decodes
 * the kubeconfig's certificates into new Buffers for every request; they are keyed by content, as
 * base64, because JSON.stringify spells a Buffer out byte by byte (about 0.4 ms a request, 25 ms
 * of a deploy's CPU).
 */
export function agentKey(cluster: {server?: string; proxyUrl?: string} | null, options: Record<string, unknown>): string {
  const part = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(part)
    if (!(value instanceof Uint8Array)) return value
    // The same Buffers come again while reuseTlsOptions keeps them.
    let encoded = encodings.get(value)
    if (encoded === undefined) {
      encoded = `base64:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`
      encodings.set(value, encoded)
    }
    return encoded
  }
  return JSON.stringify([cluster?.server, cluster?.proxyUrl, ...AGENT_KEY_OPTIONS.map((name) => part(options[name]))])
}

const encodings = new WeakMap<Uint8Array, string>()

/** The two hooks of Node's http.Agent used here (its typings declare them as returning void). */
interface PoolingAgent {
  keepSocketAlive(socket: Socket): boolean
  reuseSocket(socket: Socket, request: unknown): void
}

/**
 * Node's agent destroys a pooled socket when the socket times out; the timeout is set only while
 * the socket is pooled and cleared when a request takes it, so a watch or a log stream that is
 * quiet for a long time is never cut.
 */
function closeIdleConnections(agent: PoolingAgent, idleMs: number): void {
  if (typeof agent.keepSocketAlive !== 'function' || typeof agent.reuseSocket !== 'function') return
  const keep = agent.keepSocketAlive.bind(agent)
  const reuse = agent.reuseSocket.bind(agent)
  agent.keepSocketAlive = (socket) => {
    const kept = keep(socket)
    if (kept) socket.setTimeout(idleMs)
    return kept
  }
  agent.reuseSocket = (socket, request) => {
    reuse(socket, request)
    socket.setTimeout(0)
  }
}
