/**
 * Proxies in front of the real API server, for what sits between a CI agent and a cluster in real
 * life: an API server restarting (resets), a load balancer that lost its state (frozen
 * connections) or drops idle ones, a corporate HTTP proxy. Each returns a kubeconfig that goes
 * through it.
 */
import {writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'

import * as k8s from '@kubernetes/client-node'

import {clientsFor, type Kube} from '../../src/kube/client.js'
import {reuseConnections} from '../../src/kube/connections.js'
import {tempDir} from './tmp.js'

interface Teardown {
  teardown(fn: () => void): void
}

/** Listens on 127.0.0.1; `onClient` gets each client socket and a way to reach the API server. */
async function proxy(t: Teardown, onClient: (client: net.Socket, connect: () => net.Socket) => void): Promise<string> {
  const real = new k8s.KubeConfig()
  real.loadFromDefault()
  const target = new URL(real.getCurrentCluster()!.server)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    onClient(client, () => {
      const upstream = net.connect(Number(target.port || 443), target.hostname)
      sockets.add(upstream)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
      return upstream
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.close()
    for (const socket of sockets) socket.destroy()
  })
  const port = (server.address() as net.AddressInfo).port
  const config = JSON.parse(real.exportConfig()) as {clusters: Array<{cluster: {server: string}}>}
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${port}`
  const kubeconfig = path.join(tempDir('shopsys-ci-proxy-'), 'config')
  writeFileSync(kubeconfig, JSON.stringify(config))
  return kubeconfig
}

/**
 * An HTTP proxy as a corporate network has one (CONNECT host:port, then a tunnel), named by the
 * kubeconfig's `proxy-url`; `tunnels` lists the CONNECT targets asked for.
 */
export async function connectProxy(t: Teardown): Promise<{kubeconfig: string; server: string; tunnels: string[]}> {
  const tunnels: string[] = []
  const proxy = http.createServer((_request, response) => response.writeHead(405).end())
  proxy.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    const [host, port] = (request.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => proxy.close())
  const real = new k8s.KubeConfig()
  real.loadFromDefault()
  const config = JSON.parse(real.exportConfig()) as {clusters: Array<{cluster: Record<string, unknown>}>}
  for (const c of config.clusters) c.cluster['proxy-url'] = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`
  const kubeconfig = path.join(tempDir('shopsys-ci-proxy-url-'), 'config')
  writeFileSync(kubeconfig, JSON.stringify(config))
  return {kubeconfig, server: real.getCurrentCluster()!.server, tunnels}
}

/** Resets the next `n` connections at once (what a client sees while the API server restarts). */
export async function resettingProxy(t: Teardown): Promise<{kubeconfig: string; resetNext(n: number): void; resetsDone(): number}> {
  let resets = 0
  let done = 0
  const kubeconfig = await proxy(t, (client, connect) => {
    if (resets > 0) {
      resets--
      done++
      client.resetAndDestroy()
      return
    }
    const upstream = connect()
    client.pipe(upstream).pipe(client)
  })
  return {kubeconfig, resetNext: (n) => (resets = n), resetsDone: () => done}
}

/**
 * `freeze()` makes every connection open at that moment go silent without closing (a load
 * balancer that dropped its state); later ones pass. `hold()` freezes those, and every later one
 * too (accepted, never passed on): an API server that stopped answering altogether.
 */
export async function freezingProxy(t: Teardown): Promise<{kubeconfig: string; freeze(): void; hold(): void}> {
  const open = new Set<() => void>()
  let holding = false
  const kubeconfig = await proxy(t, (client, connect) => {
    if (holding) {
      client.pause()
      return
    }
    const upstream = connect()
    client.pipe(upstream).pipe(client)
    open.add(() => {
      client.unpipe(upstream)
      upstream.unpipe(client)
      client.pause()
      upstream.pause()
    })
  })
  const freeze = () => {
    for (const f of open) f()
    open.clear()
  }
  return {
    kubeconfig,
    freeze,
    hold: () => {
      holding = true
      freeze()
    },
  }
}

/** Resets a connection that carried nothing either way for `idleMs` (a load balancer's idle timeout). */
export async function idleDroppingProxy(t: Teardown, idleMs: number): Promise<{kubeconfig: string; dropped(): number}> {
  let dropped = 0
  const kubeconfig = await proxy(t, (client, connect) => {
    const upstream = connect()
    let timer: NodeJS.Timeout | undefined
    const busy = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        dropped++
        client.resetAndDestroy()
        upstream.destroy()
      }, idleMs)
    }
    busy()
    client.on('data', busy)
    upstream.on('data', busy)
    client.on('close', () => clearTimeout(timer))
    client.pipe(upstream).pipe(client)
  })
  return {kubeconfig, dropped: () => dropped}
}

/** Our clients (connection reuse, retries) for a kubeconfig file. */
export function clientsThrough(kubeconfig: string): Kube {
  const kc = new k8s.KubeConfig()
  reuseConnections(kc)
  kc.loadFromFile(kubeconfig)
  return clientsFor(k8s, kc)
}
