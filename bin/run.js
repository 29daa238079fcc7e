#!/usr/bin/env node
// The compiled CLI: dist/ is the esbuild bundle `npm run build` makes (scripts/bundle.mjs). Its files
// are compiled with V8's code cache (src/util/compile-cache.ts), installed before the first of them loads.
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const require = createRequire(import.meta.url)
const {compileCacheDir, installCompileCache} = require('../dist/compile-cache.cjs')
installCompileCache(fileURLToPath(new URL('../dist/', import.meta.url)), compileCacheDir())
const {execute} = require('../dist/cli.cjs')

await execute({dir: import.meta.url})
