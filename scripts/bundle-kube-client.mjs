#!/usr/bin/env node
// Bundles @kubernetes/client-node into one file, dist/vendor/kubernetes-client-node.js, which
// src/kube/client.ts loads in the compiled CLI. The package is ~2,600 ES modules; Node resolves and
// compiles each one, so importing it cost about half a second on every command that talks to the
// cluster. One minified file loads in a quarter of that. Run by `npm run build`.
import {build} from 'esbuild'
import {fileURLToPath} from 'node:url'

const out = fileURLToPath(new URL('../dist/vendor/kubernetes-client-node.js', import.meta.url))
await build({
  stdin: {contents: "export * from '@kubernetes/client-node'", resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'js'},
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  legalComments: 'eof',
  outfile: out,
  // The CommonJS dependencies (node-fetch, ws, ...) call require() for Node's built-ins.
  banner: {js: "import {createRequire as __shopsysCiRequire} from 'node:module'; const require = __shopsysCiRequire(import.meta.url);"},
  logLevel: 'warning',
})
