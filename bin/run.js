#!/usr/bin/env node
// The compiled CLI: dist/ is the esbuild bundle `npm run build` makes (scripts/bundle.mjs). Before the
// first of its files loads: the TLS trust (src/util/tls-trust.ts: NODE_EXTRA_CA_CERTS deferred by
// bin/shopsys-ci, the root certificates parsed aside) and V8's code cache (src/util/compile-cache.ts).
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const require = createRequire(import.meta.url)
const {compileCacheDir, installCompileCache, setUpTlsTrust} = require('../dist/boot.cjs')
setUpTlsTrust(process.argv.slice(2))
installCompileCache(fileURLToPath(new URL('../dist/', import.meta.url)), compileCacheDir())
const {execute} = require('../dist/cli.cjs')

await execute({dir: import.meta.url})
