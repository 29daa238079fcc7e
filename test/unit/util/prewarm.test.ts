import {Worker} from 'node:worker_threads'

import test from 'ava'

import {prewarmCode} from '../../../src/util/prewarm.js'

/** Runs `code` as prewarmProcessCaches does; resolves with the worker's exit code. */
function runInWorker(code: string): Promise<number> {
  return new Promise((resolve, reject) => new Worker(code, {eval: true}).on('error', reject).on('exit', resolve))
}

test('the worker parses the root certificates when asked to, else opens the collator', async (t) => {
  const plain = prewarmCode({rootCertificates: false})
  const withRoots = prewarmCode({rootCertificates: true})
  t.regex(plain, /localeCompare/)
  t.notRegex(plain, /createSecureContext/)
  t.regex(withRoots, /createSecureContext/)
  t.notRegex(withRoots, /localeCompare/)
  // The code runs as a worker's CommonJS script, as Node gives it.
  t.is(await runInWorker(plain), 0)
  t.is(await runInWorker(withRoots), 0)
})
