/** Running a command in a container (the `exec` subresource, over a WebSocket), exit code included. */
import {Writable} from 'node:stream'

import {LineSplitter} from '../util/lines.js'
import type {Kube} from './client.js'

export interface ExecOptions {
  namespace: string
  pod: string
  container: string
  command: string[]
  stdout: Writable
  stderr: Writable
  /** ms; the connection is closed at the deadline */
  timeout?: number
  /** ms between pings; 0: none. Default EXEC_PING_MS. */
  pingMs?: number
  signal?: AbortSignal
  /**
   * Interrupted (`signal` aborted) or timed out: ends the command before its connection is closed (a
   * kill exec'd next to it); false when it could not. The connection is then closed once the command
   * has ended, or after `stopGraceMs`.
   */
  stop?: () => Promise<boolean>
  /** ms; default STOP_GRACE_MS */
  stopGraceMs?: number
}

/** How long an interrupted command has to end after `stop` before its connection is closed anyway. */
export const STOP_GRACE_MS = 10_000

/**
 * A load balancer or NAT between the agent and the API server drops connections that carry nothing
 * for a while (Azure's default: 4 minutes), and a phase may print nothing for longer (loading
 * fixtures, a quiet test suite). A WebSocket ping every 30 s keeps the exec's connection busy, as
 * kubectl does. A connection that answers nothing, not even a pong, for two intervals and a bit is
 * dead: it is closed, rather than waiting for the phase's timeout.
 */
export const EXEC_PING_MS = 30_000

export interface ExecOutcome {
  /** The command's exit code; -1 when the API reported no code (see `message`). */
  exitCode: number
  timedOut: boolean
  aborted: boolean
  /** Interrupted or timed out, and the command ended after `stop` (not just its connection closed). */
  stopped?: boolean
  /** The connection went silent (no answer to pings) and was closed. */
  lost: boolean
  /** The API's message when it failed without an exit code. */
  message?: string
}

interface StatusLike {
  status?: string
  reason?: string
  message?: string
  details?: {causes?: Array<{reason?: string; message?: string}>}
}

/** Pure: the exit code in the exec status the API sends on channel 3. */
export function exitCodeOf(status: StatusLike | undefined): {exitCode: number; message?: string} {
  if (!status) return {exitCode: -1, message: 'the connection closed without an exit status'}
  if (status.status === 'Success') return {exitCode: 0}
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')
    const code = Number.parseInt(cause?.message ?? '', 10)
    if (Number.isFinite(code)) return {exitCode: code}
  }
  return {exitCode: -1, message: status.message ?? status.reason ?? 'exec failed'}
}

export async function execInPod(kube: Kube, options: ExecOptions): Promise<ExecOutcome> {
  const exec = new kube.k8s.Exec(kube.kc)
  let status: StatusLike | undefined
  let timedOut = false
  let aborted = false
  let lost = false
  let forced = false
  const ws = await exec.exec(options.namespace, options.pod, options.container, options.command, options.stdout, options.stderr, null, false, (s) => {
    status = s as StatusLike
  })
  await new Promise<void>((resolve) => {
    let grace: NodeJS.Timeout | undefined
    let stopping = false
    const close = () => {
      forced = true
      ws.close()
    }
    /** Ends the command first when the caller can (`stop`), its connection once it has ended. */
    const stopThenClose = () => {
      if (stopping) return
      stopping = true
      if (!options.stop) return close()
      grace = setTimeout(close, options.stopGraceMs ?? STOP_GRACE_MS)
      options.stop().then(
        (stopped) => stopped || close(),
        () => close(),
      )
    }
    const timer = options.timeout ? setTimeout(() => {
      timedOut = true
      stopThenClose()
    }, options.timeout) : undefined
    const pingMs = options.pingMs ?? EXEC_PING_MS
    let heard = Date.now()
    const alive = () => {
      heard = Date.now()
    }
    ws.on('pong', alive)
    ws.on('message', alive)
    const pinger = pingMs > 0 ? setInterval(() => {
      if (Date.now() - heard > 2.5 * pingMs) {
        lost = true
        ws.terminate()
      } else if (ws.readyState === ws.OPEN) ws.ping()
    }, pingMs) : undefined
    const onAbort = () => {
      aborted = true
      stopThenClose()
    }
    if (options.signal?.aborted) onAbort()
    else options.signal?.addEventListener('abort', onAbort, {once: true})
    const done = () => {
      clearTimeout(timer)
      clearTimeout(grace)
      clearInterval(pinger)
      options.signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    ws.on('close', done)
    ws.on('error', (error: Error) => {
      status ??= {status: 'Failure', message: error.message}
      done()
    })
  })
  // The streams are ended by the client on the status message; make sure they are when it never came.
  for (const stream of [options.stdout, options.stderr]) if (!stream.writableEnded) stream.end()
  await Promise.all([options.stdout, options.stderr].map((s) => (s.writableFinished ? undefined : new Promise((r) => s.once('finish', r)))))
  if (aborted) return {exitCode: -1, timedOut, aborted, stopped: !forced, lost: false, message: 'aborted'}
  if (timedOut) return {exitCode: -1, timedOut, aborted, stopped: !forced, lost: false, message: 'timed out'}
  if (lost) return {exitCode: -1, timedOut, aborted, lost, message: 'the connection went silent (no answer to pings) and was closed'}
  return {...exitCodeOf(status), timedOut, aborted, lost}
}

/** A Writable that calls `onLine` for each complete line (and the last partial one at the end). */
export class LineWriter extends Writable {
  private readonly lines: LineSplitter
  constructor(onLine: (line: string) => void) {
    super()
    this.lines = new LineSplitter(onLine)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(chunk)
    callback()
  }

  override _final(callback: () => void): void {
    this.lines.end()
    callback()
  }
}

/** A Writable that keeps everything written to it (bounded), for stderr of helper commands. */
export class BufferWriter extends Writable {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly limit = 64 * 1024) {
    super()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.size < this.limit) {
      this.chunks.push(chunk)
      this.size += chunk.length
    }
    callback()
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }
}
