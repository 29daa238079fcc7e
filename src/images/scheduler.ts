/**
 * Runs jobs of a dependency graph with at most `limit` at once; a job starts when all its
 * dependencies have succeeded. After the first failure no new job starts (running ones finish), so
 * a failure never leaves work half done without the outcome saying which job reached which state.
 */

export type Outcome<T> =
  | {state: 'done'; value: T}
  | {state: 'failed'; error: unknown}
  /** Not started: a dependency failed, or the run stopped after another failure. */
  | {state: 'not-started'; reason: string}

export interface GraphNode {
  id: string
  deps: readonly string[]
}

export async function runGraph<T>(
  nodes: readonly GraphNode[],
  limit: number,
  job: (id: string) => Promise<T>,
): Promise<Map<string, Outcome<T>>> {
  const outcomes = new Map<string, Outcome<T>>()
  const pending = [...nodes]
  let running = 0
  let stopped = false

  return new Promise((resolve) => {
    const pump = () => {
      // Mark what can never start: dependents of failures (transitively), then, after a failure, the rest.
      for (let changed = true; changed; ) {
        changed = false
        for (let i = pending.length - 1; i >= 0; i--) {
          const node = pending[i]
          const failedDep = node.deps.find((d) => {
            const o = outcomes.get(d)
            return o !== undefined && o.state !== 'done'
          })
          if (failedDep) {
            outcomes.set(node.id, {state: 'not-started', reason: `depends on "${failedDep}", which did not finish`})
            pending.splice(i, 1)
            changed = true
          }
        }
      }
      if (stopped) {
        for (const node of pending) outcomes.set(node.id, {state: 'not-started', reason: 'stopped after another image failed'})
        pending.length = 0
      }
      // Start what is ready, in order.
      for (let i = 0; i < pending.length && running < limit; ) {
        const node = pending[i]
        if (node.deps.every((d) => outcomes.get(d)?.state === 'done')) {
          pending.splice(i, 1)
          running++
          job(node.id).then(
            (value) => finish(node.id, {state: 'done', value}),
            (error) => {
              stopped = true
              finish(node.id, {state: 'failed', error})
            },
          )
        } else {
          i++
        }
      }
      if (running === 0) {
        for (const node of pending) outcomes.set(node.id, {state: 'not-started', reason: 'its dependencies never finished'})
        pending.length = 0
        resolve(outcomes)
      }
    }
    const finish = (id: string, outcome: Outcome<T>) => {
      outcomes.set(id, outcome)
      running--
      pump()
    }
    pump()
  })
}
