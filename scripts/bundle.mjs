#!/usr/bin/env node
// `npm run build`: bundles the CLI with esbuild into dist/, one entry file per command (where the
// oclif manifest points) plus shared chunks. Node resolves and compiles every file of a module
// graph one by one: @oclif/core alone is ~100 CommonJS files and @kubernetes/client-node ~2,600 ES
// modules, which cost a command about 0.1 s and 0.5 s of start-up. Bundled, a command loads a few
// files; the client is a CommonJS file of its own (so that V8 can cache its compiled code), loaded
// only by commands that talk to the cluster.
// Type checking is `npm run typecheck` (tsc); esbuild only strips the types.
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = path.join(root, 'src')

/** Every `.ts` file below `dir`, recursively. */
const tsFiles = (dir) =>
  readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))

/**
 * node-fetch 2 (the client's HTTP layer) takes `URL` from Node's `url` module and falls back to the
 * `whatwg-url` package only where Node has none, which no Node >= 10 is; yet importing it compiles
 * its Unicode tables (~0.3 MB). Node's own `URL` stands in for it.
 */
const nodeUrlForWhatwgUrl = {
  name: 'node-url-for-whatwg-url',
  setup(b) {
    b.onResolve({filter: /^whatwg-url$/}, () => ({path: 'whatwg-url', namespace: 'node-url'}))
    b.onLoad({filter: /.*/, namespace: 'node-url'}, () => ({contents: 'export const URL = globalThis.URL; export default {URL}', loader: 'js'}))
  },
}

await build({
  // The commands (oclif imports them by path), the help class, and bin/run.js's entry: all share
  // one copy of @oclif/core, as the chunks they import are the same files.
  entryPoints: [...tsFiles(path.join(src, 'commands')), path.join(src, 'help.ts'), path.join(src, 'cli.ts')],
  outbase: src,
  outdir: path.join(root, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Readable stack traces in an "unexpected error" report.
  keepNames: true,
  legalComments: 'eof',
  // Optional dependencies of @oclif/core for running TypeScript sources; never used by the bundle.
  external: ['typescript', 'ts-node', 'tsx'],
  define: {SHOPSYS_CI_BUNDLED: 'true'},
  plugins: [nodeUrlForWhatwgUrl],
  // The CommonJS dependencies (@oclif/core, node-fetch, ws, ...) call require() for Node's built-ins.
  banner: {js: "import {createRequire as __shopsysCiRequire} from 'node:module'; const require = __shopsysCiRequire(import.meta.url);"},
  logLevel: 'warning',
})

// The cluster client on its own, as CommonJS: src/kube/client.ts loads it through V8's code cache
// (src/util/compile-cache.ts), which Node 20 offers for scripts but not for ES modules.
await build({
  entryPoints: [path.join(src, 'kube/client-lib.ts')],
  outfile: path.join(root, 'dist/kube-client.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'eof',
  plugins: [nodeUrlForWhatwgUrl],
  logLevel: 'warning',
})
