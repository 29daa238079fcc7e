#!/usr/bin/env node
// The compiled CLI: dist/ is the esbuild bundle `npm run build` makes (scripts/bundle.mjs).
import {execute} from '../dist/cli.js'

await execute({dir: import.meta.url})
