/**
 * What bin/run.js loads before the CLI, as dist/boot.cjs: the TLS trust set-up (util/tls-trust.ts),
 * the caches a worker fills meanwhile (util/prewarm.ts), and V8's code cache (util/compile-cache.ts)
 * that compiles dist/cli.cjs and dist/kube-client.cjs.
 */
export {compileCacheDir, installCompileCache} from './util/compile-cache.js'
export {prewarmProcessCaches} from './util/prewarm.js'
export {setUpTlsTrust} from './util/tls-trust.js'
