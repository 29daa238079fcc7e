/**
 * A process-wide cache filled by a worker thread while the main thread loads the CLI, on the other
 * core of the agent: what a command would otherwise compute on its main thread, the first time.
 *
 * - For a command about to connect to the cluster, Node's root certificates (tls-trust.ts): Node
 *   parses them once per process (35–45 ms), behind a lock.
 * - For the others, ICU's collation data: the first `localeCompare` of a process opens ICU's root
 *   collator (10–40 ms here), and oclif sorts the commands with it in every command. ICU caches
 *   collators for the whole process, so the main thread's call finds it ready.
 *
 * One or the other: a worker takes 35–50 ms to start, so it has done one of them by the time oclif
 * sorts (about 90 ms in); with both, either the collator came too late for oclif or the roots were
 * still being parsed, behind their lock, when the build's first connection needed them (the check
 * stage 117 → 145 ms in interleaved builds).
 *
 * bin/run.js starts it first thing. The worker never holds the process; its failure changes nothing
 * but the time.
 */
import createDebug from 'debug'
import {Worker} from 'node:worker_threads'

const debug = createDebug('shopsys-ci:prewarm')

/** Pure: the worker's code (CommonJS, `eval`). */
export function prewarmCode(options: {rootCertificates: boolean}): string {
  return options.rootCertificates ? "require('node:tls').createSecureContext({})" : "'a'.localeCompare('b')"
}

export function prewarmProcessCaches(options: {rootCertificates: boolean}): void {
  try {
    // The worker's own modules are Node's, untouched by this process's (tls-trust.ts patches `tls`).
    const worker = new Worker(prewarmCode(options), {eval: true})
    worker.on('error', (error) => debug('the worker failed: %s', error.message))
    worker.on('exit', () => debug('%s ready', options.rootCertificates ? 'root certificates' : 'collation'))
    worker.unref()
  } catch (error) {
    debug('no worker: %s', (error as Error).message)
  }
}
