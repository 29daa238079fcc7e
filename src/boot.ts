/**
 * What bin/run.js loads before the CLI, as dist/boot.cjs: the TLS trust set-up (util/tls-trust.ts)
 * and V8's code cache (util/compile-cache.ts) that compiles dist/cli.cjs and dist/kube-client.cjs.
 */
export {compileCacheDir, installCompileCache} from './util/compile-cache.js'
export {setUpTlsTrust} from './util/tls-trust.js'
