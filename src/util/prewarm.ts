/**
 * Process-wide caches filled by a worker thread while the main thread loads the CLI, on the other
 * core of the agent: what a command would otherwise compute on its main thread, the first time.
 *
 * - ICU's collation data: the first `localeCompare` of a process opens ICU's root collator (10–40 ms
 *   here), and oclif sorts the commands with it in every command. ICU caches collators for the
 *   whole process, so the main thread's first call finds it ready.
 * - Node's root certificates (tls-trust.ts), for a command about to connect to the cluster: Node
 *   parses them once per process (35–45 ms), behind a lock.
 *
 * bin/run.js starts it first thing. The worker never holds the process; its failure changes nothing
 * but the time.
 */
import createDebug from 'debug'
import {Worker} from 'node:worker_threads'

const debug = createDebug('shopsys-ci:prewarm')

/** Pure: the worker's code (CommonJS, `eval`). */
export function prewarmCode(options: {rootCertificates: boolean}): string {
  return ["'a'.localeCompare('b')", ...(options.rootCertificates ? ["require('node:tls').createSecureContext({})"] : [])].join('\n')
}

export function prewarmProcessCaches(options: {rootCertificates: boolean}): void {
  try {
    // The worker's own modules are Node's, untouched by this process's (tls-trust.ts patches `tls`).
    const worker = new Worker(prewarmCode(options), {eval: true})
    worker.on('error', (error) => debug('the worker failed: %s', error.message))
    worker.on('exit', () => debug('collation%s ready', options.rootCertificates ? ' and root certificates' : ''))
    worker.unref()
  } catch (error) {
    debug('no worker: %s', (error as Error).message)
  }
}
