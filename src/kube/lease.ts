/**
 * Locks on `Lease` objects (coordination.k8s.io/v1), the way Kubernetes' own leader election does:
 * create, or take over an expired lease by replacing it at the resourceVersion we read (the API
 * server refuses a stale write with 409, so two contenders can never both win).
 */
import {hostname} from 'node:os'
import {randomBytes} from 'node:crypto'

import type {Logger} from '../util/log.js'
import {formatDuration} from '../util/duration.js'
import {sleep} from '../util/sleep.js'
import {type Kube, isConflict, isNotFound, microTime} from './client.js'
import {toMillis} from './metadata.js'

export interface LeaseLike {
  metadata?: {name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>}
  spec?: {holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: Date | string; renewTime?: Date | string}
}

export interface LeaseInfo {
  holder?: string
  durationSeconds?: number
  /** ms since epoch */
  renewTime?: number
}

export function leaseInfo(lease: LeaseLike | undefined): LeaseInfo {
  return {
    holder: lease?.spec?.holderIdentity || undefined,
    durationSeconds: lease?.spec?.leaseDurationSeconds,
    renewTime: toMillis(lease?.spec?.renewTime) ?? toMillis(lease?.spec?.acquireTime),
  }
}

/** Is the lease held by someone at `now`? A lease without a duration is held until released. */
export function leaseHeld(lease: LeaseLike | undefined, now: number): boolean {
  const info = leaseInfo(lease)
  if (!info.holder) return false
  if (!info.durationSeconds) return true
  return (info.renewTime ?? 0) + info.durationSeconds * 1000 > now
}

/** A holder identity unique to this process: `<owner> (pid 123 on host, 9f2c1a)`. */
export function processHolderIdentity(owner: string): string {
  return `${owner} (pid ${process.pid} on ${hostname()}, ${randomBytes(3).toString('hex')})`
}

export interface LeaseRef {
  namespace: string
  name: string
  labels?: Record<string, string>
}

function leaseBody(ref: LeaseRef, holder: string, durationSeconds: number | undefined, resourceVersion?: string, acquiredAt?: Date | string): LeaseLike & {apiVersion: string; kind: string} {
  const now = microTime()
  const acquireTime = acquiredAt === undefined ? now : acquiredAt instanceof Date ? microTime(acquiredAt) : acquiredAt
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {name: ref.name, namespace: ref.namespace, labels: ref.labels, ...(resourceVersion ? {resourceVersion} : {})},
    spec: {
      holderIdentity: holder,
      ...(durationSeconds ? {leaseDurationSeconds: durationSeconds} : {}),
      acquireTime,
      renewTime: now,
    },
  }
}

export async function readLease(kube: Kube, ref: {namespace: string; name: string}): Promise<LeaseLike | undefined> {
  try {
    return (await kube.coordination.readNamespacedLease({name: ref.name, namespace: ref.namespace})) as LeaseLike
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

export type TryAcquire = {acquired: true; lease: LeaseLike} | {acquired: false; lease?: LeaseLike; conflict?: boolean}

/**
 * Creates `ref` for `holder` if it does not exist: the usual case of a lock, released by the build
 * before, in one request instead of a read and a create. Undefined when it exists (409).
 */
export async function tryCreateLease(kube: Kube, ref: LeaseRef, holder: string, durationSeconds: number | undefined): Promise<LeaseLike | undefined> {
  try {
    return (await kube.coordination.createNamespacedLease({namespace: ref.namespace, body: leaseBody(ref, holder, durationSeconds) as never})) as LeaseLike
  } catch (error) {
    if (isConflict(error)) return undefined
    throw error
  }
}

/**
 * One attempt to take `ref` for `holder`: succeeds when the lease is absent, free (`isFree`) or already
 * ours. `conflict` means someone wrote in between: try again at once.
 */
export async function tryAcquireLease(
  kube: Kube,
  ref: LeaseRef,
  holder: string,
  durationSeconds: number | undefined,
  isFree: (lease: LeaseLike) => boolean | Promise<boolean> = (lease) => !leaseHeld(lease, Date.now()),
): Promise<TryAcquire> {
  const current = await readLease(kube, ref)
  try {
    if (!current) {
      const lease = await tryCreateLease(kube, ref, holder, durationSeconds)
      return lease ? {acquired: true, lease} : {acquired: false, conflict: true}
    }
    const mine = current.spec?.holderIdentity === holder
    if (!mine && !(await isFree(current))) return {acquired: false, lease: current}
    const lease = (await kube.coordination.replaceNamespacedLease({
      name: ref.name,
      namespace: ref.namespace,
      body: leaseBody(ref, holder, durationSeconds, current.metadata?.resourceVersion, mine ? current.spec?.acquireTime : undefined) as never,
    })) as LeaseLike
    return {acquired: true, lease}
  } catch (error) {
    if (isConflict(error)) return {acquired: false, lease: current, conflict: true}
    throw error
  }
}

/**
 * Deletes the lease if it is still ours (a precondition on the resourceVersion we last wrote).
 * With `written`, the version of our own last write, that is tried first without reading the lease.
 */
export async function releaseLease(kube: Kube, ref: {namespace: string; name: string}, holder: string, written?: string): Promise<void> {
  if (written) {
    try {
      await kube.coordination.deleteNamespacedLease({name: ref.name, namespace: ref.namespace, body: {preconditions: {resourceVersion: written}}})
      return
    } catch (error) {
      if (isNotFound(error)) return
      // Written since (a renewal whose answer was lost, or another holder): read it and decide.
      if (!isConflict(error)) throw error
    }
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await readLease(kube, ref)
    if (!current || current.spec?.holderIdentity !== holder) return
    try {
      await kube.coordination.deleteNamespacedLease({
        name: ref.name,
        namespace: ref.namespace,
        body: {preconditions: {resourceVersion: current.metadata?.resourceVersion}},
      })
      return
    } catch (error) {
      if (isNotFound(error)) return
      if (!isConflict(error)) throw error
    }
  }
}

export interface WaitOptions {
  /** ms since epoch */
  deadline: number
  signal?: AbortSignal
  logger: Logger
  /** What we wait for, e.g. `the lock of branch feature-x`. */
  what: string
  /** Thrown at the deadline. */
  onTimeout: (lastHolder: string | undefined) => Error
  /** Poll interval, ms. */
  interval?: number
}

/** Retries `attempt` until it acquires, logging who holds it, until the deadline. */
export async function waitForLease(attempt: () => Promise<TryAcquire>, options: WaitOptions): Promise<LeaseLike> {
  const started = Date.now()
  let lastHolder: string | undefined
  let lastLog = 0
  for (;;) {
    const result = await attempt()
    if (result.acquired) {
      if (lastLog) options.logger.info(`got ${options.what} after ${formatDuration(Date.now() - started)}`)
      return result.lease
    }
    if (result.conflict) continue
    lastHolder = result.lease?.spec?.holderIdentity
    const now = Date.now()
    if (now >= options.deadline) throw options.onTimeout(lastHolder)
    if (now - lastLog > 30_000) {
      options.logger.info(`waiting for ${options.what} (held by ${lastHolder ?? 'someone'}; giving up in ${formatDuration(options.deadline - now)})`)
      lastLog = now
    }
    await sleep(Math.min(options.interval ?? 1000, Math.max(0, options.deadline - now)), options.signal)
  }
}

/**
 * A held lock that renews itself in the background until released. If the renewal finds the lease
 * taken by someone else (we were stalled longer than its duration), `lost` becomes true.
 */
export class HeldLease {
  lost = false
  private timer?: NodeJS.Timeout
  /** The resourceVersion of our last write of the lease (acquire or renewal). */
  private written?: string

  constructor(
    private readonly kube: Kube,
    readonly ref: LeaseRef,
    readonly holder: string,
    private readonly durationSeconds: number,
    private readonly logger: Logger,
    acquired?: LeaseLike,
  ) {
    this.written = acquired?.metadata?.resourceVersion
  }

  startRenewing(): this {
    this.timer = setInterval(() => void this.renew(), Math.max(1000, (this.durationSeconds * 1000) / 3))
    this.timer.unref()
    return this
  }

  async renew(): Promise<void> {
    try {
      const result = await tryAcquireLease(this.kube, this.ref, this.holder, this.durationSeconds, () => false)
      if (result.acquired) this.written = result.lease?.metadata?.resourceVersion
      if (!result.acquired && !result.conflict) {
        this.lost = true
        this.logger.warn(`lost the lease ${this.ref.namespace}/${this.ref.name} to ${result.lease?.spec?.holderIdentity ?? 'someone else'}`)
      }
    } catch (error) {
      this.logger.debug(`renewing lease ${this.ref.name} failed: ${(error as Error).message}`)
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await releaseLease(this.kube, this.ref, this.holder, this.written)
  }
}
