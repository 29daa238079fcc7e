/**
 * List-then-watch of one resource in one namespace, kept in a local map (a small informer): the
 * rollout waiter and namespace waits react to events instead of polling on a timer.
 * Reconnects from the last resourceVersion when the server closes the watch, relists on 410 Gone,
 * and reconnects when a watch has been silent for too long (see WATCH_SILENCE_MS).
 */
import {sleep} from '../util/sleep.js'
import {type Kube, statusCode} from './client.js'
import type {KObject} from './workload-status.js'

/**
 * A watch that has sent nothing, not even a bookmark (the API server sends one about every minute to
 * watches that ask for them), for this long is presumed dead and reopened from its last
 * resourceVersion: a connection dropped silently by a load balancer or NAT would otherwise leave a
 * rollout wait blind until its deadline.
 */
export const WATCH_SILENCE_MS = 3 * 60_000

export interface ListResult {
  items: KObject[]
  metadata?: {resourceVersion?: string}
}

export interface WatcherOptions {
  kind: string
  /** Collection path, e.g. `/apis/apps/v1/namespaces/x/deployments`. */
  path: string
  list: () => Promise<ListResult>
  labelSelector?: string
  fieldSelector?: string
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNC', obj?: KObject) => void
  onError?: (error: unknown) => void
  /** Reopen a watch silent for this long (default WATCH_SILENCE_MS). */
  silenceMs?: number
}

export class ListWatcher {
  readonly objects = new Map<string, KObject>()
  private resourceVersion = ''
  private controller?: AbortController
  private stopped = false

  constructor(
    private readonly kube: Kube,
    private readonly options: WatcherOptions,
  ) {}

  get items(): KObject[] {
    return [...this.objects.values()]
  }

  /** Lists (the initial state is in `objects` when this resolves), then watches in the background. */
  async start(): Promise<void> {
    await this.list()
    this.watch()
  }

  /** The initial state, without watching yet: a caller whose answer is already in it never opens the watch. */
  async list(): Promise<void> {
    await this.relist()
  }

  /** Watches in the background from the list's resourceVersion, so nothing since the list is missed. */
  watch(): void {
    if (!this.stopped) void this.loop()
  }

  stop(): void {
    this.stopped = true
    this.controller?.abort()
  }

  private key(obj: KObject): string {
    return obj.metadata?.uid ?? `${obj.metadata?.namespace}/${obj.metadata?.name}`
  }

  private async relist(): Promise<void> {
    const list = await this.options.list()
    this.objects.clear()
    for (const item of list.items) this.objects.set(this.key(item), {...item, kind: this.options.kind})
    this.resourceVersion = list.metadata?.resourceVersion ?? ''
    this.options.onChange('SYNC')
  }

  private async loop(): Promise<void> {
    let failures = 0
    while (!this.stopped) {
      const outcome = await this.watchOnce()
      if (this.stopped) return
      if (outcome === 'gone') {
        try {
          await this.relist()
          failures = 0
        } catch (error) {
          failures++
          this.options.onError?.(error)
        }
      } else if (outcome === 'error') failures++
      else failures = 0
      if (failures > 0) await sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5))).catch(() => undefined)
    }
  }

  private watchOnce(): Promise<'closed' | 'gone' | 'error'> {
    return new Promise((resolve) => {
      const watch = new this.kube.k8s.Watch(this.kube.kc)
      const query: Record<string, string | boolean> = {allowWatchBookmarks: true}
      if (this.resourceVersion) query.resourceVersion = this.resourceVersion
      if (this.options.labelSelector) query.labelSelector = this.options.labelSelector
      if (this.options.fieldSelector) query.fieldSelector = this.options.fieldSelector
      let settled = false
      let silence: NodeJS.Timeout | undefined
      const settle = (value: 'closed' | 'gone' | 'error') => {
        if (settled) return
        settled = true
        clearTimeout(silence)
        resolve(value)
      }
      // Every event (bookmarks included) proves the connection alive; silence reopens the watch.
      const alive = () => {
        clearTimeout(silence)
        silence = setTimeout(() => {
          settle('closed')
          this.controller?.abort()
        }, this.options.silenceMs ?? WATCH_SILENCE_MS)
        silence.unref()
      }
      alive()
      watch
        .watch(
          this.options.path,
          query,
          (type: string, obj: KObject & {code?: number}) => {
            alive()
            if (type === 'ERROR') {
              settle(obj?.code === 410 ? 'gone' : 'error')
              this.controller?.abort()
              return
            }
            const rv = obj?.metadata?.resourceVersion
            if (rv) this.resourceVersion = rv
            if (type === 'BOOKMARK') return
            const item = {...obj, kind: this.options.kind}
            if (type === 'DELETED') this.objects.delete(this.key(item))
            else this.objects.set(this.key(item), item)
            this.options.onChange(type as 'ADDED' | 'MODIFIED' | 'DELETED', item)
          },
          (error: unknown) => {
            if (!error) return settle('closed')
            if (statusCode(error) === 410) return settle('gone')
            if (!this.stopped && (error as Error).name !== 'AbortError') this.options.onError?.(error)
            settle('error')
          },
        )
        .then((controller) => {
          this.controller = controller
          if (this.stopped || settled) controller.abort()
        })
        .catch((error: unknown) => {
          this.options.onError?.(error)
          settle('error')
        })
    })
  }
}

export interface WaitUntilOptions {
  deadline: number
  signal?: AbortSignal
}

/**
 * Resolves with true as soon as `done(objects)` holds for the watched collection, false at the
 * deadline. `done` is checked after the initial list and after every event.
 */
export async function watchUntil(kube: Kube, options: Omit<WatcherOptions, 'onChange'> & WaitUntilOptions & {done: (items: KObject[]) => boolean}): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let finished = false
    const finish = (value: boolean | Error) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      watcher.stop()
      if (value instanceof Error) reject(value)
      else resolve(value)
    }
    const watcher = new ListWatcher(kube, {
      ...options,
      onChange: () => {
        if (!finished && options.done(watcher.items)) finish(true)
      },
    })
    const timer = setTimeout(() => finish(false), Math.max(0, options.deadline - Date.now()))
    const onAbort = () => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'))
    if (options.signal?.aborted) return onAbort()
    options.signal?.addEventListener('abort', onAbort, {once: true})
    watcher.start().catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))))
  })
}
