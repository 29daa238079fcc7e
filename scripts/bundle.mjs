#!/usr/bin/env node
// `npm run build`: bundles the CLI with esbuild into dist/, as three CommonJS files:
//   cli.cjs            oclif, the help class and every command (`COMMANDS`: oclif's explicit
//                      command discovery, package.json `oclif.commands`)
//   kube-client.cjs    the cluster client, loaded only by commands that talk to the cluster
//   boot.cjs           what bin/run.js sets up first (src/boot.ts): the TLS trust and V8's code
//                      cache for the two others
// Node resolves and compiles every file of a module graph one by one: @oclif/core alone is ~100
// CommonJS files and @kubernetes/client-node ~2,600 ES modules, which cost a command about 0.1 s and
// 0.5 s of start-up. Bundled, a command loads two files. CommonJS, not ES modules, because Node 20
// lets code compiled for a script be cached (vm.Script's cachedData) but not for an ES module.
// Type checking is `npm run typecheck` (tsc); esbuild only strips the types.
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = path.join(root, 'src')
const dist = path.join(root, 'dist')

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

/** src/commands/env/check.ts → `env:check`, the id oclif gives a command file. */
const commands = tsFiles(path.join(src, 'commands'))
  .map((file) => ({id: path.relative(path.join(src, 'commands'), file).replace(/\.ts$/, '').split(path.sep).join(':'), file}))
  .sort((a, b) => a.id.localeCompare(b.id))

/** The entry of cli.cjs: src/cli.ts, and every command under its id. */
const cliEntry = [
  "export * from './cli.ts'",
  ...commands.map((c, i) => `import command${i} from ${JSON.stringify('./' + path.relative(src, c.file).split(path.sep).join('/'))}`),
  `export const COMMANDS = {${commands.map((c, i) => `${JSON.stringify(c.id)}: command${i}`).join(', ')}}`,
].join('\n')

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() of what is not bundled (oclif's loading of ES module plugins, which this CLI has none
  // of) becomes require(): V8's code cache drops a script's import() loader on Node 20, so a native
  // import() would work on the first run and fail on the next (src/util/compile-cache.ts).
  supported: {'dynamic-import': false},
  minify: !process.env.SHOPSYS_CI_NO_MINIFY,
  // Readable stack traces in an "unexpected error" report.
  keepNames: true,
  legalComments: 'eof',
  logLevel: 'warning',
}

await build({
  ...common,
  stdin: {contents: cliEntry, resolveDir: src, sourcefile: 'cli-entry.ts', loader: 'ts'},
  outfile: path.join(dist, 'cli.cjs'),
  // Optional dependencies of @oclif/core for running TypeScript sources; never used by the bundle.
  external: ['typescript', 'ts-node', 'tsx'],
  // The sources are ES modules: import.meta.url becomes this file's URL (paths next to it resolve
  // as before), and the branch that imports the client from node_modules (the tests) drops out.
  define: {SHOPSYS_CI_BUNDLED: 'true', 'import.meta.url': '__shopsysCiUrl'},
  banner: {js: "const __shopsysCiUrl = require('node:url').pathToFileURL(__filename).href;"},
})

await build({
  ...common,
  entryPoints: [path.join(src, 'kube/client-lib.ts')],
  outfile: path.join(dist, 'kube-client.cjs'),
  plugins: [nodeUrlForWhatwgUrl],
})

await build({
  ...common,
  entryPoints: [path.join(src, 'boot.ts')],
  outfile: path.join(dist, 'boot.cjs'),
})
